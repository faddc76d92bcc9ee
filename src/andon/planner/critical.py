"""The critical path of a deliverable: the chain of upstream partitions that decides when it
finishes, each step with its start, finish and latest finish.

Walked backwards from the deliverable, always to the input that came (or comes) last. Where the
work is still to happen that is the forecast schedule's own choice (``Node.cause``, the input
that arrived last, or the input that never finishes when something is blocked); where it
happened, the input partition made last, as the engine's state says (the inputs the run read).
The latest finish of a step is the due time propagated upstream (``planner/due.py``); a source
partition's is the latest start of the step that reads it (its latest finish less the time that
step takes, as planned or as it ran).

Pure, and asked lazily: the forecast hands a deliverable this walk to make when the plan is
shown, not each time it re-plans. The walk only reads: partitions and ended runs it finds in the
state do not change (a re-made partition shows its newest making).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from andon.model.graph import Graph
from andon.planner.schedule import ARRIVAL, BLOCKED, FUTURE, QUEUED, RUNNING, Node
from andon.planner.state import PlanningState

MOST = 12  # steps at most: a chain through many earlier partitions of the same pipeline ends
STATES = {RUNNING: "running", QUEUED: "queued", FUTURE: "waiting", BLOCKED: "blocked"}
Latest = Callable[[str, str], float | None]  # (pipeline, partition) -> latest finish


@dataclass(frozen=True)
class Step:
    """One partition on a critical path. ``kind`` is ``arrival`` (a source partition: ``name``
    is the source, ``finish`` its arrival) or ``run`` (``name`` is the pipeline that makes it).
    ``state``: ``done``; for a run still to happen ``running``, ``queued``, ``waiting`` or
    ``blocked``; for an arrival still to happen ``expected`` or ``overdue``. Times are epoch
    seconds (None: unknown, or never without a person); ``latest_finish`` is when it must be
    there for every deadline downstream (None: no deadline needs it by then, or unknown);
    ``slides``: its times move with the clock (it waits for something overdue)."""

    kind: str
    name: str
    partition: str
    state: str
    start: float | None
    finish: float | None
    latest_finish: float | None
    slides: bool = False

    def shifted(self, delta: float) -> Step:
        """This step ``delta`` seconds later (its latest finish stays)."""
        return replace(self, start=_plus(self.start, delta), finish=_plus(self.finish, delta))


def _plus(value: float | None, delta: float) -> float | None:
    return None if value is None else value + delta


def critical_path(graph: Graph, state: PlanningState, latest: Latest, pipeline: str, key: str,
                  node: Node | None = None) -> tuple[Step, ...]:
    """The steps from the first (a source's arrival, usually) to the deliverable ``pipeline``
    ``key`` itself. ``node`` is its node in the forecast's schedule; None when it is delivered."""
    steps: list[Step] = []
    made: tuple[str, str] | None = None  # a partition that exists: go on from it
    current = node
    while current is not None and len(steps) < MOST:
        steps.append(_planned(current, latest))
        if current.kind == ARRIVAL:
            return _arrivals_due(steps)
        stuck = next((n for n in current.inputs if n.finish is None), None)
        if stuck is not None or current.cause is not None:
            current = stuck or current.cause
            continue
        # every input was there when the plan was made: the one made last decides
        made = _made_last(graph, state, current.pipeline, current.partition, current.start)
        current = None
    if node is None:
        outputs = graph.pipelines[pipeline].outputs
        made = (outputs[0], key) if outputs else None
    seen: set[tuple[str, str]] = set()
    while made is not None and made not in seen and len(steps) < MOST:
        seen.add(made)
        asset, part = made
        found = state.partitions.get(made)
        producer = graph.producer.get(asset)
        if found is None:
            break
        finish = found.at.timestamp()
        if producer is None:
            steps.append(Step("arrival", asset, part, "done", None, finish, None))
            break
        run = state.runs.get(found.run_id) if found.run_id else None
        began = run.started_at.timestamp() if run is not None and run.started_at else None
        steps.append(Step("run", producer, part, "done", began, finish, latest(producer, part)))
        if run is None:  # accepted as fixed by hand: nothing ran
            break
        made = _latest_of(state, [(r.asset, r.partition) for r in run.inputs], began)
    return _arrivals_due(steps)


def _arrivals_due(backwards: list[Step]) -> tuple[Step, ...]:
    """The steps first to last, a source's arrival due by the latest start of the step after
    it."""
    steps = list(reversed(backwards))
    for n, (step, after) in enumerate(zip(steps, steps[1:], strict=False)):
        due, start, finish = after.latest_finish, after.start, after.finish
        if step.kind == "arrival" and due is not None and start is not None \
                and finish is not None:
            steps[n] = replace(step, latest_finish=due - (finish - start))
    return tuple(steps)


def _planned(node: Node, latest: Latest) -> Step:
    if node.kind == ARRIVAL:
        return Step("arrival", node.pipeline, node.partition,
                    "overdue" if node.late else "expected", None, node.finish, None, node.slides)
    return Step("run", node.pipeline, node.partition, STATES.get(node.kind, node.kind),
                node.start, node.finish, latest(node.pipeline, node.partition), node.slides)


def _made_last(graph: Graph, state: PlanningState, pipeline: str, key: str,
               before: float | None) -> tuple[str, str] | None:
    """The input of ``pipeline`` ``key`` made last: of the run that read them when there is one
    (queued or running), else of the definitions."""
    run = state.runs.get(state.active.get((pipeline, key), ""))
    if run is not None and run.inputs:
        inputs = [(r.asset, r.partition) for r in run.inputs]
    else:
        try:
            inputs = list(graph.input_keys(pipeline, key))
        except ValueError:  # reads partitions before the first one
            return None
    return _latest_of(state, inputs, before)


def _latest_of(state: PlanningState, inputs: list[tuple[str, str]], before: float | None
               ) -> tuple[str, str] | None:
    """Of ``inputs``, the one made last (before ``before``, the moment they were read, when
    known: a partition re-made since was not what held the step up)."""
    best: tuple[float, tuple[str, str]] | None = None
    fallback: tuple[float, tuple[str, str]] | None = None
    for ref in inputs:
        found = state.partitions.get(ref)
        if found is None:
            continue
        moment = found.at.timestamp()
        if fallback is None or moment > fallback[0]:
            fallback = (moment, ref)
        if (before is None or moment <= before) and (best is None or moment > best[0]):
            best = (moment, ref)
    chosen = best or fallback
    return None if chosen is None else chosen[1]
