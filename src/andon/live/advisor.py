"""jit's rollout on a worker thread of its own, for the runner: the runner never waits for it.

At a contended decision (more runs may start than there are free slots) the runner orders the
ready runs by jit's rule and hold-back at once, as without the worker, and, when the worker is
idle, hands it a snapshot of the decision (``andon.planner.advice.take``). The worker runs the
rollout on it (``advice.evaluate``: a deterministic budget of what-if days) and keeps the advice
it comes to. A later decision that sees the same ready runs and slots in use (the snapshot's
signature) starts the advised run first; any other decision ignores it (stale) and goes by the
rule. A worker that raises, or a thread that died, leaves every decision to the rule.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from andon.model.graph import Graph
from andon.planner.advice import Advice, Snapshot, advisable, apply, contended, evaluate, signature, take
from andon.planner.policies import Jit, Planner
from andon.planner.state import PlanningState, R

log = logging.getLogger("andon.live.advisor")
Evaluate = Callable[[Snapshot], Advice]


class Advisor:
    """The worker: one snapshot at a time, the latest advice kept. ``ask`` and ``advice`` never
    block on the evaluation (a lock guards only the hand-over of a reference)."""

    def __init__(self, evaluate: Evaluate) -> None:
        self._evaluate = evaluate
        self._lock = threading.Condition()
        self._pending: Snapshot | None = None
        self._busy = False
        self._stopped = False
        self._latest: Advice | None = None
        self._thread: threading.Thread | None = None
        self.evaluated = 0  # snapshots evaluated (raised or not)
        self.failed = 0  # evaluations that raised

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ask(self, snapshot: Callable[[], Snapshot]) -> bool:
        """Hand the worker the decision ``snapshot()`` takes, when it is idle (False, nothing
        taken: it is busy with an earlier one, stopped, or its thread died)."""
        with self._lock:
            if self._stopped or self._busy or self._pending is not None:
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="andon-advisor",
                                                daemon=True)
                self._thread.start()
            elif not self._thread.is_alive():
                return False
            self._pending = snapshot()
            self._lock.notify_all()
            return True

    def advice(self) -> Advice | None:
        """The advice of the latest evaluation (None: none yet, or it raised)."""
        return self._latest

    def idle(self, timeout: float) -> bool:
        """Wait until the worker has nothing to do (for tests and benchmarks, never the runner);
        False when ``timeout`` seconds passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._busy and self._pending is None, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._stopped or self._pending is not None)
                if self._stopped:
                    return
                snap, self._pending, self._busy = self._pending, None, True
            advice: Advice | None = None
            try:
                assert snap is not None
                advice = self._evaluate(snap)
            except Exception:  # the runner goes by the rule meanwhile; the next ask tries again
                self.failed += 1
                log.exception("the rollout's evaluation failed")
            with self._lock:
                self.evaluated += 1
                self._latest = advice
                self._busy = False
                self._lock.notify_all()


class Advised:
    """The runner's dispatch policy: ``planner``'s order, with the advisor's advice applied
    when it is for this very decision. Counts the decisions that ``used`` advice to start
    another run first, and the advice found ``stale`` (for another decision)."""

    def __init__(self, graph: Graph, planner: Planner, advisor: Advisor) -> None:
        self.graph = graph
        self.planner = planner
        self.advisor = advisor
        self.used = 0
        self.stale = 0
        self._seen: Advice | None = None

    def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                 now: datetime) -> list[R]:
        ordered = self.planner(graph, state, ready, now)
        if not ordered or not contended(graph, state, ready):
            return ordered
        advice = self.advisor.advice()
        if advice is not None:
            if advice.signature == signature(state, ready):
                self.used += advice.first is not None
                self._seen = advice
                return apply(advice, ready, ordered)
            if advice is not self._seen:  # counted once, and not once it was taken
                self.stale += 1
                self._seen = advice
        self.advisor.ask(lambda: take(graph, state, ready, ordered, now, self.planner))
        return ordered


def dispatcher(graph: Graph, planner: Planner, on: bool, limit: int | None = Jit.plan_at_once
               ) -> tuple[Planner | Advised, Advisor | None]:
    """The runner's dispatch policy and its advisor: ``planner`` alone when ``on`` is False, it
    has no rollout (only jit has), or the graph has more than ``limit`` pipelines (the
    simulator's bound on the rollout, ``Jit.plan_at_once``: beyond it one evaluation takes
    seconds, arrives stale, and its thread takes the interpreter lock from the runner's for
    nothing); else ``planner`` advised by a worker running its rollout."""
    if not on or not advisable(planner) or (limit is not None and len(graph.pipelines) > limit):
        return planner, None
    advisor = Advisor(lambda snap: evaluate(graph, snap))
    return Advised(graph, planner, advisor), advisor
