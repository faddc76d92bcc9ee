"""Cold start of the CLI: wall time of ``andon --help`` as a new process, against ``python -c pass``.

Each sample is one subprocess, timed from ``Popen`` to its exit. A few warm-up runs come first, so
the OS file cache is warm and the .pyc files exist (as after any ``pip install``); "cold" means a
fresh interpreter, which is what a user typing the command gets.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time

from benchlib import ANDON, Result, bench_env, figure, summary_stats

TARGET_S = 0.100
# what `andon --help` must not import (DESIGN.md: lazy imports for a fast start)
HEAVY = ("sqlalchemy", "starlette", "uvicorn", "anyio", "asyncio", "numpy", "andon.store",
         "andon.live.runner", "andon.web", "andon.engine")


def wall_times(cmd: list[str], runs: int, warmup: int, env: dict[str, str]) -> list[float]:
    out = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd} exited {proc.returncode}: {proc.stderr.decode()[-1000:]}")
        if i >= warmup:
            out.append(elapsed)
    return out


def import_profile(env: dict[str, str]) -> dict[str, object]:
    """What ``andon --help`` imports (python -X importtime): module count and the slowest ones."""
    code = "import sys; from andon.cli import main; sys.argv = ['andon', '--help']; main()"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4)))
    top_level = sorted((r for r in rows if r[2] == 1), key=lambda r: -r[1])[:8]
    names = [r[3] for r in rows]
    return {"modules_imported": len(rows),
            "heavy_modules_imported": sorted({n for n in names if n.startswith(HEAVY)}),
            "slowest_top_level_imports_us": {r[3]: r[1] for r in top_level}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    result = Result("cold_start", "`andon --help` as a new process (subprocess wall time), with "
                    "`python -c pass` on the same interpreter for reference")
    env = bench_env()
    help_times = wall_times([str(ANDON), "--help"], args.runs, args.warmup, env)
    pass_times = wall_times([sys.executable, "-c", "pass"], args.runs, args.warmup, env)
    # what a checkout without bytecode caches costs (PYTHONDONTWRITEBYTECODE=1, empty cache)
    with tempfile.TemporaryDirectory(prefix="andon-bench-pycache-") as empty:
        nocache_env = bench_env(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty)
        nocache = wall_times([str(ANDON), "--help"], max(args.runs // 2, 5), 1, nocache_env)

    h, p, n = summary_stats(help_times), summary_stats(pass_times), summary_stats(nocache)
    result.add(
        figure("andon --help, median wall time", h["p50"], "s", TARGET_S),
        figure("python -c pass, median wall time (reference)", p["p50"], "s"),
        figure("andon --help minus python -c pass, median", h["p50"] - p["p50"], "s"),
        figure("andon --help without .pyc caches, median (informational)", n["p50"], "s",
               note="every module compiled at each start, as with PYTHONDONTWRITEBYTECODE=1 "
                    "and no __pycache__"),
    )
    result.details = {
        "andon_help_s": h, "python_pass_s": p, "andon_help_no_pyc_s": n,
        "samples": {"andon_help": help_times, "python_pass": pass_times},
        "warmup_runs": args.warmup, "executable": str(ANDON),
        "imports": import_profile(env),
    }
    path = result.write()
    print(f"andon --help median {h['p50'] * 1000:.1f} ms (python -c pass {p['p50'] * 1000:.1f} ms)"
          f" -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
