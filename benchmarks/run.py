"""``make bench``: run every benchmark, each in its own process, and summarise.

Writes ``benchmarks/results/<name>.json`` per benchmark (by the benchmark itself), then
``summary.json`` and ``summary.md`` over all of them. Exits 0 when every benchmark ran (a figure
that misses its target is reported, not an error: these are measurements, not tests); exits 1 when
a benchmark could not run.

    .venv/bin/python benchmarks/run.py                 # everything (about 7 minutes)
    .venv/bin/python benchmarks/run.py --quick         # smaller counts, 10 s idle window
    .venv/bin/python benchmarks/run.py --only latency memory
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from benchlib import HERE, RESULTS, machine, now_iso

# name -> (arguments for a full run, arguments for --quick, timeout in seconds)
BENCHMARKS: dict[str, tuple[list[str], list[str], float]] = {
    "cold_start": ([], ["--runs", "10"], 120),
    "throughput": ([], ["--repeats", "1", "--local-tasks", "50"], 600),
    "latency": ([], ["--partitions", "50"], 300),
    "memory": ([], ["--pipelines", "200", "--year-pipelines", "200"], 1200),
    "idle_cpu": ([], [], 180),
    "footprint": ([], [], 300),
    "at_risk": ([], ["--sources", "5"], 120),
    "cord": ([], ["--downstream", "200", "--pool", "20", "--repeats", "1"], 600),
    "notify_load": ([], ["--seconds", "3"], 180),
    "board": ([], ["--pipelines", "200", "--gets", "10", "--loads", "3"], 300),
    "live": ([], ["--pipelines", "200", "--interval", "0.02"], 300),
    "hostile_http": ([], ["--gigabytes", "1", "--slow", "100", "--seconds", "3"], 600),
    "search": ([], ["--entries", "20000", "--queries", "100"], 300),
    "manual": ([], ["--failures", "1000"], 120),
    "manual_scale": ([], ["--pipelines", "200", "--days", "60"], 3600),
    "manual_hint": ([], ["--failures", "20"], 600),
    "audit": ([], ["--pipelines", "200", "--days", "30", "--copies", "10", "--repeats", "1"],
              1800),
    "drift": ([], ["--rows", "100000", "--partitions", "30", "--drift-repeats", "10"], 600),
    "sweep": ([], ["--datasets", "1000"], 600),
    "dask": (["--spawn", "200"], ["--runs", "100", "--spawn", "20"], 1200),
    "scale_pg": ([], ["--pipelines", "1000", "--probes", "30"], 7200),
    "failover": ([], ["--trials", "5"], 3600),
    "live_replan": (["--days", "3"], ["--pipelines", "300", "--days", "2"], 3600),
    "replan_large": ([], ["--pipelines", "300", "--days", "7"], 1800),
}


def run_one(name: str, quick: bool) -> dict[str, Any]:
    full, short, timeout = BENCHMARKS[name]
    cmd = [sys.executable, str(HERE / f"bench_{name}.py"), *(short if quick else full)]
    env = dict(os.environ)
    if quick:
        env.setdefault("ANDON_BENCH_IDLE_SECONDS", "10")
    print(f"== {name}", flush=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, timeout=timeout)
        error = "" if proc.returncode == 0 else f"exited with {proc.returncode}"
    except subprocess.TimeoutExpired:
        error = f"did not finish within {timeout:g}s"
    seconds = time.monotonic() - t0
    path = RESULTS / f"{name}.json"
    if error or not path.exists():
        print(f"   {name}: FAILED ({error or 'no result file'})", flush=True)
        return {"benchmark": name, "error": error or "no result file", "pass": False,
                "seconds": round(seconds, 1), "figures": []}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _value(fig: dict[str, Any]) -> str:
    value = fig["value"]
    if value is None:
        return "-"
    if fig["unit"] == "s" and abs(value) < 1:
        return f"{value * 1000:.1f} ms"
    if fig["unit"] == "count":
        return f"{value:.0f}"
    return f"{value:.3g} {fig['unit']}" if abs(value) < 100 else f"{value:.0f} {fig['unit']}"


def _target(fig: dict[str, Any]) -> str:
    if "target" not in fig:
        return ""
    bound = ">= " if fig.get("bound") == "lower" else "< "  # a rate to reach, or a cost to stay under
    return bound + _value({**fig, "value": fig["target"]})


def markdown(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    lines = [
        "# andon benchmarks: summary",
        "",
        f"{summary['date']} on {m['nproc']} cores ({m['cpu']}), Python {m['python']}, "
        f"andon at {m['git_commit']}{' (with uncommitted changes)' if m['git_dirty'] else ''}; "
        f"load average at the end {m['loadavg_1_5_15'][0]}. Command: `{summary['command']}` "
        f"({summary['seconds']:.0f} s).",
        "",
        "| benchmark | figure | value | target | |",
        "|---|---|---|---|---|",
    ]
    for bench in summary["benchmarks"]:
        if bench.get("error"):
            lines.append(f"| {bench['benchmark']} | could not run: {bench['error']} | | | FAIL |")
            continue
        for fig in bench["figures"]:
            verdict = "" if "pass" not in fig else ("pass" if fig["pass"] else "**MISS**")
            lines.append(f"| {bench['benchmark']} | {fig['name']} | {_value(fig)} | "
                         f"{_target(fig)} | {verdict} |")
    lines += ["", "Details (every sample, the configuration, the machine) are in the JSON file of "
              "each benchmark next to this one; how they are measured is in "
              "`benchmarks/README.md` and `docs/benchmarks.md`.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--quick", action="store_true",
                        help="smaller counts and a 10 s idle window (a smoke run, not the figures)")
    args = parser.parse_args()

    t0 = time.monotonic()
    names = args.only or list(BENCHMARKS)
    results = [run_one(name, args.quick) for name in names]
    if args.only:  # keep the other benchmarks' latest results in the summary
        done = set(names)
        for name in BENCHMARKS:
            path = RESULTS / f"{name}.json"
            if name not in done and path.exists():
                results.append(json.loads(path.read_text()))
        order = list(BENCHMARKS)
        results.sort(key=lambda r: order.index(r["benchmark"]))
    judged = [f for r in results for f in r["figures"] if "pass" in f]
    summary = {
        "date": now_iso(),
        "command": "make bench" if not (args.only or args.quick) else
        "benchmarks/run.py " + " ".join(sys.argv[1:]),
        "quick": args.quick,
        "seconds": round(time.monotonic() - t0, 1),
        "machine": machine(),
        "pass": all(f["pass"] for f in judged) and not any(r.get("error") for r in results),
        "targets_met": sum(f["pass"] for f in judged),
        "targets": len(judged),
        "benchmarks": [{k: r.get(k) for k in ("benchmark", "pass", "error", "date", "seconds",
                                               "command", "figures") if k in r}
                       for r in results],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = markdown(summary)
    (RESULTS / "summary.md").write_text(text)
    print()
    print(text)
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
