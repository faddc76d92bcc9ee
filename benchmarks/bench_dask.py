"""The Dask executor against the local executor on the same machine: N no-op runs (default
1,000) through each executor's ``start`` / ``report``, ``--window`` of them in flight at a time
(a pool of that many slots), on a ``LocalCluster`` of 2 worker processes for Dask.

Figures per executor: runs a second over the whole batch, and the per-run overhead: the mean
time from ``start`` to the run's report (a no-op run does no work, so all of it is the executor's:
submitting, the run's process, its log and result coming back). The local executor forks each
run from its fork server; the Dask executor forks each run from its worker's fork server
(``daskfork``, started on the worker's first run: the warm-up runs pay for it) and sends the
result and the log back through the scheduler.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchlib import Result, enable_bytecode, figure

PARTITION = "2026-01-05"
DEFINITIONS = '''
import andon

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["done"])
def noop(ctx):
    ctx.output("done").write_text("")
'''


def write_project(root: Path, window: int) -> None:
    (root / "andon.toml").write_text(
        f'[project]\nname = "bench"\ndefinitions = ["pipelines.py"]\nstart = "{PARTITION}"\n\n'
        f"[pools]\ndefault = {window}\n")
    (root / "pipelines.py").write_text(DEFINITIONS)
    (root / "data/raw").mkdir(parents=True)
    (root / f"data/raw/{PARTITION}.csv").write_text("x\n")


def drive(executor: Any, project: Any, n: int, window: int, tag: str) -> dict[str, Any]:
    """Start ``n`` no-op runs, ``window`` in flight; their latencies and the total."""
    from andon.executors.base import spec_for

    slots = threading.Semaphore(window)
    done = threading.Condition()
    latencies: list[float] = []
    failed: list[str] = []

    def start(i: int) -> None:
        run_id = f"noop:{PARTITION}:{tag}{i}"
        spec = spec_for(project.graph, run_id, "noop", PARTITION, 1, project.root,
                        project.root / ".andon/runs")
        t0 = time.perf_counter()

        def report(result: Any) -> None:
            with done:
                latencies.append(time.perf_counter() - t0)
                if not result.ok:
                    failed.append(f"{result.error_type}: {result.error_message}")
                done.notify_all()
            slots.release()

        executor.start(spec, report)

    t0 = time.perf_counter()
    for i in range(n):
        slots.acquire()
        start(i)
    with done:
        done.wait_for(lambda: len(latencies) == n, 3600)
    total = time.perf_counter() - t0
    return {"runs": n, "window": window, "total_s": round(total, 3),
            "runs_per_s": round(n / total, 2),
            "overhead_mean_ms": round(statistics.fmean(latencies) * 1000, 2),
            "overhead_p50_ms": round(statistics.median(latencies) * 1000, 2),
            "overhead_p99_ms": round(sorted(latencies)[int(0.99 * (n - 1))] * 1000, 2),
            "failed": len(failed), "first_failure": failed[0] if failed else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--window", type=int, default=4, help="runs in flight (pool slots)")
    parser.add_argument("--spawn", type=int, default=0, metavar="N",
                        help="also N runs with the Dask workers spawning each run's process "
                             "(no fork server: the executor's fallback), for comparison")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    enable_bytecode()
    import dask
    import distributed  # noqa: F401  (its configuration loaded before ours is set over it)

    from andon.executors.dask import DaskExecutor
    from andon.executors.daskcluster import DASK_CONFIG, local_cluster
    from andon.executors.daskfork import PLUGIN_NAME
    from andon.executors.local import LocalProcessExecutor
    from andon.project.load import load_project

    configs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        write_project(root, args.window)
        project = load_project(root)
        local = LocalProcessExecutor(kill_grace=1.0)
        local.warm(str(root))
        drive(local, project, min(20, args.runs), args.window, "warm")  # the fork server's start
        configs["local"] = drive(local, project, args.runs, args.window, "l")
        local.shutdown()
        with dask.config.set(DASK_CONFIG):
            t0 = time.perf_counter()
            cluster, client = local_cluster({"default": args.window}, None,
                                            silence_logs=40)
            cluster_start = time.perf_counter() - t0
            executor = DaskExecutor(client, {"noop": ("default", 1)}, max_log_bytes=1_000_000)
            drive(executor, project, min(20, args.runs), args.window, "warm")
            configs["dask"] = drive(executor, project, args.runs, args.window, "d")
            if args.spawn:
                spawning = DaskExecutor(client, {"noop": ("default", 1)},
                                        max_log_bytes=1_000_000, fork=False)
                client.unregister_worker_plugin(PLUGIN_NAME)  # its teardown stops the servers
                configs["dask_spawn"] = drive(spawning, project, args.spawn, args.window, "s")
            executor.close()
    result = Result("dask", f"{args.runs} no-op runs, {args.window} in flight: the Dask executor "
                    "(LocalCluster of 2 worker processes) against the local executor (fork "
                    "server), from start to report", loadavg_start=load_at_start)
    labels = {"local": "local executor", "dask": "Dask executor, 2 workers",
              "dask_spawn": "Dask executor, 2 workers, each run spawned"}
    for name, label in labels.items():
        if name not in configs:
            continue
        c = configs[name]
        result.add(figure(f"{label}: runs a second", c["runs_per_s"], "runs/s"),
                   figure(f"{label}: per-run overhead (mean start to report)",
                          c["overhead_mean_ms"] / 1000, "s"))
    result.add(figure("LocalCluster start (2 worker processes; informational)", cluster_start,
                      "s"))
    result.details = {"configurations": configs, "python": sys.version.split()[0],
                      "no_op": "writes one empty output file"}
    path = result.write()
    print(f"-> {path}")
    return 0 if all(c["failed"] == 0 for c in configs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
