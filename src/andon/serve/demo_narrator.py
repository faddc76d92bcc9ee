"""The demo's narration: one short line per event of the story, as it is committed, stamped with
the simulated time it happened at and naming the board's page that shows it.

``Narrator`` is a runner listener (the hook the board's live stream hangs on too): it reads only
the committed events and the graph, never the store, and words what a newcomer should notice —
a source that is late and the deliverables the planner flags at risk because of it (with how
long before their due time: the warning's lead), their recovery, a run that failed for good, the
andon cord (pulled, what it halts, resolved, released, recovered), a warning check, a fix written
into the operations manual, a model promoted. The lines wait in a list until the demo's terminal
loop prints them (``take``), so the runner thread never writes to the terminal.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from andon.events import (
    CheckFailed,
    CordHalted,
    CordPulled,
    CordRecovered,
    CordReleased,
    CordResolved,
    DeliverableAtRisk,
    DeliverableMissed,
    DeliverableRecovered,
    Event,
    PartitionAvailable,
    RunFailed,
)
from andon.events.manual import ManualResolved
from andon.events.models import ModelPromoted
from andon.model.durations import format_duration
from andon.model.graph import Graph

LATE_AFTER = timedelta(minutes=30)  # a source this far past its expected arrival is "late"
MAX_TEXT = 90  # characters of a reason or an error quoted in a line
MAX_NAMED = 4  # halted partitions named in a line (then "and N more")
_MARK = "\x00group\x00"  # a group's place among a batch's lines, until it is rendered
_Deliverable = DeliverableAtRisk | DeliverableRecovered | DeliverableMissed


def _short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _cause(reason: str) -> str:
    """What a deliverable at risk waits for, the same words for every deliverable of a day
    (``score 2026-01-07 cannot run: halted by ...``: the part after the colon)."""
    first = reason.split(";")[0]
    return _short(first.split("cannot run: ", 1)[-1], 80)


def _day(key: str) -> str:
    """``01-07`` for a daily key (the demo's week has one month and one year)."""
    return key[5:] if len(key) == 10 and key[4] == "-" else key


class Narrator:
    """Words the story's events. ``lines`` holds every line told so far (the end of the demo and
    its test read them); ``changed`` is set when there are new ones to ``take``."""

    def __init__(self, graph: Graph, changed: threading.Event) -> None:
        self.graph = graph
        self.changed = changed
        self.lines: list[str] = []
        self._new: list[str] = []
        self._lock = threading.Lock()
        self._landed: set[tuple[str, str]] = set()  # source partitions announced so far
        self._late_told: set[tuple[str, str]] = set()  # late sources already named
        self._cords: dict[str, tuple[str, int]] = {}  # cord id -> ("ASSET PARTITION", version)

    # -- the listener --------------------------------------------------------------------------

    def on_events(self, events: Sequence[Event]) -> None:
        told: list[str] = []
        groups: dict[tuple[str, str, str], list[_Deliverable]] = {}
        for ev in events:
            if isinstance(ev, (DeliverableAtRisk, DeliverableRecovered, DeliverableMissed)):
                self._group(ev, groups, told)
            else:
                told.extend(self._tell(ev))
        if told:
            rendered = [self._render(t, groups) for t in told]
            with self._lock:
                self.lines.extend(rendered)
                self._new.extend(rendered)
            self.changed.set()

    def take(self) -> list[str]:
        """The lines told since the last call."""
        with self._lock:
            new, self._new = self._new, []
        return new

    def _tell(self, ev: Event) -> list[str]:
        words = self._words(ev)
        if words is None:
            return []
        text, page = words
        return [_line(ev.at, text, page)]

    # -- deliverables: one line per kind, day and cause in a batch -------------------------------

    def _group(self, ev: _Deliverable, groups: dict[tuple[str, str, str], list[_Deliverable]],
               told: list[str]) -> None:
        """Add ``ev`` to its group of the batch (the planner re-plans a whole day at once: one
        line for daily_sales, score and report waiting for the same thing); a new group holds
        its place in ``told`` with a marker that ``_render`` replaces."""
        cause = ""
        if isinstance(ev, DeliverableAtRisk):
            cause = self._late_source(ev.pipeline, ev.partition, ev.at) or _cause(ev.reason)
        key = (ev.name, ev.partition, cause)
        if key not in groups:
            groups[key] = []
            told.append(_MARK + "\x00".join(key))
        groups[key].append(ev)

    def _render(self, told: str, groups: dict[tuple[str, str, str], list[_Deliverable]]) -> str:
        if not told.startswith(_MARK):
            return told
        name, partition, cause = told[len(_MARK):].split("\x00")
        evs = groups[(name, partition, cause)]
        first = evs[0]
        if isinstance(first, DeliverableMissed):
            items = ", ".join(f"{e.pipeline} (due {_clock(e.due, e.due)})" for e in evs)
            return _line(first.at, f"missed on {_day(partition)}: {items}", "/deliveries")
        items = ", ".join(f"{e.pipeline} (projected {_clock(e.predicted_finish, e.due)} vs due "
                          f"{_clock(e.due, e.due)}{_ahead(e)})" for e in evs)
        if isinstance(first, DeliverableRecovered):
            return _line(first.at, f"back on plan on {_day(partition)}: {items}", "/deliveries")
        if cause.endswith(" late"):
            return _line(first.at, f"{cause}: at risk on {_day(partition)}: {items}",
                         "/deliveries")
        return _line(first.at, f"at risk on {_day(partition)}: {items} ({cause})", "/deliveries")

    def _words(self, ev: Event) -> tuple[str, str] | None:
        if isinstance(ev, PartitionAvailable):
            return self._landed_words(ev)
        if isinstance(ev, RunFailed):
            pipe = self.graph.pipelines.get(ev.pipeline)
            if pipe is None or pipe.retried(ev.attempt):
                return None  # a retry follows: only the run that failed for good is news
            error = f"{ev.error_type}: {ev.error_message}" if ev.error_type else \
                f"exit code {ev.exit_code}"
            return (f"{ev.pipeline} {_day(ev.partition)} failed for good after {ev.attempt} "
                    f"attempt(s): {_short(error, 70)}", f"/runs/{ev.run_id}")
        if isinstance(ev, ManualResolved):
            return f"the fix was written into the operations manual: {_short(ev.note, 70)}", \
                f"/manual/{ev.entry}"
        return self._cord_words(ev) or self._model_words(ev)

    def _landed_words(self, ev: PartitionAvailable) -> tuple[str, str] | None:
        asset = self.graph.assets.get(ev.asset)
        if asset is None or not asset.source:
            return None
        self._landed.add((ev.asset, ev.partition))
        if ev.version > 1:
            return (f"{ev.asset} {_day(ev.partition)} delivered again (version {ev.version})",
                    f"/assets/{ev.asset}")
        overdue = self._overdue(ev.asset, ev.partition, ev.at)
        if overdue is None:
            return None
        return (f"{ev.asset} {_day(ev.partition)} landed {format_duration(overdue)} late: the "
                f"line catches up", "/deliveries")

    def _cord_words(self, ev: Event) -> tuple[str, str] | None:
        if isinstance(ev, CordPulled):
            self._cords[ev.cord_id] = (f"{ev.asset} {_day(ev.partition)}", ev.version)
            check = ev.by[6:] if ev.by.startswith("check:") else ""
            who = f"check {check}" if check else ev.by or "someone"
            reason = ev.reason.removeprefix(f"check {check} failed: ") if check else ev.reason
            return (f"andon cord pulled on {ev.asset} {_day(ev.partition)} (version "
                    f"{ev.version}) by {who}: {_short(reason)}", f"/cords/{ev.cord_id}")
        if isinstance(ev, CordHalted):
            names = [f"{p.pipeline} {_day(p.partition)}" for p in ev.partitions]
            more = f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
            return (f"halted downstream of {self._on(ev.cord_id)}, red on "
                    f"the board: {', '.join(names[:MAX_NAMED])}{more}", "/")
        if isinstance(ev, CordResolved):
            return (f"cord on {self._on(ev.cord_id)} resolved by "
                    f"{ev.by or 'someone'}: {_short(ev.note, 60)}", f"/cords/{ev.cord_id}")
        if isinstance(ev, CordReleased):
            rerun = f"re-running {len(ev.rerun)} partition(s)" if ev.rerun else \
                "the halted partitions run"
            bad = self._cords.get(ev.cord_id, ("", 0))[1]
            why = f"version {ev.version} passed its checks" if ev.version > bad else \
                "that version no longer serves"
            return (f"cord on {self._on(ev.cord_id)} released ({why}): {rerun}, by itself",
                    f"/cords/{ev.cord_id}")
        if isinstance(ev, CordRecovered):
            return (f"cord on {self._on(ev.cord_id)} recovered: everything it halted is "
                    f"re-made", f"/cords/{ev.cord_id}")
        return None

    def _on(self, cord_id: str) -> str:
        return self._cords.get(cord_id, (cord_id, 0))[0]

    def _model_words(self, ev: Event) -> tuple[str, str] | None:
        if isinstance(ev, CheckFailed) and not ev.blocking:
            return (f"warning check {ev.check} failed on {ev.asset} {_day(ev.partition)}: "
                    f"{_short(ev.message, 70)}", f"/assets/{ev.asset}")
        if isinstance(ev, ModelPromoted):
            back = " (a rollback)" if ev.rollback else ""
            return (f"{ev.model} version {ev.version} promoted{back} by {ev.by or 'someone'}",
                    f"/catalog/model/{ev.model}")
        return None

    # -- lateness ------------------------------------------------------------------------------

    def _overdue(self, source: str, key: str, at: datetime) -> timedelta | None:
        """How far past its expected arrival source partition ``key`` is at ``at`` (None: not
        late, or no expected arrival declared)."""
        asset = self.graph.assets[source]
        if asset.expected_arrival is None:
            return None
        try:
            expected = asset.partitions.end(key) + asset.expected_arrival
        except ValueError:
            return None
        late = at - expected
        return late if late >= LATE_AFTER else None

    def _late_source(self, pipeline: str, key: str, at: datetime) -> str:
        """``raw_orders 01-05 is 3h late`` for the most overdue source partition the deliverable
        waits for, or "" when none is late."""
        worst: tuple[timedelta, str, str] | None = None
        seen: set[tuple[str, str]] = set()
        todo = [(pipeline, key)]
        while todo:
            name, part = todo.pop()
            try:
                inputs = self.graph.input_keys(name, part)
            except ValueError:
                continue
            for asset, up in inputs:
                if (asset, up) in seen:
                    continue
                seen.add((asset, up))
                producer = self.graph.producer.get(asset)
                if producer is not None:
                    todo.append((producer, up))
                elif (asset, up) not in self._landed:
                    late = self._overdue(asset, up, at)
                    if late is not None and (worst is None or late > worst[0]):
                        worst = (late, asset, up)
        if worst is None:
            return ""
        return f"{worst[1]} {_day(worst[2])} is {format_duration(worst[0])} late"


def _clock(moment: datetime | None, day: datetime) -> str:
    """``06:37`` on the day of ``day``, ``01-09 01:51`` on another; ``never``. Within the
    minute of ``day`` but not on it, with the seconds (``06:00:20`` is after ``06:00``)."""
    if moment is None:
        return "never"
    if moment.date() != day.date():
        return f"{moment:%m-%d %H:%M}"
    same_minute = moment.replace(second=0, microsecond=0) == day.replace(second=0, microsecond=0)
    return f"{moment:%H:%M:%S}" if same_minute and moment != day else f"{moment:%H:%M}"


def _ahead(ev: _Deliverable) -> str:
    """``, 2h20m ahead``: how long before its due time an at-risk deliverable was flagged (the
    lead the warning gives, in whole minutes), or "" for another event or a warning under a
    minute ahead."""
    if not isinstance(ev, DeliverableAtRisk):
        return ""
    minutes = int((ev.due - ev.at).total_seconds() // 60)
    if minutes < 1:
        return ""
    hours, minutes = divmod(minutes, 60)
    return f", {hours}h{minutes:02d}m ahead" if hours else f", {minutes}m ahead"


def _line(at: datetime, text: str, page: str) -> str:
    return f"{at:%m-%d %H:%M}  {text}  -> {page}"
