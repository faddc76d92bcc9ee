"""The drift benchmark's figures through andon's real paths (``bench_drift.py`` calls these):

(d) **Profiling inside the run.** A pipeline function writes a ``rows`` x ``columns`` float64
partition as CSV (pandas ``to_csv``) and is run by ``andon.executors.execute.run_spec``, the
function both executors run (in-process, and in the run's own process for the local and fork
server executors), with its output profiled (``RunSpec.profiles``) and without. The profile's
cost is what the run does after the function returns with it on, less the same with it off
(reading the CSV back with pandas ``read_csv`` and profiling it against the data set's pinned
edges: the second profiled run; the first pins them); the share is that over the profiled run's
wall time. The data set's edges are pinned before (as the first profiled run of a data set
would); the run without the profile keeps the file the profiled run wrote (only its time after
the function returns is used), so the CSV is written once.

(e) **The heat map page.** ``andon up --executor inprocess`` on a project with ``partitions``
daily partitions of ``columns`` profiled columns (``part_rows`` rows each): every partition
notified through the API and written by its run (whose drift report the drift keeper computes
and keeps as it succeeds), then ``GET /assets/feat`` (the data set's page with its heat map):
**warm**: p50 and p95 of ``page_repeats`` requests to that server; **cold**: the first request
to a server started again on the same project (the reports kept in the store, none in
memory), p50 over ``cold_restarts`` restarts; and for information the first request after the
kept reports are dropped (``drift_reports`` emptied: every report computed from the profiles'
bins).
"""

from __future__ import annotations

import sqlite3
import statistics
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchlib import Http, Result, Server, figure, http_json, percentile

PAGE_P50_MAX_S = 0.5
COLD_MAX_S = 2.0


def in_run(rows: int, columns: int, tmp: Path, result: Result, share_max: float) -> None:
    import numpy as np
    import pandas as pd

    from andon.drift.codec import dumps
    from andon.drift.profile import profile
    from andon.executors.base import RunSpec
    from andon.executors.execute import run_spec

    block = np.random.default_rng(1).normal(size=(rows, columns))
    names = [f"f{i}" for i in range(columns)]

    def write(ctx: Any) -> None:
        path = ctx.output("part")
        if not reuse or not Path(path).is_file():
            pd.DataFrame(block, columns=names).to_csv(path, index=False)

    reuse = False

    project = tmp / "inrun"
    project.mkdir()
    out = str(project / "data" / "part.csv")
    (project / "data").mkdir()
    edges = project / ".andon/profiles/part/edges.json"
    edges.parent.mkdir(parents=True)
    edges.write_text(dumps(profile({n: block[:, i] for i, n in enumerate(names)})))

    def run(n: int, profiled: bool) -> tuple[float, float]:
        """(wall seconds of run_spec, of which after the function returned)."""
        profiles = {"part": {"columns": [], "auto": False, "edges": str(edges)}}
        spec = RunSpec(f"r{n}", "writer", "2026-01-01", 1, str(project),
                       str(project / ".andon/runs" / f"r{n}"), outputs={"part": out},
                       profiles=profiles if profiled else {})
        t0 = time.perf_counter()
        res = run_spec(spec, lambda _name: write)
        seconds = time.perf_counter() - t0
        assert res.ok, res.error_message
        assert bool(res.profiles) == profiled
        return seconds, seconds - res.work_seconds

    on, on_after = run(1, True)
    # the run without the profile is only timed after its function returns (fingerprinting the
    # same file), so it keeps the file the first run wrote: one 1M-row CSV write, not two
    reuse = True
    off, off_after = run(2, False)
    # the profile's cost: what the run does after the function returns (fingerprint the
    # output, then read it back and profile it) with the profile on, less the same with it
    # off; writing 50M cells as CSV varies by tens of seconds between runs, this does not
    profile_s = on_after - off_after
    share = profile_s / on
    result.add({**figure(f"profiling share of a real run writing {rows:,} x {columns} float64 "
                         "as CSV (run_spec, profile on vs off)", share * 100, "%"),
                "target": share_max * 100, "pass": share <= share_max,
                "note": "(after-return time on - off) / run wall time on; the profile reads "
                        "the CSV back (pandas read_csv) and is built against the pinned edges"})
    result.details["in_run"] = {
        "rows": rows, "columns": columns, "run_s": {"off": round(off, 2), "on": round(on, 2)},
        "after_return_s": {"off": round(off_after, 2), "on": round(on_after, 2)},
        "profile_s": round(profile_s, 2)}
    print(f"(d) run off {off:.1f} s, on {on:.1f} s; after return off {off_after:.2f} s, on "
          f"{on_after:.2f} s -> profile {profile_s:.2f} s, share "
          f"{share:.1%}", flush=True)


PIPELINES = '''
    import numpy as np
    import pandas as pd
    import andon

    andon.source("raw", location="landing/{{partition}}.txt")

    @andon.pipeline(inputs=["raw"], outputs=["feat"],
                    locations={{"feat": "data/feat/{{partition}}.csv"}})
    def make(ctx):
        day = int(ctx.inputs["raw"].read_text())
        rng = np.random.default_rng(day)
        shift = 1.0 if day % 30 == 29 else 0.0
        frame = pd.DataFrame(rng.normal(shift, 1.0, size=({rows}, {columns})),
                             columns=[f"c{{i}}" for i in range({columns})])
        frame.to_csv(ctx.output("feat"), index=False)

    andon.profile("feat", columns=[f"c{{i}}" for i in range({columns})], reference="window:7")
'''


def heat_page(partitions: int, columns: int, part_rows: int, repeats: int, cold_restarts: int,
              tmp: Path, result: Result) -> None:
    root = tmp / "heat"
    (root / "landing").mkdir(parents=True)
    start = date(2025, 1, 1)
    days = [(start + timedelta(days=i)).isoformat() for i in range(partitions)]
    (root / "andon.toml").write_text(
        f'[project]\nname = "heat"\ndefinitions = ["pipelines.py"]\nstart = "{days[0]}"\n'
        f'end = "{days[-1]}"\n\n[pools]\ndefault = 1\n')
    (root / "pipelines.py").write_text(textwrap.dedent(PIPELINES.format(rows=part_rows,
                                                                        columns=columns)))
    for i, day in enumerate(days):
        (root / "landing" / f"{day}.txt").write_text(str(i))
    with Server(root, "--executor", "inprocess") as server:
        url = server.wait_ready()
        token = server.token()
        t0 = time.perf_counter()
        for day in days:
            http_json("POST", url + "/api/v1/notify", {"asset": "raw", "partition": day}, token)
        written = root / ".andon" / "runs"
        while len(list(written.glob("*/profiles/feat.json"))) < partitions:
            time.sleep(1.0)
        while not _recorded(url, token, days[-1]):  # the last run's success is in the store
            time.sleep(0.5)
        made_s = time.perf_counter() - t0
        while _kept(root) < partitions:  # the drift keeper's reports
            time.sleep(0.5)
        kept_s = time.perf_counter() - t0
        http = Http(url)
        status, _, body, _seconds = http.get("/assets/feat", gzip=False)
        assert status == 200 and b'id="drift-feat"' in body, status
        page_bytes = len(body)
        times = []
        for _ in range(repeats):
            status, _, body, seconds = http.get("/assets/feat")
            assert status == 200
            times.append(seconds)
        http.close()
    colds = [_first(root) for _ in range(max(cold_restarts, 1))]
    with sqlite3.connect(root / ".andon" / "andon.db") as db:  # the cache is safe to drop
        db.execute("DELETE FROM drift_reports")
    uncached = _first(root)
    p50, cold = statistics.median(times), statistics.median(colds)
    what = f"{partitions} partitions x {columns} columns"
    result.add({**figure(f"data set page with its drift heat map, {what} (p50, warm)", p50, "s",
                         PAGE_P50_MAX_S)},
               figure("the same, p95 (warm)", percentile(times, 95), "s"),
               {**figure(f"the same page, first request after a restart (cold: reports kept in "
                         f"the store), p50 of {len(colds)} restarts", cold, "s", COLD_MAX_S),
                "note": "the drift keeper computed each report as its run succeeded"},
               figure("the same, first request after a restart with the kept reports dropped",
                      uncached, "s", note="for information: every report computed from the "
                                          "profiles' bins only (no samples decoded, no KS)"))
    result.details["heat_page"] = {"partitions": partitions, "columns": columns,
                                   "rows_per_partition": part_rows, "runs_s": round(made_s, 1),
                                   "reports_kept_s": round(kept_s, 1),
                                   "cold_first_s": [round(t, 3) for t in colds],
                                   "uncached_first_s": round(uncached, 3),
                                   "page_bytes": page_bytes, "page_bytes_gzip": len(body),
                                   "times_s": [round(t, 4) for t in times]}
    print(f"(e) heat page warm p50 {p50 * 1000:.0f} ms, cold {cold:.2f} s, reports dropped "
          f"{uncached:.2f} s ({len(body):,} bytes gzipped)", flush=True)


def _first(root: Path) -> float:
    """The first answer of ``/assets/feat`` from a server started anew on ``root``."""
    with Server(root, "--executor", "inprocess") as server:
        http = Http(server.wait_ready())
        status, _, _, seconds = http.get("/assets/feat")
        http.close()
    assert status == 200, status
    return float(seconds)


def _kept(root: Path) -> int:
    try:
        with sqlite3.connect(root / ".andon" / "andon.db", timeout=10) as db:
            found = db.execute("SELECT count(DISTINCT partition) FROM drift_reports "
                               "WHERE asset = 'feat' AND tested = 1").fetchone()
    except sqlite3.OperationalError:  # no table yet, or busy
        return 0
    return int(found[0])


def _recorded(url: str, token: str, partition: str) -> bool:
    try:
        http_json("GET", url + f"/api/v1/drift/feat?partition={partition}", token=token)
    except Exception:  # 404 until the run is recorded  # noqa: BLE001
        return False
    return True
