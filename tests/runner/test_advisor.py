"""The rollout's worker thread (``andon.live.advisor``): advice taken when still valid, ignored
when stale, a decision never waits for the worker, and a failing worker leaves the rule."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from andon.engine.runs import Run
from andon.live.advisor import Advised, Advisor, dispatcher
from andon.model.graph import Graph
from andon.planner.advice import Advice, Snapshot
from andon.planner.live import make_planner
from andon.planner.policies import Jit, make_policy
from andon.sim.scenario import load_scenario

GRAPH: Graph = load_scenario(Path(__file__).resolve().parents[2]
                             / "benchmarks/scenarios/midday-switch.json").graph
NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
KEY = "2026-01-05"


def queued(*names: str) -> list[Run]:
    return [Run(f"{n}:{KEY}:1", n, KEY, 1, "new_data", NOW, seq, pool="one")
            for seq, n in enumerate(names)]


def state(ready: list[Run], used: int = 0) -> Snapshot:
    """A planning state with ``ready`` queued and ``used`` slots of pool ``one`` taken (a
    snapshot is a ``PlanningState``)."""
    return Snapshot((frozenset(), ()), NOW, [], [], {r.run_id: r for r in ready}, [],
                    {"one": used} if used else {}, {}, {(r.pipeline, KEY): r.run_id for r in ready},
                    {}, {}, {})


def advised(evaluate: object) -> tuple[Advised, Advisor]:
    advisor = Advisor(evaluate)  # type: ignore[arg-type]
    return Advised(GRAPH, make_policy("fifo", GRAPH), advisor), advisor


def last(snap: Snapshot) -> Advice:
    """Advice to start the rule's last run first."""
    return Advice(snap.signature, snap.ordered[-1])


def ids(runs: list[Run]) -> list[str]:
    return [r.pipeline for r in runs]


def test_valid_advice_is_taken_and_stale_advice_ignored() -> None:
    dispatch, advisor = advised(last)
    ready = queued("am0", "am1", "am2")
    st = state(ready)
    assert ids(dispatch(GRAPH, st, ready, NOW)) == ["am0", "am1", "am2"]  # the rule, at once
    assert advisor.idle(10)
    assert ids(dispatch(GRAPH, st, ready, NOW)) == ["am2", "am0", "am1"]  # the same decision
    assert dispatch.used == 1 and dispatch.stale == 0
    more = queued("am0", "am1", "am2", "am3")
    assert ids(dispatch(GRAPH, state(more), more, NOW)) == ["am0", "am1", "am2", "am3"]
    assert advisor.idle(10)  # advice for the four ready runs ...
    taken = state(ready, used=1)  # ... but am3 started meanwhile: another decision
    assert ids(dispatch(GRAPH, taken, ready, NOW)) == ["am0", "am1", "am2"]
    assert dispatch.stale == 1 and dispatch.used == 1
    assert advisor.idle(10)  # the worker was asked about the new decision
    assert ids(dispatch(GRAPH, taken, ready, NOW)) == ["am2", "am0", "am1"]
    assert dispatch.used == 2
    advisor.stop()


def test_an_uncontended_decision_asks_nothing() -> None:
    dispatch, advisor = advised(last)
    ready = queued("am0")
    assert ids(dispatch(GRAPH, state(ready), ready, NOW)) == ["am0"]
    assert not advisor.alive() and advisor.evaluated == 0


def test_a_decision_never_waits_for_a_busy_worker() -> None:
    gate = threading.Event()
    entered = threading.Event()

    def slow(snap: Snapshot) -> Advice:
        entered.set()
        gate.wait()  # held until the test lets it go: the worker is as slow as it gets
        return last(snap)

    dispatch, advisor = advised(slow)
    ready = queued("am0", "am1", "am2")
    st = state(ready)
    dispatch(GRAPH, st, ready, NOW)
    assert entered.wait(10)
    for _ in range(50):  # each returns the rule's order while the worker is stuck
        assert ids(dispatch(GRAPH, st, ready, NOW)) == ["am0", "am1", "am2"]
    assert not advisor.ask(lambda: pytest.fail("a busy worker takes no snapshot"))
    assert not advisor.idle(0)
    gate.set()
    assert advisor.idle(10)
    assert ids(dispatch(GRAPH, st, ready, NOW)) == ["am2", "am0", "am1"]
    advisor.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_that_raises_or_dies_leaves_the_rule(caplog: pytest.LogCaptureFixture) -> None:
    def broken(snap: Snapshot) -> Advice:
        raise RuntimeError("what-if failed")

    dispatch, advisor = advised(broken)
    ready = queued("am0", "am1", "am2")
    st = state(ready)
    for _ in range(2):
        assert ids(dispatch(GRAPH, st, ready, NOW)) == ["am0", "am1", "am2"]
        assert advisor.idle(10)
    assert advisor.failed == 2 and advisor.advice() is None and advisor.alive()
    assert "the rollout's evaluation failed" in caplog.text
    advisor.stop()

    def dies(snap: Snapshot) -> Advice:
        raise SystemExit  # ends the thread, as nothing else could

    dispatch, advisor = advised(dies)
    dispatch(GRAPH, st, ready, NOW)
    assert advisor._thread is not None
    advisor._thread.join(10)
    assert not advisor.alive()
    for _ in range(3):  # no worker: the rule, and no snapshot handed to nobody
        assert ids(dispatch(GRAPH, st, ready, NOW)) == ["am0", "am1", "am2"]
    assert not advisor.ask(lambda: pytest.fail("a dead worker takes no snapshot"))


def test_the_worker_runs_only_for_jit_when_on() -> None:
    live = make_planner("jit", GRAPH)
    dispatch, advisor = dispatcher(GRAPH, live, True)
    assert isinstance(dispatch, Advised) and isinstance(advisor, Advisor)
    assert isinstance(live, Jit) and not live.rollout  # never on the deciding thread
    assert dispatcher(GRAPH, live, False) == (live, None)
    fifo = make_policy("fifo", GRAPH)
    assert dispatcher(GRAPH, fifo, True) == (fifo, None)


def test_the_runner_decides_through_the_advised_dispatch_and_stops_its_worker(
        tmp_path: Path) -> None:
    from andon.executors.inprocess import InProcessExecutor
    from andon.live.runner import Runner
    from andon.store.sql import Store

    store = Store(f"sqlite:///{tmp_path / 'andon.db'}")
    runner = Runner(GRAPH, store, InProcessExecutor(lambda name: None), tmp_path,
                    tmp_path / "runs", policy=make_planner("jit", GRAPH), advise=True)
    assert isinstance(runner.dispatch, Advised) and runner.advisor is not None
    ready = queued("am0", "am1", "am2")
    runner.dispatch(GRAPH, state(ready), ready, NOW)  # starts the worker
    assert runner.advisor.idle(10) and runner.advisor.alive()
    runner.stop()
    assert not runner.advisor.alive()
    store.close()
    plain = Runner(GRAPH, Store(f"sqlite:///{tmp_path / 'b.db'}"), InProcessExecutor(
        lambda name: None), tmp_path, tmp_path / "runs", policy=make_planner("jit", GRAPH))
    assert plain.dispatch is plain.policy and plain.advisor is None
    plain.store.close()


def test_no_worker_beyond_the_simulators_bound_on_the_rollout() -> None:
    live = make_planner("jit", GRAPH)
    assert dispatcher(GRAPH, live, True, limit=len(GRAPH.pipelines) - 1) == (live, None)
    dispatch, advisor = dispatcher(GRAPH, live, True, limit=None)
    assert isinstance(dispatch, Advised) and advisor is not None
