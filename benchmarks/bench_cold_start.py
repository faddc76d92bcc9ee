"""Cold start of the CLI (issue 18: ten times Luigi's): ``andon --help``, ``andon status`` and
``andon status --json`` against a running ``andon up``, ``andon up --help`` (the click path),
Luigi's ``--help`` (its throw-away venv of ``bench_peers.py``, when installed) and
``python -c pass``, each as whole new processes.

Interleaved rounds (one run of every command, then the next round), so a machine whose load
changes changes every figure alike; a few warm-up rounds first (warm file cache, .pyc files
written, as after any ``pip install``). Each sample is timed from ``Popen`` to exit; its CPU
time (user + system, from ``wait4``) is recorded too, as it moves less than the wall time on a
loaded machine. The load average before and after is in the results.

The console script is the checkout's (``benchlib.console_script``).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Result, Server, bench_env, console_script, figure, summary_stats
from benchprojects import shape_definitions, write_project

TARGET_S = 0.100
HEAVY = ("click", "sqlalchemy", "starlette", "uvicorn", "anyio", "asyncio", "numpy",
         "andon.store", "andon.live", "andon.web", "andon.engine", "andon.project.load")
LUIGI = Path(__file__).resolve().parent / ".peers" / "luigi" / "bin" / "luigi"
def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one whole process; raises on a non-zero exit but status's 1."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd} exited {proc.returncode}: {err.decode()[-1000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def server_answer(url: str, token: str, n: int) -> list[float]:
    """Seconds the server takes to answer ``GET /api/v1/status`` on a kept-alive connection:
    the part of ``andon status``'s wall time that is not the client's."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("GET", "/api/v1/status", headers={"Authorization": f"Bearer {token}"})
            conn.getresponse().read()
            out.append(time.perf_counter() - t0)
    finally:
        conn.close()
    return out


def imports(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, object]:
    """What the command imports (python -X importtime): count, heavy ones, the slowest."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd], env=env, cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4)))
    top = sorted((r for r in rows if r[2] == 1), key=lambda r: -r[1])[:8]
    names = [r[3] for r in rows]
    return {"modules_imported": len(rows),
            "heavy_modules_imported": sorted({n for n in names if n.startswith(HEAVY)}),
            "slowest_top_level_imports_us": {r[3]: r[1] for r in top}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=3, help="rounds not counted")
    args = parser.parse_args()

    env = bench_env()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="andon-bench-cold-") as tmp:
        folder = Path(tmp)
        andon, how = console_script(folder)
        project = write_project(folder / "project", shape_definitions("fanout", 20),
                                {"default": 2})
        commands: dict[str, list[str]] = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "andon --help": [str(andon), "--help"],
            "andon status": [str(andon), "status"],
            "andon status --json": [str(andon), "status", "--json"],
            "andon up --help": [str(andon), "up", "--help"],
        }
        if LUIGI.exists():
            commands["luigi --help"] = [str(LUIGI), "--help"]
        with Server(project) as server:
            server.wait_ready()
            wall: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            for i in range(args.warmup + args.runs):
                for name, cmd in commands.items():
                    w, c = run(cmd, env, project)
                    if i >= args.warmup:
                        wall[name].append(w)
                        cpu[name].append(c)
            profiles = {name: imports(commands[name], env, project)
                        for name in ("andon --help", "andon status")}
            answer = server_answer(server.url, server.token(), args.runs)
    load_after = os.getloadavg()

    stats = {name: summary_stats(v) for name, v in wall.items()}
    cpu_stats = {name: summary_stats(v) for name, v in cpu.items()}
    result = Result("cold_start", "the CLI as new processes (wall time, Popen to exit): "
                    "`andon --help`, `andon status` against a running `andon up`, with "
                    "`python -c pass` and Luigi's `--help` for reference")
    figures = []
    for name in commands:
        target = TARGET_S if name in ("andon --help", "andon status") else None
        figures.append(figure(f"{name}, median wall time", stats[name]["p50"], "s", target))
    figures.append(figure("the server's answer to GET /api/v1/status (in the status figures), "
                          "median", summary_stats(answer)["p50"], "s"))
    figures.append(figure("andon --help minus python -c pass, median",
                          stats["andon --help"]["p50"] - stats["python -c pass"]["p50"], "s"))
    if "luigi --help" in stats:
        for name in ("andon --help", "andon status"):
            figures.append(figure(  # ten times Luigi: a tenth of its time, or less
                f"{name} / luigi --help, medians",
                stats[name]["p50"] / stats["luigi --help"]["p50"], "ratio", 0.1,
                note=f"Luigi is {stats['luigi --help']['p50'] / stats[name]['p50']:.1f}x "
                     "slower"))
    result.add(*figures)
    result.details = {
        "wall_s": stats, "cpu_s": cpu_stats,
        "samples": {"wall": wall, "cpu": cpu, "server_status_answer": answer},
        "rounds": args.runs, "warmup_rounds": args.warmup,
        "load_average_before": load_before, "load_average_after": load_after,
        "console_script": how, "imports": profiles,
    }
    path = result.write()
    for name in commands:
        print(f"{name:22} median {stats[name]['p50'] * 1000:7.1f} ms wall, "
              f"{cpu_stats[name]['p50'] * 1000:6.1f} ms cpu")
    print(f"server's status answer median {summary_stats(answer)['p50'] * 1000:.1f} ms")
    print(f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}; -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
