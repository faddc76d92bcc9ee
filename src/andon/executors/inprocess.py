"""Run pipelines inline, in the calling thread (tests, notebooks)."""

from __future__ import annotations

from andon.executors.base import ExecResult, Report, RunSpec
from andon.executors.execute import Resolver, run_spec


class InProcessExecutor:
    """Executes each run synchronously inside ``start``; cancellation is not possible."""

    name = "inprocess"

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve

    def start(self, spec: RunSpec, report: Report) -> int:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("a") as log:
            result = run_spec(spec, self._resolve, log)
        report(result)
        return 0

    def cancel(self, run_id: str) -> None:
        """In-process runs finish inside ``start``; there is nothing left to cancel."""

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """An in-process run dies with its scheduler: report it lost (retried per policy)."""
        report(ExecResult(spec.run_id, False, None, "ProcessLost",
                          "the scheduler stopped while the run was executing in-process"))
        return True

    def shutdown(self) -> None:
        """Nothing runs in the background."""
