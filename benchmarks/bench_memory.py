"""Memory bounded by the present: the engine over a year, and ``andon up`` on a month of history.

*A year through the engine* (``engineyear``): 365 simulated days of 1,000 daily pipelines (the
layered project below) through the engine core with a fake clock, snapshots every
``snapshot_every`` events and the settled days out of memory, as ``andon up`` does it. The
engine's memory (deep size of the engine state and the planner's learned statistics) is sampled
at the end of each of days 21-30 and 356-365; the figure is the largest of the last ten days over
the largest of days 21-30 (snapshots come every few days, so the state breathes between two of
them: comparing the same phase of that breath, the peaks, is fair). For reference, the same 30
days with nothing leaving memory (``snapshot_every = 0``, as andon was before).

*Peak memory (VmHWM) of ``andon up``* with 1,000 pipelines x 30 daily partitions made:

The project has 20 daily sources and 1,000 no-op pipelines in layers (pipeline i reads the output of
pipeline i-20, and every fourth one also that of pipeline i-1; the first 20 read a source each). The
log is written straight into the store, without running anything (``benchlib.generate_history``:
the pure engine core is fed each source partition and each run's end, exactly as the live runner
would, and the events it produces are appended with ``Store.append``). Then a real ``andon up``
starts on it (replaying the whole log), settles, and answers the status API and page once; VmHWM
is read from /proc/PID/status at each step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import Result, Server, cpu_seconds, enable_bytecode, figure, http_json, kib, proc_status, settle
from benchprojects import LAYER_SOURCES, NOOP_HEADER, made_history, scratch, write_project
from engineyear import year

TARGET_MB = 200.0
FLAT_TARGET = 1.10  # memory after a year at most 10 % above memory after 30 days
EARLY, LATE = set(range(21, 31)), set(range(356, 366))


def _memory(pid: int) -> dict[str, float]:
    status = proc_status(pid)
    return {"VmHWM_mb": kib(status["VmHWM"]) / 1024, "VmRSS_mb": kib(status["VmRSS"]) / 1024}


def measure_up(root: Path, queries: bool) -> dict[str, Any]:
    with Server(root) as server:
        url = server.wait_ready(timeout=300)
        out: dict[str, Any] = {"ready_s": server.ready_seconds}
        out["settle_s"] = settle(server.pid)
        out["after_start"] = _memory(server.pid)
        if queries:
            t0 = time.perf_counter()
            status = http_json("GET", url + "/api/v1/status", timeout=120)
            http_json("GET", url + "/api/v1/runs?limit=1000", timeout=120)
            out["queries_s"] = time.perf_counter() - t0
            out["status_pipelines"] = len(status["pipelines"])
            out["after_queries"] = _memory(server.pid)
        out["cpu_s"] = cpu_seconds(server.pid)
        out["peak_mb"] = _memory(server.pid)["VmHWM_mb"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--year-pipelines", type=int, default=1000)
    parser.add_argument("--snapshot-every", type=int, default=10_000)
    args = parser.parse_args()
    enable_bytecode()
    from andon.live.snapshots import KEEP_DAYS

    result = Result("memory", f"engine memory over 365 days of {args.year_pipelines} daily "
                    "pipelines (snapshots, settled days out of memory), and peak memory (VmHWM) "
                    f"of `andon up` with {args.pipelines} pipelines x {args.days} daily "
                    "partitions made (start-up from the log)")

    with scratch("memory-year", args.keep) as root:
        lean = year(root, args.year_pipelines, max(LATE), args.snapshot_every, EARLY | LATE,
                    KEEP_DAYS)
    with scratch("memory-month", args.keep) as root:
        full = year(root, args.year_pipelines, max(EARLY), 0, {max(EARLY)}, KEEP_DAYS)
    early = max(lean["marks"][d]["engine_mb"] for d in EARLY)
    late = max(lean["marks"][d]["engine_mb"] for d in LATE)

    with scratch("memory", args.keep) as root, scratch("memory-base") as base:
        generated = made_history(root, args.pipelines, args.days)
        db = root / ".andon" / "andon.db"
        db_mb = sum(f.stat().st_size for f in db.parent.glob("andon.db*")) / 2**20
        loaded = measure_up(root, queries=True)
        # the same server on a project with one pipeline and an empty log: the fixed cost
        write_project(base, NOOP_HEADER + '\nandon.source("src")\n'
                      'andon.pipeline("p", inputs=["src"], outputs=["a"])(noop)\n', {"default": 4})
        baseline = measure_up(base, queries=False)

    result.add(
        figure(f"engine memory after 365 days of {args.year_pipelines} daily pipelines over "
               "after 30 days (largest of the last ten days each)", late / early, "x",
               FLAT_TARGET),
        figure("engine memory after 30 days (largest of days 21-30)", early, "MB"),
        figure("engine memory after 365 days (largest of days 356-365)", late, "MB"),
        figure("engine memory after 30 days with nothing leaving memory (reference)",
               full["marks"][max(EARLY)]["engine_mb"], "MB"),
        figure(f"peak memory of andon up, {args.pipelines} pipelines x {args.days} partitions "
               "made", loaded["peak_mb"], "MB", TARGET_MB),
        figure("peak memory of andon up, one pipeline and an empty log (reference)",
               baseline["peak_mb"], "MB"),
        figure("start-up until the API answers, with that log", loaded["ready_s"], "s"),
    )
    result.details = {"year": lean, "month_keeping_everything": full,
                      "snapshot_every": args.snapshot_every, "keep_days": KEEP_DAYS,
                      "loaded": loaded, "baseline": baseline, "generation": generated,
                      "database_mb": db_mb,
                      "sources": LAYER_SOURCES, "pipelines": args.pipelines, "days": args.days,
                      "unit": "MB = MiB (VmHWM kB / 1024)"}
    print(f"engine {early:.1f} MB after 30 days, {late:.1f} MB after 365 ({late / early:.2f}x); "
          f"peak {loaded['peak_mb']:.1f} MB (baseline {baseline['peak_mb']:.1f} MB), ready in "
          f"{loaded['ready_s']:.1f} s -> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
