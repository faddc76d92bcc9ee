"""Scale on PostgreSQL: ``andon up`` on N pipelines x D daily partitions made (10,000 x 30).

A throw-away PostgreSQL server is started as the tests start one (``tests/pg.py``). The layered
project of ``bench_memory`` (20 daily sources, N no-op pipelines in layers), plus a probe: one
daily source ``probe`` and one no-op pipeline ``probe_down`` in a pool of its own, so that a
notify's run never waits for the line's slots. Its history is made by the engine core
(``benchprojects.generate_history``: the engine decides, ``Store.append`` records) into a SQLite
store, then copied whole into PostgreSQL (``pgcopy``: one COPY per table).

1. A first ``andon up`` replays the whole log (no snapshot yet: the start-up of before, for
   reference); one notify commits a turn, after which it writes its engine-state snapshot (the
   log is longer than ``snapshot_every``); it is stopped once the snapshot is in the store.
2. A second ``andon up`` starts from the snapshot. Measured: start-up until ``/api/v1/health``
   answers (target < 10 s); its memory (VmRSS, VmHWM) once settled (target < 500 MB); and the
   notify -> run started time of probe partitions, one after another (each once the previous
   run ended): the response time of ``POST /api/v1/notify``, whose turn commits the notify and
   the ``run.started`` it implies in one transaction before the response is sent (target p99
   < 50 ms).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    REPO,
    Result,
    Server,
    enable_bytecode,
    figure,
    http_json,
    kib,
    percentile,
    proc_status,
    settle,
    summary_stats,
)
from benchprojects import generate_history, layered_definitions, scratch, write_project
from pgcopy import copy_store

START_TARGET_S = 10.0
RSS_TARGET_MB = 500.0
P99_TARGET_MS = 50.0
PROBE = '''
andon.source("probe", partitions="daily")
andon.pipeline("probe_down", inputs=["probe"], outputs=["probe_out"], pool="probe")(noop)
'''


def postgres() -> Any:
    """A throw-away PostgreSQL server (tests/pg.py)."""
    sys.path.insert(0, str(REPO))
    from tests.pg import PostgresServer

    return PostgresServer().start()


def _memory(pid: int) -> dict[str, float]:
    status = proc_status(pid)
    return {"VmRSS_mb": kib(status["VmRSS"]) / 1024, "VmHWM_mb": kib(status["VmHWM"]) / 1024}


def _snapshots(url: str) -> int:
    from andon.store import snapshots
    from andon.store.sql import Store

    store = Store(url)
    try:
        return len(snapshots.count(store))
    finally:
        store.close()


def _wait_ended(url: str, key: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = http_json("GET", f"{url}/api/v1/runs?pipeline=probe_down&partition={key}&limit=1")
        if runs and runs[0]["status"] in ("succeeded", "failed", "cancelled"):
            return
        time.sleep(0.02)
    raise RuntimeError(f"the probe run of {key} did not end within {timeout:g}s")


def notify_ms(server: Server, url: str, keys: list[str]) -> list[float]:
    token = server.token()
    out = []
    for key in keys:
        t0 = time.perf_counter()
        reply = http_json("POST", url + "/api/v1/notify", {"asset": "probe", "partition": key},
                          token)
        out.append((time.perf_counter() - t0) * 1000)
        if not reply.get("recorded", True):
            raise RuntimeError(f"notify of probe {key} was not recorded: {reply}")
        _wait_ended(url, key)
    return out


def made_on_postgres(root: Path, url: str, days: int, history: Path | None) -> dict[str, Any]:
    """Make ``days`` days of the project at ``root`` into a SQLite store through the store's own
    append path (``generate_history``), copy it whole into the PostgreSQL store at ``url``
    (``pgcopy``: far faster than a round trip per projection statement) and point the project at
    ``url``; what was generated and copied. ``history``: the SQLite store to make it in and keep
    (with what was generated beside it, ``.json``), or to copy from as it is when it exists
    (made earlier for the same project and days)."""
    toml = root / "andon.toml"
    text = toml.read_text()
    made = history or root / "history.db"
    told = made.with_suffix(".json")
    if history is not None and made.exists() and told.exists():
        generated = json.loads(told.read_text())
        print(f"  {generated['events']:,} events ({generated['runs']:,} runs) of {made}",
              flush=True)
    else:
        toml.write_text(text + f'\n[settings]\ndatabase_url = "sqlite:///{made}"\n')
        generated = generate_history(root, days)
        told.write_text(json.dumps(generated))
        print(f"  generated {generated['events']:,} events ({generated['runs']:,} runs) in "
              f"{generated['generate_s']:.0f} s", flush=True)
    copied = copy_store(f"sqlite:///{made}", url)
    print(f"  copied to PostgreSQL in {copied['copy_s']:.0f} s", flush=True)
    toml.write_text(text + f'\n[settings]\ndatabase_url = "{url}"\n')
    if history is None:
        made.unlink()
    return {**generated, **copied}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--history", type=Path, help="a SQLite file to make the history in and "
                        "keep, or to copy it from when it exists (to measure again quickly)")
    args = parser.parse_args()
    enable_bytecode()
    result = Result("scale_pg", f"andon up on PostgreSQL with {args.pipelines:,} pipelines x "
                    f"{args.days} daily partitions made: start-up from a snapshot, memory, "
                    "notify -> run started")
    server = postgres()
    try:
        url = server.create_database("scale")
        with scratch("scale-pg", args.keep) as root:
            write_project(root, layered_definitions(args.pipelines, PROBE),
                          {"default": 8, "probe": 1})
            generated = made_on_postgres(root, url, args.days, args.history)
            first_day = date(2026, 1, 1) + timedelta(days=args.days + 10)
            keys = [(first_day + timedelta(days=i)).isoformat() for i in range(args.probes + 1)]

            with Server(root) as up:  # the log replayed whole: no snapshot yet
                base = up.wait_ready(timeout=3600)
                replay_s = up.ready_seconds
                replay_mem = _memory(up.pid)
                notify_ms(up, base, keys[:1])  # a committed turn: the snapshot follows it
                deadline = time.monotonic() + 600
                while not _snapshots(url) and time.monotonic() < deadline:
                    time.sleep(0.5)
            print(f"  first start (whole log replayed) {replay_s:.1f} s, "
                  f"{replay_mem['VmHWM_mb']:.0f} MB", flush=True)

            with Server(root) as up:  # from the snapshot
                base = up.wait_ready(timeout=3600)
                ready_s = up.ready_seconds
                settle(up.pid)
                after_start = _memory(up.pid)
                samples = notify_ms(up, base, keys[1:])
                after = _memory(up.pid)
    finally:
        server.stop()

    result.add(
        figure("start-up of andon up from its snapshot until the API answers", ready_s, "s",
               START_TARGET_S),
        figure("memory of andon up (VmHWM, after start-up and the notifies)", after["VmHWM_mb"],
               "MB", RSS_TARGET_MB),
        figure("notify -> run started committed, p99", percentile(samples, 99), "ms",
               P99_TARGET_MS),
        figure("notify -> run started committed, p50", percentile(samples, 50), "ms"),
        figure("start-up replaying the whole log (no snapshot; reference)", replay_s, "s"),
        figure("memory of andon up replaying the whole log (VmHWM; reference)",
               replay_mem["VmHWM_mb"], "MB"),
    )
    result.details = {"generation": generated, "pipelines": args.pipelines, "days": args.days,
                      "after_start": after_start, "after_notifies": after,
                      "notify_ms": summary_stats(samples), "probes": args.probes,
                      "unit": "MB = MiB (kB / 1024)"}
    print(f"ready in {ready_s:.1f} s from the snapshot ({replay_s:.1f} s replaying the log), "
          f"{after['VmHWM_mb']:.0f} MB, notify p99 {percentile(samples, 99):.1f} ms "
          f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
