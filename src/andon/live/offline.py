"""The offline write path: a write with no scheduler running is decided by the engine too.

``andon notify``, ``run``, ``backfill``, ``cancel`` and ``cord pull``/``resolve`` with no
``andon up`` running used to append their event alone and leave every decision to the next
``andon up``. Here the event goes through the same engine path as a live turn
(``andon.engine.core.record``, the runner's own step): the state is rebuilt from the log as
``Runner.recover`` does, each event is handled with the live dispatch policy, and the submitted
events plus what the engine decided (runs queued and started, a cord's halts and suspect
outputs) are appended in one transaction. The SQL read models thus only ever record what the
engine decided, whichever door a write came in by.

The executor is a null one: nothing is launched here. A run the engine started offline is
adopted by the next ``andon up`` (``Runner.recover``: a run that never began is started then).
The file moves the turn decided are carried out after it by the cord's file step
(``andon.cord.files.FileStep``), the one the runner calls after each of its turns: a restore
moves the output back at once; a suspect output to quarantine or delete is moved here when the
caller gives the step its quarantine folder, else by the next ``andon up``, which finds the move
still owed after its replay (``andon.engine.outputs.owed_moves``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from andon.cord.files import Done, FileStep
from andon.cord.suspects import answer
from andon.engine.core import Decisions, mark_all, record, settle
from andon.engine.state import EngineState
from andon.events import Event, OutputRestored, OutputRestoreRequested, OutputSuspect
from andon.live.snapshots import StateKeeper
from andon.model.dispatch import DEFAULT_POLICY
from andon.model.errors import Conflict
from andon.model.graph import Graph
from andon.planner.live import LivePlan
from andon.planner.policies import Planner, make_policy
from andon.store.sql import Store


def load(graph: Graph, store: Store, policy: Planner) -> EngineState:
    """The engine state the log builds, every known partition marked for a look, with
    ``policy`` having learned from the log: what ``Runner.recover`` starts from (the newest
    snapshot and the events after it), with the settled days it let go of read back too, since
    one offline turn may touch any of them."""
    keeper = StateKeeper(graph, store, LivePlan(graph, policy))
    state = keeper.load()
    if keeper.departed:
        keeper.bring_back(state, sorted(keeper.departed))
    mark_all(graph, state)
    return state


def submit(graph: Graph, store: Store, events: Sequence[Event], now: datetime,
           policy: Planner | None = None, files: FileStep | None = None) -> list[bool]:
    """Record ``events`` as one turn of ``andon up`` at time ``now`` would, with nothing running.

    ``graph`` is the project's (``load_project(...).graph``), ``store`` its store, ``events`` the
    requests built by ``andon.live.service.Service`` (validated there), ``policy`` the live dispatch
    policy (``andon.planner.live.make_planner(settings.policy, graph)``; default ``jit``, as the
    runner's), ``files`` the cord's file step (None: no file moves here; they wait for the next
    ``andon up``). Returns, per submitted
    event, True when it was new and False when its id was already in the log (it is then
    skipped, as the runner skips it). One transaction per turn: either every event of the turn
    is stored or none; the file moves the turn decided follow it, and what they did is a second
    turn. Not safe beside a running scheduler (that one owns the log; send it the events
    instead)."""
    return _Offline(graph, store, policy, files).turn(events, now)[0]


def restore(graph: Graph, store: Store, request: OutputRestoreRequested, now: datetime,
            files: FileStep, policy: Planner | None = None) -> OutputRestored:
    """Record a restore request as ``submit`` does and move the output back with the file
    step; return the ``OutputRestored`` for the caller to record, or raise why the output
    cannot be moved back (as ``andon.cord.suspects.answer``)."""
    answers, done = _Offline(graph, store, policy, files).turn([request], now)
    outcome = next((what for move, what in done if move is request), None)
    if not answers[0]:
        outcome = Conflict(f"restore request {request.id} was recorded before",
                           hint="ask again: each request has its own id")
    return answer(outcome)


class _Offline:
    """The engine state the log builds, and turns recorded over it (see ``submit``)."""

    def __init__(self, graph: Graph, store: Store, policy: Planner | None,
                 files: FileStep | None) -> None:
        self.graph, self.store = graph, store
        self.policy = policy or make_policy(DEFAULT_POLICY, graph)
        self.files = files
        self.state = load(graph, store, self.policy)

    def turn(self, events: Sequence[Event], now: datetime) -> tuple[list[bool], list[Done]]:
        """Record one turn, then carry out its file moves: suspects' outcomes are recorded in a
        second turn, a restore's is returned (with the other moves') for the caller."""
        known = self.store.known_ids(e.id for e in events)
        out = Decisions()
        ordered: list[Event] = []  # the turn's log, in the order the engine saw it
        answers: list[bool] = []
        for event in events:
            if event.id in known:
                answers.append(False)
                continue
            known.add(event.id)
            record(self.graph, self.state, event, now, self.policy, out, ordered)
            answers.append(True)
        settle(self.graph, self.state, now, self.policy, out, ordered)
        if ordered:
            self.store.append(ordered)
        if self.files is None or not out.files:
            return answers, []
        done = self.files.carry_out(out.files, now)
        disposed = [what for move, what in done
                    if isinstance(move, OutputSuspect) and isinstance(what, Event)]
        if disposed:
            self.turn(disposed, now)
        return answers, done
