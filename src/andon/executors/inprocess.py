"""Run pipelines inline, in the calling thread (tests, notebooks)."""

from __future__ import annotations

import io
from typing import Any

from andon.executors.base import ExecResult, Report, RunSpec
from andon.executors.execute import Resolver, run_spec


class InProcessExecutor:
    """Executes each run synchronously inside ``start``; cancellation is not possible."""

    name = "inprocess"
    inline = True  # the runner may execute a cascade of runs in one turn and commit once

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve

    def start(self, spec: RunSpec, report: Report) -> int:
        """Run now; the output is kept in memory and written to the run's log file only when
        there is any (a quiet run costs no file-system work)."""
        buffer = io.StringIO()
        result = run_spec(spec, self._resolve, buffer)
        text = buffer.getvalue()
        if text:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            with spec.log_path.open("a") as log:
                log.write(text)
        report(result)
        return 0

    def health(self) -> dict[str, Any]:
        """For the board's health strip: runs execute on the scheduler's own thread."""
        return {"name": self.name, "mode": "in-process", "alive": True, "runs": 0}

    def cancel(self, run_id: str) -> None:
        """In-process runs finish inside ``start``; there is nothing left to cancel."""

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """An in-process run dies with its scheduler: report it lost (retried per policy)."""
        report(ExecResult(spec.run_id, False, None, "ProcessLost",
                          "the scheduler stopped while the run was executing in-process"))
        return True

    def shutdown(self) -> None:
        """Nothing runs in the background."""
