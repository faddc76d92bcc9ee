"""Run the checks of an asset on each new version of its partitions, in the live shell.

Checks read data, so they never run on the scheduler's thread: the runner's listener hands each
new partition version to a small thread pool, and the results come back to the scheduler as
events (``check.passed`` / ``check.failed``) through ``submit``, like any other happening. A failing
blocking check also submits a cord pull on the partition. Versions made while no runner listened
are handed over once at start-up (``catch_up``, from ``andon.checks.backlog``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from andon.checks.context import CheckContext, CheckResult, as_result, finite_numbers
from andon.engine.cords import cord_id_for
from andon.events import (
    CheckFailed,
    CheckPassed,
    CordPulled,
    Event,
    PartitionAvailable,
    RunSucceeded,
)
from andon.model.definitions import Check
from andon.model.graph import Graph

if TYPE_CHECKING:  # backlog imports this module's ids
    from andon.checks.backlog import Owed

log = logging.getLogger("andon.checks")

Submit = Callable[[Event], Any]
# (asset, partition, version, failed blocking checks, now) -> the event that pulls the cord
PullCord = Callable[[str, str, int, Sequence[CheckFailed], datetime], Event]


def check_event_id(asset: str, partition: str, version: int, check: str) -> str:
    """The id of ``check``'s verdict on one partition version: the same version is never
    recorded as checked twice by the same check (``andon.checks.backlog`` looks verdicts up by
    it)."""
    return f"check:{asset}:{partition}:{version}:{check}"


def cord_pull_id(asset: str, partition: str, version: int) -> str:
    """The id of the cord pull that failed blocking checks make on one partition version."""
    return f"pull:{cord_id_for(asset, partition, version, check=True)}"


def check_event(check: Check, ctx: CheckContext, result: CheckResult,
                at: datetime) -> CheckPassed | CheckFailed:
    """The event recording ``result``; its id is ``check_event_id``."""
    cls = CheckPassed if result.passed else CheckFailed
    return cls(id=check_event_id(check.asset, ctx.partition, ctx.version, check.name), at=at,
               asset=check.asset, partition=ctx.partition, version=ctx.version, check=check.name,
               blocking=check.blocking, numbers=finite_numbers(result.numbers),
               message=result.message[:2000])


def cord_pull(asset: str, partition: str, version: int, failed: Sequence[CheckFailed],
              now: datetime) -> CordPulled:
    """The cord pull for ``failed`` blocking checks on one partition version: one cord per bad
    version (``cord_id_for`` with ``check``). Its event id is derived from the version, so
    submitting it twice pulls once."""
    cord_id = cord_id_for(asset, partition, version, check=True)
    reason = "; ".join(f"check {e.check} failed: {e.message}" for e in failed)
    return CordPulled(id=cord_pull_id(asset, partition, version), at=now, cord_id=cord_id, asset=asset,
                      partition=partition, version=version, reason=reason[:2000],
                      by="check:" + ",".join(e.check for e in failed),
                      detected_at=min(e.at for e in failed))


def run_check(check: Check, ctx: CheckContext) -> CheckResult:
    """Run one check; a check that raises has failed (its data could not even be judged)."""
    if not ctx.path.exists():
        return CheckResult(False, {}, f"no data at {ctx.path}")
    try:
        return as_result(check.fn(ctx))
    except Exception as exc:
        log.warning("check %s on %s %s raised %s: %s", check.name, check.asset, ctx.partition,
                    type(exc).__name__, exc)
        return CheckResult(False, {}, f"the check raised {type(exc).__name__}: {exc}")


def run_checks(checks: Sequence[Check], ctx: CheckContext,
               now: Callable[[], datetime]) -> list[CheckPassed | CheckFailed]:
    """Run every check of one partition version in order, sharing one read of the data."""
    return [check_event(c, ctx, run_check(c, ctx), now()) for c in checks]


class CheckRunner:
    """Subscribe ``on_events`` to the runner. ``version_of(asset, partition)`` must answer from the
    scheduler's state, which the listener runs next to."""

    def __init__(self, graph: Graph, checks: Iterable[Check], project_dir: Path, submit: Submit,
                 now: Callable[[], datetime], version_of: Callable[[str, str], int],
                 pull_cord: PullCord | None = cord_pull, workers: int = 2) -> None:
        self.graph = graph
        self.project_dir = project_dir
        self.by_asset: dict[str, list[Check]] = {}
        for check in checks:
            self.by_asset.setdefault(check.asset, []).append(check)
        self._submit = submit
        self._now = now
        self._version_of = version_of
        self._pull_cord = pull_cord
        self._pool = ThreadPoolExecutor(max(workers, 1), thread_name_prefix="andon-check")
        self._pending: set[Future[None]] = set()

    def on_events(self, events: Sequence[Event]) -> None:
        """Listener: hand each new version of a checked partition to the pool (cheap; never
        reads data here)."""
        if not self.by_asset:
            return
        found: dict[tuple[str, str], str] = {}
        for event in events:
            if isinstance(event, PartitionAvailable) and event.asset in self.by_asset:
                found[(event.asset, event.partition)] = event.location
            elif isinstance(event, RunSucceeded):
                for out in event.outputs:
                    if out.asset in self.by_asset:
                        found[(out.asset, out.partition)] = out.location
        for (asset, partition), location in found.items():
            version = self._version_of(asset, partition)
            if version:
                self.check(asset, partition, version, location)

    def catch_up(self, owed: Iterable[Owed]) -> int:
        """Hand over the versions checked by nobody (``andon.checks.backlog.owed``, read once
        at start-up before the runner starts), each with only its owed checks; their number."""
        count = 0
        for item in owed:
            if item.asset in self.by_asset:
                self.check(item.asset, item.partition, item.version, item.location, item.checks)
                count += 1
        return count

    def check(self, asset: str, partition: str, version: int, location: str = "",
              only: Collection[str] | None = None) -> Future[None]:
        """Run ``asset``'s checks (those named in ``only``, when given) on one partition
        version in the pool."""
        definition = self.graph.assets.get(asset)
        path = self.project_dir / (location or (definition.location_of(partition) if definition
                                                else ""))
        end = None
        if definition is not None and definition.partitions.is_time:
            end = definition.partitions.end(partition)
        ctx = CheckContext(asset, partition, version, path, self.project_dir, self._now(), end,
                           definition)
        future = self._pool.submit(self._run, ctx, only)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def _run(self, ctx: CheckContext, only: Collection[str] | None) -> None:
        try:
            self._run_all(ctx, only)
        except Exception:  # a bug here must not go unnoticed in a future nobody reads
            log.exception("checks of %s %s failed to run", ctx.asset, ctx.partition)

    def _run_all(self, ctx: CheckContext, only: Collection[str] | None) -> None:
        checks = [c for c in self.by_asset.get(ctx.asset, ()) if only is None or c.name in only]
        events = run_checks(checks, ctx, self._now)
        for event in events:
            self._submit(event)
        failed = [e for e in events if isinstance(e, CheckFailed) and e.blocking]
        if failed and self._pull_cord is not None:
            self._submit(self._pull_cord(ctx.asset, ctx.partition, ctx.version, failed,
                                         self._now()))

    def wait(self, timeout: float) -> bool:
        """Wait until the checks handed over so far have run (tests, scripts)."""
        _done, pending = futures_wait(list(self._pending), timeout)
        return not pending

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, finish the checks already handed over."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
