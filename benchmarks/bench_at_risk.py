"""At-risk latency: from the moment a late source's expected arrival passes to the commit of the
``deliverable.at_risk`` event it causes, live, on the real clock.

A generated project with ``--sources`` sources, each read by one pipeline with a deadline. Each
source's ``expected_arrival`` is set so that it passes a few seconds after start-up, staggered by
``--spacing`` seconds, and its pipeline's deadline leaves less slack than the source's usual
lateness: when the expected arrival passes without data, the deliverable turns at risk. No data
ever arrives. The line is the real one (``andon.serve.up.open_line``: SQLite store, runner, in-process
executor, ``jit`` policy); the runner sleeps until the next expected arrival (no polling) and
re-plans when it wakes. Each sample is the wall time at which a runner listener saw the committed
event, minus the expected arrival; the event's own ``at`` (read in the turn) is kept too.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import Result, enable_bytecode, figure, summary_stats
from benchprojects import NOOP_HEADER, write_project

TARGET_S = 1.0  # the figure: within 1 s of the expected arrival passing


def definitions(offsets: list[float], duration: float, slack: float) -> str:
    lines = [NOOP_HEADER]
    for i, offset in enumerate(offsets):
        lines.append(f'andon.source("src{i}", expected_arrival="{offset:.3f}s")\n'
                     f'andon.pipeline("p{i}", inputs=["src{i}"], outputs=["out{i}"], '
                     f'expected_duration="{duration:g}s", deadline="{offset + duration + slack:.3f}s", '
                     f'owner="team{i}@example.com")(noop)\n')
    return "\n".join(lines)


def measure(sources: int, lead: float, spacing: float) -> dict[str, Any]:
    enable_bytecode()
    from andon.events import DeliverableAtRisk
    from andon.project.load import load_project
    from andon.project.settings import resolve
    from andon.serve.up import open_line

    now = datetime.now(UTC)
    day = (now - timedelta(days=1)).date()  # yesterday: ended at today 00:00
    key = day.isoformat()
    end = datetime(now.year, now.month, now.day, tzinfo=UTC)
    first = now.timestamp() + lead
    expected = [first + i * spacing for i in range(sources)]
    offsets = [t - end.timestamp() for t in expected]
    root = Path(tempfile.mkdtemp(prefix="andon-bench-at-risk-"))
    seen: dict[str, tuple[float, float]] = {}  # pipeline -> (wall time at commit, event at)
    done = threading.Event()
    try:
        # 60 s runs with 30 s of slack, a slot each: only a source 5 minutes late puts one at risk
        write_project(root, definitions(offsets, 60.0, 30.0), {"default": sources}, start=key)
        project = load_project(root)
        settings = resolve(project.root, {"executor": "inprocess"}, {}, project.settings_table)
        line = open_line(project, settings)

        def on_commit(events: Any) -> None:
            wall = time.time()
            for ev in events:
                if isinstance(ev, DeliverableAtRisk) and ev.partition == key:
                    seen.setdefault(ev.pipeline, (wall, ev.at.timestamp()))
            if len(seen) >= sources:
                done.set()

        line.runner.subscribe(on_commit)
        turns0 = line.runner.turns
        if time.time() > first:
            raise RuntimeError("start-up took longer than --lead; raise it")
        ok = done.wait(lead + spacing * sources + 30)
        turns = line.runner.turns - turns0
        replan_ms = _replan_ms(line)
        line.close()
        if not ok:
            raise RuntimeError(f"only {len(seen)}/{sources} at-risk events arrived")
        commit = [seen[f"p{i}"][0] - expected[i] for i in range(sources)]
        at = [seen[f"p{i}"][1] - expected[i] for i in range(sources)]
        return {"sources": sources, "spacing_s": spacing, "partition": key,
                "commit_delay_s": summary_stats(commit), "event_at_delay_s": summary_stats(at),
                "samples_commit_delay_s": [round(x, 6) for x in commit],
                "runner_turns_in_window": turns, "replan_ms": replan_ms}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _replan_ms(line: Any) -> float:
    """Milliseconds of one forecast of this project's state (what each wake-up costs)."""
    from andon.planner.forecast import forecast

    t0 = time.perf_counter()
    for _ in range(20):
        forecast(line.project.graph, line.runner.state, line.runner.policy, line.clock.now())
    return (time.perf_counter() - t0) / 20 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=20, help="late sources (one sample each)")
    parser.add_argument("--lead", type=float, default=3.0,
                        help="seconds from start to the first expected arrival")
    parser.add_argument("--spacing", type=float, default=0.25,
                        help="seconds between the sources' expected arrivals")
    args = parser.parse_args()
    result = Result("at_risk", "a late source's expected arrival passing -> the "
                    "deliverable.at_risk event committed, live on the real clock (in-process "
                    "executor, SQLite, jit policy)")
    data = measure(args.sources, args.lead, args.spacing)
    commit = data["commit_delay_s"]
    result.add(figure(f"expected arrival passed -> at-risk event committed, p50 of "
                      f"{args.sources}", commit["p50"], "s"),
               figure(f"expected arrival passed -> at-risk event committed, max of "
                      f"{args.sources}", commit["max"], "s", TARGET_S))
    result.details = data
    print(f"  at-risk commit delay: p50 {commit['p50'] * 1000:.1f} ms, max "
          f"{commit['max'] * 1000:.1f} ms over {args.sources} sources "
          f"({data['runner_turns_in_window']} runner turns; one forecast "
          f"{data['replan_ms']:.2f} ms)")
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
