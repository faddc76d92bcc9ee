"""CPU used by an idle ``andon up`` (the minimal example project) over 60 seconds.

The server is started, made to do some work first (one source partition announced, both pipelines
of the example run, one of them a shell step), then left alone. utime + stime of the process (all
its threads) are read from /proc/PID/stat before and after the idle window; the voluntary context
switches of every thread are counted too (each is a wake-up: an idle andon should have none).

``ANDON_BENCH_IDLE_SECONDS`` shortens the window for a quick run (the default is 60).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchlib import (
    ANDON,
    CLK_TCK,
    Result,
    Server,
    bench_env,
    cpu_seconds,
    env_seconds,
    figure,
    http_json,
    threads,
)
from benchprojects import scratch

TARGET_S = 0.3
PARTITION = "2026-01-01"  # the first day: the weekly window needs only it


def _wait_runs(url: str, n: int, timeout: float = 60.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = http_json("GET", f"{url}/api/v1/runs?limit=50")
        ended = [r for r in runs if r["status"] in ("succeeded", "failed", "cancelled")]
        if len(ended) >= n and len(ended) == len(runs):
            return list(runs)
        time.sleep(0.2)
    raise RuntimeError(f"fewer than {n} runs ended within {timeout:g}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float,
                        default=env_seconds("ANDON_BENCH_IDLE_SECONDS", 60.0))
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds between the last run ending and the window")
    args = parser.parse_args()

    result = Result("idle_cpu", f"CPU time of an idle `andon up` over {args.seconds:g} s "
                    "(after it ran the minimal example's pipelines once)")
    with scratch("idle") as root:
        project = root / "project"
        subprocess.run([str(ANDON), "init", str(project), "--example", "minimal"], check=True,
                       env=bench_env(), capture_output=True)
        events = project / "data" / "events" / f"{PARTITION}.csv"
        events.parent.mkdir(parents=True, exist_ok=True)
        events.write_text("id\n1\n2\n3\n")
        with Server(project) as server:
            url = server.wait_ready()
            http_json("POST", url + "/api/v1/notify", {"asset": "events", "partition": PARTITION},
                      server.token())
            runs = _wait_runs(url, 2)
            time.sleep(args.settle)
            cpu0, threads0, t0 = cpu_seconds(server.pid), threads(server.pid), time.monotonic()
            time.sleep(args.seconds)
            cpu1, threads1, t1 = cpu_seconds(server.pid), threads(server.pid), time.monotonic()
            alive = server.proc.poll() is None
        if not alive:
            raise RuntimeError("andon up exited during the idle window")

    used = cpu1 - cpu0
    window = t1 - t0
    wakeups = {tid: {"name": t["name"],
                     "voluntary": int(t["voluntary"]) - int(threads0[tid]["voluntary"]),
                     "involuntary": int(t["involuntary"]) - int(threads0[tid]["involuntary"])}
               for tid, t in threads1.items() if tid in threads0}
    total_wakeups = sum(w["voluntary"] + w["involuntary"] for w in wakeups.values())
    result.add(
        figure(f"CPU of an idle andon up over {window:.0f} s", used, "s",
               round(TARGET_S * window / 60.0, 3),
               note="target scaled to the window" if abs(window - 60) > 1 else ""),
        figure("CPU of an idle andon up, per minute", used / window * 60, "s/min"),
        figure(f"thread wake-ups (context switches) in {window:.0f} s", total_wakeups, "count"),
    )
    result.details = {"window_s": window, "cpu_before_s": cpu0, "cpu_after_s": cpu1,
                      "clock_tick_s": 1 / CLK_TCK, "threads": wakeups,
                      "threads_started": len(threads1), "runs_before_window": runs,
                      "project": "andon init --example minimal"}
    print(f"idle CPU {used:.3f} s over {window:.0f} s, {total_wakeups} wake-ups, "
          f"{len(threads1)} threads -> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
