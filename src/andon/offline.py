"""The offline write path: a write with no scheduler running is decided by the engine too.

``andon notify``, ``run``, ``backfill``, ``cancel`` and ``cord pull``/``resolve`` with no
``andon up`` running used to append their event alone and leave every decision to the next
``andon up``. Here the event goes through the same engine path as a live turn
(``andon.engine.core.record``, the runner's own step): the state is rebuilt from the log as
``Runner.recover`` does, each event is handled with the live dispatch policy, and the submitted
events plus what the engine decided (runs queued and started, a cord's halts and suspect
outputs) are appended in one transaction. The SQL read models thus only ever record what the
engine decided, whichever door a write came in by.

The executor is a null one: nothing is launched and no file is moved here. A run the engine
started offline is adopted by the next ``andon up`` (``Runner.recover``: a run that never began
is started then), and a suspect output still to quarantine or delete is moved by it too (it
finds the ``OutputSuspect`` with no ``OutputQuarantined``/``OutputDeleted`` after it), so the
cord's file handling stays in one place, on the runner thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from andon.engine.core import Decisions, mark_all, record, replay, settle
from andon.engine.state import EngineState
from andon.events import Event
from andon.model.dispatch import DEFAULT_POLICY
from andon.model.graph import Graph
from andon.planner.live import LivePlan
from andon.planner.policies import Planner, make_policy
from andon.store.sql import Store


def load(graph: Graph, store: Store, policy: Planner) -> EngineState:
    """The engine state the log builds, every known partition marked for a look, with
    ``policy`` having learned from the log: what ``Runner.recover`` starts from."""
    plan = LivePlan(graph, policy)
    state = replay(graph, plan.tap(store.iter_events()))
    plan.seed(state)
    mark_all(graph, state)
    return state


def submit(graph: Graph, store: Store, events: Sequence[Event], now: datetime,
           policy: Planner | None = None) -> list[bool]:
    """Record ``events`` as one turn of ``andon up`` at time ``now`` would, with nothing running.

    ``graph`` is the project's (``load_project(...).graph``), ``store`` its store, ``events`` the
    requests built by ``andon.service.Service`` (validated there), ``policy`` the live dispatch
    policy (``andon.planner.live.make_planner(settings.policy, graph)``; default ``jit``, as the
    runner's). Returns, per submitted event, True when it was new and False when its id was
    already in the log (it is then skipped, as the runner skips it). One transaction: either
    every event of the turn is stored or none. Not safe beside a running scheduler (that one
    owns the log; send it the events instead)."""
    policy = policy or make_policy(DEFAULT_POLICY, graph)
    state = load(graph, store, policy)
    known = store.known_ids(e.id for e in events)
    out = Decisions()
    ordered: list[Event] = []  # the turn's log, in the order the engine saw it
    answers: list[bool] = []
    for event in events:
        if event.id in known:
            answers.append(False)
            continue
        known.add(event.id)
        record(graph, state, event, now, policy, out, ordered)
        answers.append(True)
    settle(graph, state, now, policy, out, ordered)
    if ordered:
        store.append(ordered)
    return answers
