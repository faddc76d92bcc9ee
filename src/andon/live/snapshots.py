"""Engine-state snapshots and the settled days out of memory, for the live shell.

``StateKeeper.load`` builds the engine state as the log says: from the newest usable snapshot
(``andon.store.snapshots``: one of this ``FORMAT`` and this project's ``graph_digest``, every row
of it present and intact) plus the events after its ``seq``, or, without one, by replaying the
whole log. A snapshot that cannot be read back is skipped with a warning: it never gives a wrong
state, only a slower start.

Every ``snapshot_every`` committed events (``committed``, a runner listener) a snapshot is due.
The keeper takes it on the runner thread (the state is the runner's alone) at the runner's next
idle moment (``idle``): it lets go of the settled days before the horizon
(``andon.engine.archive``), converts the state a piece at a time and gives the conversion up
when work arrives, to try again at the next idle moment (a runner never idle for ``FORCE_AFTER``
times ``snapshot_every`` events takes it at once). The snapshot is compressed and written on a
thread of its own, in one transaction, its JSON encoded a piece at a time too (the C encoder
holds the GIL for a whole call). ``before`` is called with each event before
the engine folds it in: the departed days that event may touch are read back first, so the engine
decides on a state as complete as a full replay's.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from andon.engine.archive import (
    evictable,
    extract,
    horizon,
    needs,
    reach_days,
    restore,
    spread_days,
)
from andon.engine.snapshot import (
    FORMAT,
    SnapshotError,
    graph_digest,
    state_from_data,
    state_to_data_steps,
)
from andon.engine.state import EngineState, apply
from andon.events import Event
from andon.events.codec import format_time
from andon.model.graph import Graph
from andon.planner.live import LivePlan
from andon.project.settings import default
from andon.store import snapshots as stored
from andon.store.sql import Store

log = logging.getLogger("andon.snapshots")

SNAPSHOT_EVERY: int = default("snapshot_every")
KEEP_DAYS = 7  # days before now (and before how far runs read back) that stay in memory
_BATCH = 5000  # events read at a time after the snapshot
FORCE_AFTER = 3  # a due snapshot not taken at an idle moment by then is taken at once
MAX_SNAPSHOT_BYTES = 2**30  # one row, inflated: many times a week of 10,000 pipelines' state


PACK_ITEMS = 500  # list items encoded per ``json.dumps`` call by ``pack``


def _pieces(data: Any) -> Iterator[str]:
    """The compact JSON text of ``data``, in pieces: the items of its long lists a few at a
    time, so that encoding a large state never holds the GIL for long."""
    if isinstance(data, dict):
        yield "{"
        for i, (key, value) in enumerate(data.items()):
            yield ("," if i else "") + json.dumps(key) + ":"
            yield from _pieces(value)
        yield "}"
    elif isinstance(data, list) and len(data) > PACK_ITEMS:
        yield "["
        for i in range(0, len(data), PACK_ITEMS):
            yield ("," if i else "") + json.dumps(data[i:i + PACK_ITEMS],
                                                  separators=(",", ":"))[1:-1]
        yield "]"
    else:
        yield json.dumps(data, separators=(",", ":"))


def pack(data: Any) -> bytes:
    """``data`` as compressed compact JSON (``unpack`` reads it back)."""
    deflate = zlib.compressobj(6)
    parts = [deflate.compress(piece.encode()) for piece in _pieces(data)]
    parts.append(deflate.flush())
    return b"".join(parts)


def unpack(body: bytes) -> Any:
    """The data of a snapshot row; SnapshotError when it is not compressed JSON, or would
    inflate beyond ``MAX_SNAPSHOT_BYTES`` (a row forged in the database must not exhaust
    memory)."""
    inflate = zlib.decompressobj()
    try:
        text = inflate.decompress(body, MAX_SNAPSHOT_BYTES)
        if inflate.unconsumed_tail:
            raise SnapshotError(f"it inflates beyond {MAX_SNAPSHOT_BYTES:,} bytes")
        return json.loads(text)
    except (zlib.error, ValueError, RecursionError) as exc:
        if isinstance(exc, SnapshotError):
            raise
        raise SnapshotError(f"not compressed JSON: {type(exc).__name__}") from None


class StateKeeper:
    """Loads the engine state (snapshot + tail), writes snapshots every ``every`` events (0:
    never) and keeps the departed days of ``graph`` in ``store``. ``plan`` is the live plan whose
    learned statistics go with each snapshot."""

    def __init__(self, graph: Graph, store: Store, plan: LivePlan,
                 every: int = SNAPSHOT_EVERY, keep_days: int = KEEP_DAYS) -> None:
        self.graph, self.store, self.plan = graph, store, plan
        self.every, self.keep_days = every, keep_days
        self.reach = reach_days(graph)
        self.spread = spread_days(graph, self.reach or 0)
        self.digest = graph_digest(graph)
        self.departed: set[str] = set()  # days out of memory, in the snapshot of ``written``
        self.written = 0  # the seq of the newest snapshot written or loaded (0: none)
        self.since = 0  # events committed since then
        self.loaded_from = 0  # the seq of the snapshot the last load started from (0: none)
        self.tail = 0  # the events the last load folded in after it
        self.failures = 0  # snapshot writes that failed (logged)
        self.due = False  # ``every`` events committed since the last snapshot: take one
        self.overdue = 0  # events committed since it became due
        self.freeze = False  # freeze the objects alive after each load and snapshot (``_freeze``)
        self.abandoned = 0  # idle conversions given up because work arrived
        self._writing: threading.Thread | None = None
        # days let go of whose snapshot could not be written: held here until one is
        self._unwritten: dict[str, Any] = {}

    # -- start-up --------------------------------------------------------------------------------

    def load(self) -> EngineState:
        """The state the log builds (see the module docstring), the plan restored and seeded."""
        self.wait()
        state, seq = self._newest()
        self.loaded_from = self.written = seq
        last = seq
        self.tail = 0

        def tail() -> Iterator[Event]:
            nonlocal last
            while True:
                chunk = self.store.events(last, _BATCH)
                if not chunk:
                    return
                for at, event in chunk:
                    last = at
                    yield event

        for event in self.plan.tap(tail(), fresh=not seq):
            self.before(state, event)
            apply(self.graph, state, event)
            self.tail += 1
        self.plan.seed(state)
        self.since = last - seq  # so the next snapshot comes after ``every`` more, not sooner
        self.due, self.overdue = bool(self.every) and self.since >= self.every, 0
        self._freeze(full=False)
        return state

    def _freeze(self, full: bool = True) -> None:
        """With ``freeze`` (a long-lived scheduler): move every object alive now (the state just
        loaded or kept, the definitions) out of the garbage collector's generations. A full
        collection walks every tracked object: with a week of 10,000 pipelines in memory it
        paused the runner for ~100 ms, the tail of notify -> run started. Frozen objects are
        still freed when no longer referenced; only cycles among them would stay, so garbage is
        collected first (at start-up and at an idle moment: the one pause, where it does no
        harm). At the load (``full`` False) only the young generations are: the old one holds
        the imports and definitions, whose full pass (35 ms of CPU for 1,000 pipelines, none of
        it garbage) was on every start's path; a cycle left old by them stays, as memory."""
        if self.freeze:
            gc.collect(2 if full else 1)
            gc.freeze()

    def _newest(self) -> tuple[EngineState, int]:
        for row in stored.states(self.store, FORMAT, self.digest):
            try:
                data = unpack(row.body)
                departed = {str(d) for d in data["departed"]}
                lost = departed - stored.stored_days(self.store, row.seq)
                if lost:
                    raise SnapshotError(f"{len(lost)} settled day(s) it let go of are missing")
                state = state_from_data(data["engine"])
                self.plan.restore(data["plan"])
            except (SnapshotError, ValueError, KeyError, TypeError, RecursionError) as exc:
                log.warning("the engine-state snapshot of event %d cannot be used (%s): trying "
                            "an older one, or replaying the log", row.seq, exc)
                continue
            self.departed = departed
            return state, row.seq
        self.departed = set()
        return EngineState(), 0

    # -- while running ---------------------------------------------------------------------------

    def before(self, state: EngineState, event: Event) -> None:
        """Read back the departed days ``event`` may touch, before the engine folds it in."""
        if self.departed and self.reach is not None:
            wanted = needs(event, self.departed, self.reach, self.spread)
            if wanted:
                self.bring_back(state, wanted)

    def bring_back(self, state: EngineState, days: Sequence[str]) -> None:
        """Put departed ``days`` back into ``state`` (all of them: ``self.departed``)."""
        if not days:
            return
        self.wait()
        held = {d: self._unwritten.pop(d) for d in days if d in self._unwritten}
        bodies = stored.days(self.store, self.written, [d for d in days if d not in held])
        missing = sorted(set(days) - set(bodies) - set(held))
        if missing:  # the store lost a row the state relies on: a full replay is the way back
            raise SnapshotError(f"the settled day(s) {', '.join(missing[:5])} are missing from "
                                f"the snapshot of event {self.written}")
        for day in days:
            restore(state, held[day] if day in held else unpack(bodies[day]))
            self.departed.discard(day)
        log.info("read back %d settled day(s) from %s on", len(days), days[0])

    def committed(self, state: EngineState, events: Sequence[Event], now: datetime) -> None:
        """A runner listener: count the committed events; every ``every`` a snapshot is due,
        taken at the runner's next idle moment (``idle``), or at once when the runner has had
        none for ``FORCE_AFTER`` times as many events more (memory must stay bounded)."""
        self.since += len(events)
        if not self.every or self.since < self.every:
            return
        if not self.due:
            self.due = True
            return
        self.overdue += len(events)
        if self.overdue >= self.every * FORCE_AFTER:
            self.snapshot(state, now)

    def idle(self, state: EngineState, now: datetime, busy: Callable[[], bool],
             within: float | None = None) -> bool:
        """Called by the runner between turns when it has nothing to do: take the due snapshot
        a piece at a time (``state_to_data_steps``), giving it up as soon as ``busy()`` says work
        arrived or ``within`` seconds (the runner's next timed wake-up) are over; it is tried
        again at the next idle moment. So a notify waits for one piece, never for a whole
        conversion. True when a snapshot was taken."""
        if not self.due or busy() or (self._writing is not None and self._writing.is_alive()):
            return False
        self.wait()
        if within is not None:
            until = time.monotonic() + within
            return self._take(state, now, True,
                              lambda: busy() or time.monotonic() >= until) > 0
        return self._take(state, now, True, busy) > 0

    def snapshot(self, state: EngineState, now: datetime, background: bool = True) -> int:
        """Take a snapshot of ``state`` (which holds the log up to its newest event) at ``now``:
        let go of the settled days, then compress and write it (on a thread of its own unless
        not ``background``). Returns its seq (0: nothing new to snapshot)."""
        self.wait()
        return self._take(state, now, background, None)

    def _take(self, state: EngineState, now: datetime, background: bool,
              busy: Callable[[], bool] | None) -> int:
        """``snapshot``, given up (0) when ``busy`` says so between two pieces. The settled
        days let go of stay out of memory even then: held in ``_unwritten`` until written."""
        seq = self.store.last_seq()
        if seq <= self.written:
            self.due = False
            return 0
        if self.reach is not None and self.keep_days >= 0:
            for day in evictable(state, horizon(now, self.keep_days, self.reach), self.reach):
                let_go = extract(state, [day])  # a day at a time, each whole: safe to stop at
                self._unwritten.update(let_go)
                self.departed.update(let_go)
                if busy is not None and busy():
                    self.abandoned += 1
                    return 0
        steps = state_to_data_steps(state)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                engine = done.value
                break
            if busy is not None and busy():
                self.abandoned += 1
                return 0
        days, self._unwritten = self._unwritten, {}
        carried = sorted(self.departed - set(days))
        data = {"engine": engine, "plan": self.plan.summary(),
                "departed": sorted(self.departed), "at": format_time(now)}
        from_seq, self.written, self.since = self.written, seq, 0
        self.due, self.overdue = False, 0
        self._freeze()
        job = threading.Thread(target=self._write, name="andon-snapshot",
                               args=(seq, data, days, carried, from_seq), daemon=True)
        if background:
            self._writing = job
            job.start()
        else:
            job.run()
        return seq

    def _write(self, seq: int, data: dict[str, Any], days: dict[str, Any],
               carried: list[str], from_seq: int) -> None:
        try:
            stored.write(self.store, seq, FORMAT, self.digest, pack(data),
                         {d: pack(v) for d, v in days.items()}, carried, from_seq,
                         format_time(datetime.now(UTC)))
        except Exception:
            # the days let go of exist only here now: hold them until a snapshot is written
            # (the runner thread reads these only after ``wait``)
            self.failures += 1
            self._unwritten.update(days)
            self.written = from_seq
            log.exception("could not write the engine-state snapshot of event %d", seq)
            return
        log.info("engine-state snapshot of event %d written (%d settled day(s) out of memory)",
                 seq, len(data["departed"]))

    def wait(self) -> None:
        """Wait for the snapshot being written, if any."""
        job, self._writing = self._writing, None
        if job is not None:
            job.join()
