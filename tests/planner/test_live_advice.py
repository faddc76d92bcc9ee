"""jit's rollout computed on a snapshot of a decision (``andon.planner.advice``), as the live
runner's worker does: the advice applied to the rule's order gives the simulator's jit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from andon.engine.state import EngineState
from andon.events import Event
from andon.model.graph import Graph
from andon.model.status import RunStatus
from andon.planner.advice import Advice, Signature, apply, contended, evaluate, signature, take
from andon.planner.live import make_planner
from andon.planner.policies import Jit
from andon.planner.state import PlanningState, R
from andon.sim.scenario import load_scenario
from andon.sim.simulator import EngineSim

SCENARIOS = Path(__file__).resolve().parents[2] / "benchmarks/scenarios"


class Twins:
    """The simulator's jit (rollout on the decision) and the live one (rule and hold-back)
    plus the advice of a snapshot of the same decision, fed the same decisions and events."""

    def __init__(self, graph: Graph) -> None:
        self.ref = Jit(graph)
        self.live = make_planner("jit", graph)
        self.stats = self.ref.stats
        self.advised = self.differ = 0

    def __call__(self, graph: Graph, state: PlanningState, ready: list[R], now: datetime
                 ) -> list[R]:
        want = self.ref(graph, state, ready, now)
        got = self.live(graph, state, ready, now)
        if got and contended(graph, state, ready):
            advice = evaluate(graph, take(graph, state, ready, got, now, self.live))
            assert advice.signature == signature(state, ready)
            self.advised += advice.first is not None
            self.differ += [r.run_id for r in got] != [r.run_id for r in want]
            got = apply(advice, ready, got)
        assert [r.run_id for r in got] == [r.run_id for r in want]
        return want

    def observe(self, state: PlanningState, events: list[Event]) -> None:
        self.ref.observe(state, events)
        self.live.observe(state, events)


def test_the_advice_on_a_snapshot_makes_the_live_order_the_rollouts() -> None:
    sim = EngineSim(load_scenario(SCENARIOS / "midday-switch.json"), "jit")
    twins = Twins(sim.graph)
    sim.policy = twins  # type: ignore[assignment]
    sim.run()
    # the rollout changed decisions, and each was the advice's
    assert twins.ref.rolled > 0 and twins.advised == twins.ref.rolled == twins.differ


def test_a_snapshot_shares_nothing_the_engine_changes() -> None:
    sim = EngineSim(load_scenario(SCENARIOS / "midday-switch.json"), "jit")
    seen: list[tuple[EngineState, list, object]] = []

    def spy(graph: Graph, state: PlanningState, ready: list[R], now: datetime) -> list[R]:
        out = planner(graph, state, ready, now)
        if out and contended(graph, state, ready) and not seen:
            snap = take(graph, state, ready, out, now, planner)
            seen.append((state, ready, snap))  # type: ignore[arg-type]
        return out

    planner = make_planner("jit", sim.graph)
    sim.policy = planner
    sim._timed_policy = spy  # type: ignore[method-assign]
    sim.run()
    state, ready, snap = seen[0]
    # the engine went on and started or finished those runs; the snapshot's copies did not move
    assert {r.status for r in snap.ready} == {RunStatus.QUEUED}
    assert RunStatus.QUEUED not in {r.status for r in ready}
    assert snap.in_use is not state.pool_used and snap.busy is not state.active


@dataclass
class _Run:
    run_id: str


def test_advice_puts_its_run_first_even_one_held_back_and_leaves_the_order_otherwise() -> None:
    a, b, c = _Run("a"), _Run("b"), _Run("c")
    sig: Signature = (frozenset("abc"), ())
    ordered = [a, b]  # c held back by the rule
    assert apply(Advice(sig, "b"), [a, b, c], ordered) == [b, a]
    assert apply(Advice(sig, "c"), [a, b, c], ordered) == [c, a, b]
    assert apply(Advice(sig, None), [a, b, c], ordered) == [a, b]
    assert apply(Advice(sig, "gone"), [a, b, c], ordered) == [a, b]
