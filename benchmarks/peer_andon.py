"""andon's side of ``bench_peers.py``: ``python peer_andon.py PROJECT_DIR POOL`` runs every
pipeline of the project (the no-op shapes of ``benchprojects.shape_definitions``) for one partition
and exits, as one whole process: the project's definitions loaded, its store created (a SQLite
file in the project's ``.andon/``, WAL, synchronous=FULL), the live runner started, the source
announced, every run ended and committed, the line closed.

``POOL`` 0 runs the pipelines in this process (the in-process executor); otherwise each run is a
process of its own (the default local executor, forked by the project's fork server) and the
project's ``default`` pool, written by the caller, holds ``POOL`` slots. Exits 0 only when every
run succeeded.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

PARTITION = "2026-01-05"
T0 = time.perf_counter()


def main(project_dir: str, pool: int) -> int:
    """With ``ANDON_BENCH_PHASES`` set, the seconds each phase took go to stderr as JSON."""
    phases: dict[str, float] = {}

    def mark(name: str) -> None:
        phases[name] = round(time.perf_counter() - T0 - sum(phases.values()), 4)

    from andon.events import RunCancelled, RunFailed, RunSucceeded
    from andon.project.load import load_project
    from andon.project.settings import resolve
    from andon.serve.up import open_line

    mark("imports")
    project = load_project(Path(project_dir))
    expected = len(project.graph.pipelines)
    settings = resolve(project.root, {"executor": "inprocess" if pool == 0 else "local"}, {},
                       project.settings_table)
    mark("load_definitions")
    line = open_line(project, settings)
    mark("open_line")
    done = threading.Event()
    ended = {"ok": 0, "failed": 0}

    def on_commit(events: Any) -> None:
        for ev in events:
            if isinstance(ev, RunSucceeded):
                ended["ok"] += 1
            elif isinstance(ev, (RunFailed, RunCancelled)):
                ended["failed"] += 1
        if ended["ok"] + ended["failed"] >= expected:
            done.set()

    line.runner.subscribe(on_commit)
    line.runner.submit(line.service.notify("src", PARTITION, line.clock.now()))
    finished = done.wait(600)
    mark("runs")
    line.close()
    mark("close")
    if os.environ.get("ANDON_BENCH_PHASES"):
        print(json.dumps(phases), file=sys.stderr)
    if not finished or ended["failed"]:
        print(f"{ended['ok']}/{expected} runs succeeded, {ended['failed']} did not",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
