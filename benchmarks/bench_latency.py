"""Latency from a notify to the downstream run starting: local process executor, SQLite store.

One source ``src`` and one no-op pipeline ``down`` reading it. For each of 200 daily partitions
(after a few warm-up ones) the partition is announced, and the next one only once its run has
ended and the runner is idle, so every sample starts from the same quiet state. Two ways in:

* ``http``: a real ``andon up`` in its own process; the benchmark POSTs ``/api/v1/notify``.
  - *RunStarted committed*: the response time of that POST. The notify's turn records the
    notification and, with a free slot, the RunStarted it implies in the same transaction, and the
    response is sent only after that commit, so the round trip bounds it from above.
  - *process spawned*: ``RunLaunched.at`` (written by the scheduler right after the run's process was
    spawned, on the same system clock) minus the wall time at which the request was sent.
* ``submit``: the same line opened in this process (``andon.serve.up.open_line``); the clock starts
  before ``Service.notify`` + ``Runner.submit``.
  - *RunStarted committed*: a runner listener sees the committed batch holding the RunStarted.
  - *process spawned*: the executor's ``start`` returned (the ``Popen`` of the run's process).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchlib import Result, Server, enable_bytecode, figure, filesystem, http_json, summary_stats
from benchprojects import NOOP_HEADER, scratch, write_project

INFO: dict[str, Any] = {}  # what the runs learnt about the executor, for the details
P50_TARGET_MS = 10.0
P99_TARGET_MS = 50.0
DEFINITIONS = NOOP_HEADER + '''

andon.source("src", partitions="daily")
andon.pipeline("down", inputs=["src"], outputs=["out"])(noop)
'''


def keys(n: int, first: date = date(2026, 1, 1)) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def via_http(root: Path, partitions: list[str], warmup: int) -> dict[str, list[float]]:
    from andon.events import RunLaunched
    from andon.store.sql import Store

    sent_wall: dict[str, float] = {}
    response_ms: dict[str, float] = {}
    with Server(root) as server:
        url = server.wait_ready()
        token = server.token()
        for key in partitions:
            t_wall = time.time()
            t0 = time.perf_counter()
            reply = http_json("POST", url + "/api/v1/notify", {"asset": "src", "partition": key},
                              token)
            response_ms[key] = (time.perf_counter() - t0) * 1000
            sent_wall[key] = t_wall
            if not reply.get("recorded", True):
                raise RuntimeError(f"notify of {key} was not recorded: {reply}")
            _wait_run_ended(url, key)
        server.stop()
    store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
    try:
        launched = {ev.run_id.split(":")[1]: ev.at.timestamp() for _, ev in store.events()
                    if isinstance(ev, RunLaunched)}
    finally:
        store.close()
    measured = partitions[warmup:]
    return {"started_committed_ms": [response_ms[k] for k in measured],
            "spawned_ms": [(launched[k] - sent_wall[k]) * 1000 for k in measured]}


def _wait_run_ended(url: str, key: str, timeout: float = 30.0) -> None:
    time.sleep(0.08)  # about what a run's process takes; polling sooner only adds load
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = http_json("GET", f"{url}/api/v1/runs?pipeline=down&partition={key}&limit=1")
        if runs and runs[0]["status"] in ("succeeded", "failed", "cancelled"):
            if runs[0]["status"] != "succeeded":
                raise RuntimeError(f"run {runs[0]['run_id']} {runs[0]['status']}: "
                                   f"{runs[0].get('error_message')}")
            return
        time.sleep(0.02)
    raise RuntimeError(f"the run of {key} did not end within {timeout:g}s")


class _TimedExecutor:
    """Delegates to the real executor; notes when ``start`` returned (the process exists)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.spawned: dict[str, float] = {}

    def start(self, spec: Any, report: Any) -> int:
        pid = self.inner.start(spec, report)
        self.spawned[spec.partition] = time.perf_counter()
        return int(pid)

    def __getattr__(self, name: str) -> Any:  # cancel, recover, shutdown, ...
        return getattr(self.inner, name)


def via_submit(root: Path, partitions: list[str], warmup: int) -> dict[str, list[float]]:
    from andon.events import RunFailed, RunStarted, RunSucceeded
    from andon.project.load import load_project
    from andon.project.settings import resolve
    from andon.serve.up import make_executor, open_line

    project = load_project(root)
    settings = resolve(project.root, {"executor": "local"}, {}, project.settings_table)
    executor = _TimedExecutor(make_executor(settings, project))
    line = open_line(project, settings, executor=executor)
    committed: dict[str, float] = {}
    ended: dict[str, threading.Event] = {k: threading.Event() for k in partitions}
    failed: list[str] = []

    def on_commit(events: Any) -> None:
        now = time.perf_counter()
        for ev in events:
            if isinstance(ev, RunStarted):
                committed.setdefault(ev.partition, now)
            elif isinstance(ev, (RunSucceeded, RunFailed)):
                if isinstance(ev, RunFailed):
                    failed.append(f"{ev.run_id}: {ev.error_type}: {ev.error_message}")
                ended[ev.partition].set()

    line.runner.subscribe(on_commit)
    sent: dict[str, float] = {}
    try:
        line.runner.drain(30)
        for key in partitions:
            sent[key] = time.perf_counter()
            line.runner.submit(line.service.notify("src", key, line.clock.now()))
            if not ended[key].wait(30) or failed:
                raise RuntimeError(f"the run of {key} did not succeed: {failed[:3]}")
            line.runner.drain(30)
    finally:
        if hasattr(line, "close"):
            line.close()
        else:
            line.runner.stop()
            line.store.close()
    measured = partitions[warmup:]
    INFO["fork_server"] = getattr(executor.inner, "fork", None)
    return {"started_committed_ms": [(committed[k] - sent[k]) * 1000 for k in measured],
            "spawned_ms": [(executor.spawned[k] - sent[k]) * 1000 for k in measured]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partitions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pool", type=int, default=4)
    parser.add_argument("--mode", choices=("both", "http", "submit"), default="both")
    args = parser.parse_args()
    enable_bytecode()

    result = Result("latency", "notify -> downstream run started, local process executor, SQLite "
                    f"store, {args.partitions} partitions one after the other")
    modes = ("http", "submit") if args.mode == "both" else (args.mode,)
    labels = {"http": "HTTP POST /api/v1/notify", "submit": "in-process submit"}
    ends = {"started_committed_ms": "RunStarted committed", "spawned_ms": "run process spawned"}
    details: dict[str, Any] = {"definitions": DEFINITIONS, "pool": args.pool,
                               "project_filesystem": filesystem(tempfile.gettempdir()),
                               "warmup_partitions": args.warmup}
    for mode in modes:
        with scratch(f"latency-{mode}") as root:
            write_project(root, DEFINITIONS, {"default": args.pool})
            parts = keys(args.warmup + args.partitions)
            samples = (via_http if mode == "http" else via_submit)(root, parts, args.warmup)
        details[mode] = {}
        for end, values in samples.items():
            stats = summary_stats(values)
            details[mode][end] = {"stats": stats, "samples": [round(v, 3) for v in values]}
            result.add(figure(f"{labels[mode]} -> {ends[end]}, p50", stats["p50"], "ms",
                              P50_TARGET_MS),
                       figure(f"{labels[mode]} -> {ends[end]}, p99", stats["p99"], "ms",
                              P99_TARGET_MS))
            print(f"  {mode:6s} -> {ends[end]:22s} p50 {stats['p50']:6.2f} ms  "
                  f"p99 {stats['p99']:6.2f} ms  max {stats['max']:6.2f} ms", flush=True)
    result.details = {**details, **INFO}
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
