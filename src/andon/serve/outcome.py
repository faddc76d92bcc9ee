"""What ``andon.materialize`` hands back: every run, its outputs and log, the checks' results
and the cord's events, read from the store once everything that could run has run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andon.events import CheckFailed, CheckPassed, Event
from andon.events.codec import to_dict
from andon.model.errors import EXIT_FAILED, AndonError
from andon.store.sql import Store

LOG_CHARS = 64_000  # the tail of a run's log kept in the result (its file may be removed after)
RUN_PAGE = 500  # runs read from the store at a time


@dataclass(frozen=True)
class Output:
    """One partition a run wrote: ``path`` absolute, ``rows`` when the run said."""

    asset: str
    partition: str
    path: Path
    size_bytes: int
    rows: int | None


@dataclass(frozen=True)
class RunOutcome:
    """One run (one attempt). ``status`` is a ``RunStatus`` value (succeeded, failed,
    cancelled, or queued / running for a run that could not go on); ``log`` the tail of its log
    (at most LOG_CHARS characters; "" for a quiet run); ``log_path`` its file while it exists
    (None on a temporary store, removed when ``materialize`` returns)."""

    run_id: str
    pipeline: str
    partition: str
    attempt: int
    status: str
    reason: str
    outputs: tuple[Output, ...]
    log: str
    log_path: Path | None
    error_type: str = ""
    error_message: str = ""
    work_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class CheckOutcome:
    """A data check's result on one version of a partition."""

    asset: str
    partition: str
    version: int
    check: str
    passed: bool
    blocking: bool
    message: str
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CordEvent:
    """One of the cord's events (``name``: cord.pulled, cord.halted ...) as its JSON fields."""

    name: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class MaterializeResult:
    """Everything one ``materialize`` did. ``waiting`` lists the (pipeline, partition) asked
    for that never ran (an input never came, or a cord holds it); ``ok`` is True when every run's
    last attempt succeeded, no blocking check failed and nothing asked for is waiting."""

    project_dir: Path
    runs: tuple[RunOutcome, ...]
    checks: tuple[CheckOutcome, ...]
    cords: tuple[CordEvent, ...]
    waiting: tuple[tuple[str, str], ...] = ()
    asked: tuple[tuple[str, str], ...] = ()  # the (pipeline, partition) requested explicitly

    @property
    def final(self) -> tuple[RunOutcome, ...]:
        """The last attempt of each (pipeline, partition), in the order they were first run."""
        last: dict[tuple[str, str], RunOutcome] = {}
        for run in self.runs:
            last.pop((run.pipeline, run.partition), None)
            last[(run.pipeline, run.partition)] = run
        return tuple(last.values())

    @property
    def failed(self) -> tuple[RunOutcome, ...]:
        """The runs whose last attempt did not succeed."""
        return tuple(r for r in self.final if not r.ok)

    @property
    def blocked(self) -> tuple[CheckOutcome, ...]:
        """The blocking checks that failed (each pulled the cord on its partition)."""
        return tuple(c for c in self.checks if c.blocking and not c.passed)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.waiting and not self.blocked

    def output(self, asset: str, partition: str) -> Path:
        """The path of the newest output of ``asset`` ``partition`` a run of this result wrote;
        KeyError naming what was written when there is none."""
        for run in reversed(self.runs):
            for out in run.outputs:
                if (out.asset, out.partition) == (asset, partition) and run.ok:
                    return out.path
        made = sorted({f"{o.asset} {o.partition}" for r in self.runs if r.ok for o in r.outputs})
        raise KeyError(f"no run wrote {asset} {partition}; written: {', '.join(made) or 'none'}")

    def summary(self) -> str:
        """One line per run that did not succeed and per waiting partition."""
        lines = [f"{r.pipeline} {r.partition} attempt {r.attempt}: {r.status}"
                 + (f" ({r.error_type}: {r.error_message})" if r.error_type else "")
                 for r in self.failed]
        lines += [f"{p} {k}: never ran (an input is missing or a cord holds it)"
                  for p, k in self.waiting]
        lines += [f"{c.asset} {c.partition}: blocking check {c.check} failed ({c.message})"
                  for c in self.blocked]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON (``andon materialize --json``)."""
        return {
            "ok": self.ok,
            "runs": [{"run_id": r.run_id, "pipeline": r.pipeline, "partition": r.partition,
                      "attempt": r.attempt, "status": r.status, "reason": r.reason,
                      "error_type": r.error_type, "error_message": r.error_message,
                      "work_seconds": r.work_seconds,
                      "outputs": [{"asset": o.asset, "partition": o.partition,
                                   "path": str(o.path), "size_bytes": o.size_bytes,
                                   "rows": o.rows} for o in r.outputs]} for r in self.runs],
            "checks": [{"asset": c.asset, "partition": c.partition, "version": c.version,
                        "check": c.check, "passed": c.passed, "blocking": c.blocking,
                        "message": c.message} for c in self.checks],
            "cords": [{"name": c.name, **c.fields} for c in self.cords],
            "waiting": [{"pipeline": p, "partition": k} for p, k in self.waiting],
        }


class MaterializeError(AndonError):
    """Some run asked for did not succeed; ``result`` holds everything that happened."""

    exit_code = EXIT_FAILED

    def __init__(self, result: MaterializeResult) -> None:
        self.result = result
        failed = len(result.failed) + len(result.waiting) + len(result.blocked)
        super().__init__(f"{failed} partition(s) were not made or failed a check:\n"
                         f"{result.summary()}",
                         hint="read each run's log in result.runs (or `andon logs RUN_ID`)")


def collect(store: Store, project_dir: Path, after_seq: int, keep_logs: bool,
            waiting: Sequence[tuple[str, str]] = (),
            asked: Sequence[tuple[str, str]] = ()) -> MaterializeResult:
    """The result from the store: the runs first recorded after ``after_seq``, oldest first, and
    the check and cord events logged after it."""
    runs = []
    offset = 0
    while True:
        page = store.runs(limit=RUN_PAGE, offset=offset)
        runs += [r for r in page if r.seq > after_seq]
        if len(page) < RUN_PAGE or page[-1].seq <= after_seq:
            break
        offset += RUN_PAGE
    runs.sort(key=lambda r: r.seq)
    outcomes = tuple(_outcome(r, project_dir, keep_logs) for r in runs)
    checks: list[CheckOutcome] = []
    cords: list[CordEvent] = []
    for _, event in store.events(after=after_seq):
        if isinstance(event, (CheckPassed, CheckFailed)):
            checks.append(CheckOutcome(event.asset, event.partition, event.version, event.check,
                                       isinstance(event, CheckPassed), event.blocking,
                                       event.message, dict(event.numbers)))
        elif event.name.startswith("cord."):
            cords.append(_cord(event))
    return MaterializeResult(project_dir, outcomes, tuple(checks), tuple(cords), tuple(waiting),
                             tuple(asked))


def _cord(event: Event) -> CordEvent:
    fields = {k: v for k, v in to_dict(event).items() if k not in ("type", "name")}
    return CordEvent(event.name, fields)


def _outcome(row: Any, project_dir: Path, keep_logs: bool) -> RunOutcome:
    log_path = Path(row.log_path) if row.log_path else None
    text = ""
    if log_path is not None and log_path.is_file():
        with log_path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(size - LOG_CHARS, 0))
            text = fh.read().decode("utf-8", "replace")
    outputs = tuple(Output(o["asset"], o["partition"], project_dir / o["location"],
                           int(o.get("size_bytes") or 0), o.get("rows"))
                    for o in row.outputs)
    return RunOutcome(row.run_id, row.pipeline, row.partition, row.attempt, row.status.value,
                      row.reason, outputs, text, log_path if keep_logs else None,
                      row.error_type, row.error_message, row.work_seconds)
