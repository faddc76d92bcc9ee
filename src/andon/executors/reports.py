"""What the runner makes of an executor's reports: the event that ends a run, and a latch that
holds a report until the run's launch is in the runner's inbox."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from andon.engine.runs import Run, run_event_id
from andon.events import Event, RunCancelled, RunFailed, RunSucceeded
from andon.executors.base import ExecResult, Report
from andon.model.status import RunStatus


class HeldReport:
    """Holds an executor's report until the run's RunLaunched is in the inbox, so that the log
    always says "launched" before "ended", even for a run that ends inside ``start``."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._lock = threading.Lock()
        self._open = False
        self._held: list[ExecResult] = []

    def __call__(self, result: ExecResult) -> None:
        with self._lock:
            if not self._open:
                self._held.append(result)
                return
        self._report(result)

    def release(self) -> None:
        with self._lock:
            self._open = True
            held, self._held = self._held, []
        for result in held:
            self._report(result)


def ended_event(runs: dict[str, Run], res: ExecResult, now: datetime) -> Event | None:
    """The event ending the run the executor reported on (``res``; looked up in the engine's
    ``runs``), at ``now``; None when it is unknown or not running (already ended, e.g.
    reported twice after a restart)."""
    run = runs.get(res.run_id)
    if run is None or run.status is not RunStatus.RUNNING:
        return None
    queue_s = (run.started_at - run.queued_at).total_seconds() if run.started_at else 0.0
    common: dict[str, Any] = dict(id=run_event_id("ended", run.run_id), at=now, run_id=run.run_id,
                                  pipeline=run.pipeline, partition=run.partition,
                                  attempt=run.attempt)
    if res.cancelled:
        return RunCancelled(**common, by=str(run.extra.get("cancel_by", "")),
                            reason=str(run.extra.get("cancel_reason", "")) or res.error_message)
    if res.ok:
        return RunSucceeded(**common, queue_seconds=queue_s,
                            startup_seconds=res.startup_seconds, work_seconds=res.work_seconds,
                            exit_code=res.exit_code or 0, inputs=run.inputs, outputs=res.outputs,
                            metrics=dict(res.metrics), params=dict(res.params),
                            profiles=dict(res.profiles))
    return RunFailed(**common, queue_seconds=queue_s, startup_seconds=res.startup_seconds,
                     work_seconds=res.work_seconds, exit_code=res.exit_code,
                     error_type=res.error_type, error_message=res.error_message,
                     inputs=run.inputs, frames=res.frames)
