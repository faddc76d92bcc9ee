"""The launcher (``andon.live.launcher``): starts off the runner thread, a cancel kept after its
run's start, pending starts counted by the inbox. In process: an executor whose ``start`` waits
for the test, as a fork server's answer makes the local executor's wait."""

from __future__ import annotations

import threading

from andon.executors.base import ExecResult, Report, RunSpec
from andon.live.inbox import Inbox
from andon.live.launcher import Launcher, unstarted
from tests.executors.helpers import GUARD


class GatedExecutor:
    """Records the calls it gets; ``start`` returns only once ``gate`` is set."""

    name = "gated"
    concurrent_start = True

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def start(self, spec: RunSpec, report: Report) -> int:
        assert self.gate.wait(GUARD)
        with self.lock:
            self.calls.append(("start", spec.run_id))
        return 1

    def cancel(self, run_id: str) -> None:
        with self.lock:
            self.calls.append(("cancel", run_id))

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        return False


def _spec(run_id: str) -> RunSpec:
    return RunSpec(run_id, "p", "2026-01-05", 1, "/nowhere", f"/nowhere/{run_id}")


def test_a_cancel_waits_for_its_runs_start_and_drain_counts_pending_starts() -> None:
    executor, inbox = GatedExecutor(), Inbox()

    def start(spec: RunSpec) -> None:  # as the runner's: the executor's start, then run.launched
        executor.start(spec, lambda result: None)
        inbox.put(("launched", spec.run_id))

    launcher = Launcher(executor, inbox, start)
    launcher.launch(_spec("a"))
    launcher.launch(_spec("b"))
    launcher.cancel("a")  # its start is under way: the cancel must follow it
    launcher.cancel("elsewhere")  # no start pending: straight to the executor
    assert executor.calls == [("cancel", "elsewhere")]
    assert launcher.pending() == 2
    assert not inbox.wait(0.0, no_runs=False)  # the pending starts count as unfinished
    executor.gate.set()  # the starts return (the fork server answered)
    assert launcher.wait(GUARD)
    assert executor.calls.index(("start", "a")) < executor.calls.index(("cancel", "a"))
    assert ("cancel", "b") not in executor.calls
    items = inbox.take(0.0)
    assert sorted(items) == [("launched", "a"), ("launched", "b")]  # type: ignore[type-var]
    assert not inbox.wait(0.0, no_runs=False)  # handed out, not yet handled
    inbox.done(len(items), 0)
    assert inbox.wait(GUARD, no_runs=False)


def test_a_start_that_raises_still_ends_its_count() -> None:
    executor, inbox = GatedExecutor(), Inbox()

    def start(spec: RunSpec) -> None:
        raise RuntimeError("the runner's start never raises; if it did, drain must not hang")

    launcher = Launcher(executor, inbox, start)
    launcher.launch(_spec("a"))
    assert launcher.wait(GUARD)
    assert inbox.wait(GUARD, no_runs=False)


def test_a_lazy_item_put_while_the_taker_sleeps_is_handed_out() -> None:
    inbox = Inbox()
    taken: list[list[object]] = []
    taker = threading.Thread(target=lambda: taken.append(inbox.take(None)))
    taker.start()
    inbox.put("launched", lazy=True)  # from another thread, while take() sleeps unbounded
    taker.join(GUARD)
    assert taken == [["launched"]]


def test_a_run_that_could_not_start_failed_without_running() -> None:
    result = unstarted("r1", OSError("no memory"))
    assert result == ExecResult("r1", False, None, "OSError", "could not start the run: no memory")
