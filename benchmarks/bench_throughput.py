"""Throughput: a 1,000-task chain and a 1,000-task fan-out of no-op pipelines through the real
live runner (``andon.serve.up.open_line``: SQLite store in WAL with synchronous=FULL, engine, executor).

The clock starts just before the source partition is announced (``Service.notify`` + ``Runner.submit``,
what ``POST /api/v1/notify`` does) and stops in a runner listener when the commit that records the
last run's end returns. Each configuration runs in a fresh process on a freshly generated project
(``benchmarks/benchlib.py: shape_definitions``) with an empty store.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchlib import Result, bench_env, create_cost_ms, enable_bytecode, figure, filesystem
from benchprojects import shape_definitions, write_project

PARTITION = "2026-01-05"
INPROCESS_TARGET_S = 1.0  # for 1,000 tasks
LOCAL_TARGET_MS = 30.0  # a task
TMPFS = "/dev/shm"


def _cpu() -> tuple[float, float]:
    """(user, system) CPU seconds of this process and its ended children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + kids.ru_utime, me.ru_stime + kids.ru_stime


def _profile_runner_thread() -> cProfile.Profile:
    """A profiler that follows the runner thread only (cProfile is per thread); the in-process
    executor runs the pipelines on that thread too."""
    prof = cProfile.Profile()

    def hook(frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        if threading.current_thread().name == "andon-runner":
            prof.enable()

    threading.setprofile(hook)
    return prof


def worker(executor: str, shape: str, n: int, pool: int, keep: bool,
           profile_to: Path | None = None, base_dir: str | None = None) -> dict[str, Any]:
    """Run one configuration in this process and describe it."""
    enable_bytecode()
    prof = _profile_runner_thread() if profile_to else None
    from andon.events import RunCancelled, RunFailed, RunSucceeded
    from andon.project.load import load_project
    from andon.project.settings import resolve
    from andon.serve.up import open_line

    root = Path(tempfile.mkdtemp(prefix=f"andon-bench-{shape}-", dir=base_dir))
    try:
        write_project(root, shape_definitions(shape, n), {"default": pool})
        t_load = time.perf_counter()
        project = load_project(root)
        settings = resolve(project.root, {"executor": executor}, {}, project.settings_table)
        line = open_line(project, settings)
        load_s = time.perf_counter() - t_load
        done = threading.Event()
        seen = {"ended": 0, "failed": 0, "events": 0, "commits": 0}
        startup: list[float] = []
        work: list[float] = []
        moments: dict[str, dict[str, float]] = {}  # run id -> event name -> its ``at``
        finished_at = [0.0]
        failures: list[str] = []

        def on_commit(events: Any) -> None:
            seen["commits"] += 1
            seen["events"] += len(events)
            for ev in events:
                if getattr(ev, "run_id", None):
                    moments.setdefault(ev.run_id, {})[ev.name] = ev.at.timestamp()
                if isinstance(ev, (RunSucceeded, RunFailed, RunCancelled)):
                    seen["ended"] += 1
                    if isinstance(ev, RunSucceeded):
                        startup.append(ev.startup_seconds or 0.0)
                        work.append(ev.work_seconds)
                    else:
                        seen["failed"] += 1
                        failures.append(f"{ev.run_id}: {getattr(ev, 'error_type', '')}: "
                                        f"{getattr(ev, 'error_message', '')}")
            if seen["ended"] >= n or seen["failed"]:
                finished_at[0] = time.perf_counter()
                done.set()

        line.runner.drain(30)
        line.runner.subscribe(on_commit)
        turns0 = getattr(line.runner, "turns", 0)
        cpu0 = _cpu()
        t0 = time.perf_counter()
        line.runner.submit(line.service.notify("src", PARTITION, line.clock.now()))
        ok = done.wait(max(60.0, n * 0.5))
        total = (finished_at[0] or time.perf_counter()) - t0
        cpu1 = _cpu()
        user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
        turns = getattr(line.runner, "turns", 0) - turns0
        if hasattr(line, "close"):
            line.close()
        else:  # older Line without close()
            line.runner.stop()
            line.store.close()
        if prof is not None and profile_to is not None:
            prof.disable()
            with profile_to.open("w") as fh:
                stats = pstats.Stats(prof, stream=fh)
                stats.sort_stats("cumulative").print_stats(40)
                stats.sort_stats("tottime").print_stats(25)
        if not ok or seen["failed"]:
            raise RuntimeError(f"{executor} {shape}: {seen['ended']}/{n} runs ended, "
                               f"{seen['failed']} not successfully: {failures[:3]}")
        return {"executor": executor, "shape": shape, "tasks": n, "pool": pool,
                "project_dir": str(root.parent),
                "fork_server": getattr(line.runner.executor, "fork", None),
                "total_s": total, "per_task_ms": total / n * 1000, "tasks_per_s": n / total,
                "cpu_s": user + system, "cpu_user_s": user, "cpu_system_s": system,
                "commits": seen["commits"], "events": seen["events"],
                "runner_turns": turns, "load_and_open_s": load_s,
                "breakdown_ms_mean": _breakdown(moments, startup, work)}
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def _breakdown(moments: dict[str, dict[str, float]], startup: list[float],
               work: list[float]) -> dict[str, float | None]:
    """Where a run's time goes, from its events' times (mean over the runs, in ms):
    ``start_to_launched``: RunStarted decided -> its process spawned (commit, spec, Popen);
    ``launched_to_ended``: spawned -> its end handled by the runner, of which ``startup``
    (spawned -> user code entered) and ``work`` (user code) were measured by the run itself."""
    def mean(values: list[float]) -> float | None:
        return statistics.fmean(values) * 1000 if values else None

    launch, run = [], []
    for m in moments.values():
        if "run.started" in m and "run.launched" in m:
            launch.append(m["run.launched"] - m["run.started"])
        if "run.launched" in m and "run.succeeded" in m:
            run.append(m["run.succeeded"] - m["run.launched"])
    return {"start_to_launched": mean(launch), "launched_to_ended": mean(run),
            "startup": mean(startup), "work": mean(work)}


def run_config(executor: str, shape: str, n: int, pool: int, repeats: int,
               base_dir: str | None = None) -> dict[str, Any]:
    """Run one configuration ``repeats`` times, each in a fresh process; keep the median."""
    samples = []
    where = ["--base-dir", base_dir] if base_dir else []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--worker", executor, shape, str(n),
                               str(pool), *where], env=bench_env(), capture_output=True,
                              text=True, timeout=max(120.0, n * 1.0))
        if proc.returncode != 0:
            raise RuntimeError(f"worker {executor} {shape} failed: {proc.stderr[-3000:]}")
        samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  {executor:9s} {shape:6s} n={n:<5d} pool={pool:<4d} {base_dir or '':8s} "
              f"{samples[-1]['total_s']:.3f} s  ({samples[-1]['per_task_ms']:.2f} ms a task)",
              flush=True)
    best = sorted(samples, key=lambda s: s["total_s"])[len(samples) // 2]
    return {**best, "repeats": repeats,
            "all_total_s": [s["total_s"] for s in samples],
            "median_total_s": statistics.median(s["total_s"] for s in samples)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", nargs=4, metavar=("EXECUTOR", "SHAPE", "N", "POOL"),
                        help="(internal) run one configuration and print its JSON")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    parser.add_argument("--base-dir", help="make the project (and its store) in this folder "
                        "(default: the system's temporary folder)")
    parser.add_argument("--profile", nargs=4, metavar=("EXECUTOR", "SHAPE", "N", "POOL"),
                        help="run one configuration under cProfile (the runner thread) and "
                             "print the hot spots")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in-process")
    parser.add_argument("--local-tasks", type=int, default=200, help="tasks with local processes")
    parser.add_argument("--pool", type=int, default=4, help="capacity of the default pool")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the in-process runs")
    args = parser.parse_args()
    if args.profile:
        executor, shape, n, pool = args.profile
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "profile.txt"
            res = worker(executor, shape, int(n), int(pool), args.keep, out, args.base_dir)
            print(out.read_text())
        print(json.dumps(res))
        return 0
    if args.worker:
        executor, shape, n, pool = args.worker
        print(json.dumps(worker(executor, shape, int(n), int(pool), args.keep,
                                base_dir=args.base_dir)))
        return 0

    result = Result("throughput", "no-op pipelines through the live runner: a chain (each reads "
                    "the previous output) and a fan-out (all read one source), from the first "
                    "notify to the commit of the last run's end")
    configs = {}
    for shape in ("chain", "fanout"):
        configs[f"inprocess_{shape}"] = run_config("inprocess", shape, args.tasks, args.pool,
                                                   args.repeats)
    # fan-out with a pool as wide as the fan-out: every run starts in one turn (group commit)
    configs["inprocess_fanout_wide_pool"] = run_config("inprocess", "fanout", args.tasks,
                                                       args.tasks, args.repeats)
    # the same on tmpfs: what is left without the disk's latency (fsync, mkdir, file creation)
    if Path(TMPFS).is_dir():
        for shape in ("chain", "fanout"):
            configs[f"inprocess_{shape}_tmpfs"] = run_config("inprocess", shape, args.tasks,
                                                             args.pool, args.repeats, TMPFS)
    for shape in ("chain", "fanout"):
        configs[f"local_{shape}"] = run_config("local", shape, args.local_tasks, args.pool, 1)

    scale = 1000 / args.tasks  # the target is for 1,000 tasks
    for shape in ("chain", "fanout"):
        c = configs[f"inprocess_{shape}"]
        result.add(figure(f"in-process executor, {args.tasks}-task {shape}, total (median of "
                          f"{c['repeats']})", c["median_total_s"], "s", INPROCESS_TARGET_S / scale))
    for shape in ("chain", "fanout"):
        c = configs[f"local_{shape}"]
        result.add(figure(f"local process executor, {args.local_tasks}-task {shape}, a task",
                          c["per_task_ms"], "ms", LOCAL_TARGET_MS))
    wide = configs["inprocess_fanout_wide_pool"]
    result.add(figure(f"in-process executor, {args.tasks}-task fanout, pool of {args.tasks} "
                      "(informational)", wide["median_total_s"], "s"))
    for shape in ("chain", "fanout"):
        if f"inprocess_{shape}_tmpfs" in configs:
            result.add(figure(f"in-process executor, {args.tasks}-task {shape}, project and store "
                              f"on tmpfs {TMPFS} (informational: no disk latency)",
                              configs[f"inprocess_{shape}_tmpfs"]["median_total_s"], "s"))
    disk = create_cost_ms(tempfile.gettempdir())
    result.add(figure("one folder creation on the projects' disk (informational: the "
                      "file system's latency)", disk["mkdir_ms"], "ms"),
               figure("one small file creation on the projects' disk (informational)",
                      disk["create_file_ms"], "ms"))
    result.details = {"configurations": configs, "partition": PARTITION,
                      "file_system_ms": {"disk": disk, "tmpfs": create_cost_ms(TMPFS)
                                         if Path(TMPFS).is_dir() else None},
                      "store": "SQLite file (WAL, synchronous=FULL) in the project's .andon/",
                      "project_filesystem": filesystem(tempfile.gettempdir()),
                      "no_op": "def noop(ctx): pass (writes nothing)"}
    path = result.write()
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
