"""Peak memory (VmHWM) of ``andon up`` with 1,000 pipelines x 30 daily partitions made.

The project has 20 daily sources and 1,000 no-op pipelines in layers (pipeline i reads the output of
pipeline i-20, and every fourth one also that of pipeline i-1; the first 20 read a source each). The
log is written straight into the store, without running anything: the pure engine core
(``andon.engine.core.handle``) is fed each source partition and each run's end, exactly as the live
runner would, and the events it produces are appended with ``Store.append`` (so the read models
are filled as well). Then a real ``andon up`` starts on it (replaying the whole log), settles, and
answers the status API and page once; VmHWM is read from /proc/PID/status at each step.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    NOOP_HEADER,
    Result,
    Server,
    cpu_seconds,
    enable_bytecode,
    figure,
    http_json,
    kib,
    proc_status,
    write_project,
)

TARGET_MB = 200.0
SOURCES = 20


def definitions(n: int) -> str:
    return NOOP_HEADER + f'''

for s in range({SOURCES}):
    andon.source(f"s{{s:02d}}", partitions="daily")
for i in range({n}):
    if i < {SOURCES}:
        inputs = [f"s{{i:02d}}"]
    else:
        inputs = [f"a{{i - {SOURCES}:04d}}"] + ([f"a{{i - 1:04d}}"] if i % 4 == 0 else [])
    andon.pipeline(f"p{{i:04d}}", inputs=inputs, outputs=[f"a{{i:04d}}"])(noop)
'''


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def generate_log(root: Path, days: int, batch: int = 5000) -> dict[str, Any]:
    """Make every partition of every day by driving the engine core; append the events."""
    from andon.engine.core import handle
    from andon.engine.state import EngineState
    from andon.events import OutputWritten, PartitionAvailable, RunLaunched, RunStarted, RunSucceeded
    from andon.project import load_project
    from andon.settings import resolve
    from andon.store.sql import Store

    project = load_project(root)
    graph = project.graph
    settings = resolve(project.root, {}, {}, project.settings_table)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    state = EngineState()
    pending: list[Any] = []
    counts = {"events": 0, "runs": 0, "append_s": 0.0}

    def flush(force: bool = False) -> None:
        if pending and (force or len(pending) >= batch):
            t0 = time.perf_counter()
            stored = store.append(pending)
            counts["append_s"] += time.perf_counter() - t0
            counts["events"] += len(stored)
            pending.clear()

    def feed(event: Any, now: datetime) -> list[Any]:
        pending.append(event)
        out = handle(graph, state, event, now)
        pending.extend(out.events)
        flush()
        return [e for e in out.events if isinstance(e, RunStarted)]

    t_start = time.perf_counter()
    first = project.start
    pid = 100_000
    for d in range(days):
        key = (first + timedelta(days=d)).strftime("%Y-%m-%d")
        now = first + timedelta(days=d + 1, hours=1)
        started: list[Any] = []
        for s in range(SOURCES):
            asset = f"s{s:02d}"
            started += feed(PartitionAvailable(
                id=f"notify:{asset}:{key}", at=now, asset=asset, partition=key, origin="notify",
                location=f"data/{asset}/{key}", size_bytes=1000,
                fingerprint=_fingerprint(asset, key)), now)
        while started:
            run = state.runs[started.pop(0).run_id]
            now += timedelta(milliseconds=50)
            pid += 1
            run_dir = settings.state_dir / "runs" / run.run_id
            feed(RunLaunched(id=f"launched:{run.run_id}:{pid}", at=now, run_id=run.run_id,
                             pid=pid, log_path=str(run_dir / "log.txt")), now)
            now += timedelta(seconds=2)
            outputs = tuple(OutputWritten(out, run.partition, f"data/{out}/{run.partition}", 1000,
                                          10, _fingerprint(out, run.partition))
                            for out in graph.pipelines[run.pipeline].outputs)
            started += feed(RunSucceeded(
                id=f"ended:{run.run_id}", at=now, run_id=run.run_id, pipeline=run.pipeline,
                partition=run.partition, attempt=run.attempt, queue_seconds=0.0,
                startup_seconds=0.05, work_seconds=2.0, exit_code=0, inputs=run.inputs,
                outputs=outputs), now)
            counts["runs"] += 1
    flush(force=True)
    store.close()
    counts["generate_s"] = time.perf_counter() - t_start
    return counts


def _settle(pid: int, quiet_for: float = 1.0, timeout: float = 120.0) -> float:
    """Wait until the process has used no CPU for ``quiet_for`` seconds; return the wait."""
    t0 = time.monotonic()
    last = cpu_seconds(pid)
    while time.monotonic() - t0 < timeout:
        time.sleep(quiet_for)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return time.monotonic() - t0
        last = now
    return time.monotonic() - t0


def _memory(pid: int) -> dict[str, float]:
    status = proc_status(pid)
    return {"VmHWM_mb": kib(status["VmHWM"]) / 1024, "VmRSS_mb": kib(status["VmRSS"]) / 1024}


def measure_up(root: Path, queries: bool) -> dict[str, Any]:
    with Server(root) as server:
        url = server.wait_ready(timeout=300)
        out: dict[str, Any] = {"ready_s": server.ready_seconds}
        out["settle_s"] = _settle(server.pid)
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
    args = parser.parse_args()
    enable_bytecode()

    result = Result("memory", f"peak memory (VmHWM) of `andon up` with {args.pipelines} pipelines "
                    f"x {args.days} daily partitions made (log replayed at start-up)")
    root = Path(tempfile.mkdtemp(prefix="andon-bench-memory-"))
    base = Path(tempfile.mkdtemp(prefix="andon-bench-memory-base-"))
    try:
        write_project(root, definitions(args.pipelines), {"default": 8})
        generated = generate_log(root, args.days)
        print(f"  generated {generated['events']} events ({generated['runs']} runs) in "
              f"{generated['generate_s']:.1f} s", flush=True)
        db = root / ".andon" / "andon.db"
        db_mb = sum(f.stat().st_size for f in db.parent.glob("andon.db*")) / 2**20
        loaded = measure_up(root, queries=True)
        # the same server on a project with one pipeline and an empty log: the fixed cost
        write_project(base, NOOP_HEADER + '\nandon.source("src")\n'
                      'andon.pipeline("p", inputs=["src"], outputs=["a"])(noop)\n', {"default": 4})
        baseline = measure_up(base, queries=False)
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)

    result.add(
        figure(f"peak memory of andon up, {args.pipelines} pipelines x {args.days} partitions "
               "made", loaded["peak_mb"], "MB", TARGET_MB),
        figure("peak memory of andon up, one pipeline and an empty log (reference)",
               baseline["peak_mb"], "MB"),
        figure("start-up until the API answers, with that log", loaded["ready_s"], "s"),
    )
    result.details = {"loaded": loaded, "baseline": baseline, "generation": generated,
                      "database_mb": db_mb,
                      "sources": SOURCES, "pipelines": args.pipelines, "days": args.days,
                      "unit": "MB = MiB (VmHWM kB / 1024)"}
    print(f"peak {loaded['peak_mb']:.1f} MB (baseline {baseline['peak_mb']:.1f} MB), ready in "
          f"{loaded['ready_s']:.1f} s -> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
