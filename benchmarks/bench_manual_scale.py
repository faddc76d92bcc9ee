"""``andon manual`` over a year of history (issue 12: under 2 s for 1,000 pipelines x 365 days).

The project and its history come from ``manualhistory.generate_year``: 20 daily sources and
``--pipelines`` no-op pipelines in layers, every day of ``--days`` made, with failures (recurring
signatures and one-offs, retries, failures for good re-run by a person), missed deadlines,
failing checks and cords, appended through ``Store.append`` into a real SQLite file. Then
``andon --project DIR manual --json`` is timed end to end as a subprocess (no scheduler: the CLI
reads the store itself), ``--repeats`` times after one warm-up (the page cache holds the file, as
on a machine where andon runs); the median is judged. ``andon manual review --json`` is timed
the same way, for information.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from benchlib import ANDON, Result, bench_env, enable_bytecode, figure, summary_stats
from benchprojects import scratch
from manualhistory import GENERATED, generate_year

TARGET_S = 2.0
# what `andon manual --json` does with no scheduler, for a build without that command yet: the
# CLI's client on the store, the manual's entries, JSON on stdout
STAND_IN = """
import dataclasses, json, sys
from datetime import UTC, datetime
from pathlib import Path
from andon.cli.local import LocalClient
from andon.project.load import load_project
from andon.project.settings import resolve

project = load_project(Path(sys.argv[1]))
local = LocalClient(project, resolve(project.root, {}, {}, project.settings_table))
entries = local.service.manual.entries(datetime.now(UTC))
json.dump({"entries": [dataclasses.asdict(e) for e in entries]}, sys.stdout, default=str)
"""


def timed(root: Path, args: list[str], repeats: int, stand_in: bool = False) -> dict[str, Any]:
    """``andon --project ROOT ARGS`` (``stand_in``: ``STAND_IN``) ``repeats`` times after a
    warm-up: the seconds of each and the last output (parsed JSON), or the error when the
    command failed."""
    cmd = [str(ANDON), "--project", str(root), *args]
    if stand_in:
        cmd, args = [sys.executable, "-c", STAND_IN, str(root)], ["(stand-in)", *args]
    seconds: list[float] = []
    out: Any = None
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=bench_env(), timeout=600)
        took = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"command": " ".join(["andon", *args]), "error":
                    f"exited with {proc.returncode}: {proc.stderr.strip()[-1000:]}"}
        if i:
            seconds.append(took)
        out = json.loads(proc.stdout)
    return {"command": " ".join(["andon", *args]), "seconds": seconds,
            "p50_s": statistics.median(seconds), "stats": summary_stats(seconds), "output": out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    parser.add_argument("--project", type=Path, help="time a project generated before (--keep)")
    args = parser.parse_args()
    enable_bytecode()

    result = Result("manual_scale", f"`andon manual --json` (no scheduler) over {args.days} days "
                    f"of history of {args.pipelines} pipelines: end to end, median of "
                    f"{args.repeats} runs")
    place = nullcontext(args.project) if args.project else scratch("manual-scale", args.keep)
    with place as root:
        made = root / ".andon" / GENERATED  # what generate_year made there
        generated: dict[str, Any] = {"reused": str(root),
                                     **(json.loads(made.read_text()) if made.exists() else {})}
        if not args.project:
            generated = generate_year(root, args.pipelines, args.days)
            print(f"  generated {generated['events']:,} events ({generated['runs']:,} runs, "
                  f"{generated['failed_for_good']:,} failed for good) in "
                  f"{generated['generate_s']:.0f} s", flush=True)
        store = root / ".andon"
        size = sum(p.stat().st_size for p in store.rglob("*.db*") if p.is_file())
        manual = timed(root, ["manual", "--json"], args.repeats)
        if "No such command 'manual'" in manual.get("error", ""):
            print("  this build has no `andon manual`: timing the stand-in (the CLI's client, "
                  "the manual's entries, JSON)", flush=True)
            manual = timed(root, ["manual", "--json"], args.repeats, stand_in=True)
        review = timed(root, ["manual", "review", "--json"], args.repeats)

    details: dict[str, Any] = {"pipelines": args.pipelines, "days": args.days,
                               "repeats": args.repeats, "generation": generated,
                               "store_bytes": size}
    if "error" in manual:
        print(f"  andon manual --json: {manual['error']}", flush=True)
        result.add(figure("andon manual --json, end to end, median", None, "s", TARGET_S,
                          note=manual["error"][:300]))
    else:
        entries = manual.pop("output")["entries"]
        kinds: dict[str, int] = {}
        for e in entries:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        occurrences = sum(len(e["occurrences"]) for e in entries)
        resolutions = sum(len(e.get("resolutions") or []) for e in entries)
        print(f"  andon manual --json: p50 {manual['p50_s']:.3f} s ({len(entries)} entries, "
              f"{occurrences} occurrences)", flush=True)
        result.add(figure(f"{manual['command']} over {args.days} days x {args.pipelines} "
                          f"pipelines, end to end (a subprocess), median of {args.repeats}",
                          manual["p50_s"], "s", TARGET_S),
                   figure("andon manual --json, slowest", manual["stats"]["max"], "s"),
                   figure("manual entries", len(entries), "count"),
                   figure("occurrences in them", occurrences, "count"))
        details.update(entries=len(entries), occurrences=occurrences, resolutions=resolutions,
                       entries_by_kind=kinds)
    if "error" in review:
        print(f"  andon manual review --json: {review['error']}", flush=True)
    else:
        rows = review.pop("output")
        print(f"  andon manual review --json: p50 {review['p50_s']:.3f} s", flush=True)
        result.add(figure("andon manual review --json (30 days), end to end, median",
                          review["p50_s"], "s", note="for information"))
        details["review_rows"] = len(rows.get("rows", [])) if isinstance(rows, dict) else None
    details.update(manual=manual, review=review)
    result.details = details
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
