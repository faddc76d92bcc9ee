"""The operations manual as the CLI, the API, the board and the notifier ask for it: the entries
folded from the store's facts (``andon.store.manual``) with the project's grouping rules, the
known-fix hint of a failed run, the review, and resolutions checked and turned into their
events (for the caller to submit through the engine).

One ``Manual`` per process keeps its ``Ledger`` and, on each question, folds only what the store
recorded since it last looked (one indexed query per table), so a page that asks costs little
however long the history."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial

from andon.events.codec import format_time
from andon.events.manual import ManualResolved
from andon.manual.entries import KINDS, Hint, ManualEntry, Review
from andon.manual.fold import Ledger
from andon.manual.review import review
from andon.manual.rules import Rule
from andon.model.errors import BadRequest, NotFound
from andon.model.graph import Graph
from andon.model.words import did_you_mean
from andon.registry.declared import CONTROL
from andon.store import access as consumers
from andon.store import manual as facts
from andon.store.sql import Store

MAX_NOTE = 2000  # characters of a resolution's note
MAX_LINK = 500  # characters of its link
MAX_ENTRY_ID = 64  # characters of an entry id asked for (ids are 12 hex digits)
REVIEW_MAX_DAYS = 366
_COMMIT = re.compile("[0-9a-fA-F]{4,40}")
_LINK = re.compile(r"https?://[^\s<>\"']+")


class Manual:
    """The manual of one project (``rules``: its ``[manual] rules``)."""

    def __init__(self, graph: Graph, store: Store, rules: Sequence[Rule] = ()) -> None:
        self.graph, self.store, self.rules = graph, store, tuple(rules)
        self._ledger = Ledger(self.rules)
        self._lock = threading.Lock()
        self._entries: list[ManualEntry] | None = None  # folded at the ledger's last change
        self._halted: dict[str, int] | None = None  # pipeline -> pipelines a problem halts
        self._downstream: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # ``_below``
        self._reviews: dict[tuple[int, datetime], tuple[int, Review]] = {}

    def _refresh(self) -> Ledger:
        """The ledger with what the store recorded since it last looked (call under the lock)."""
        led = self._ledger
        with self.store.read() as conn:
            changed = led.take(facts.problems_since(conn, led.touched),
                               facts.resolutions_since(conn, led.resolved_upto),
                               facts.code_versions_since(conn, led.code_upto))
        if changed:
            self._entries = None
        return led

    def _all(self) -> list[ManualEntry]:
        with self._lock:
            led = self._refresh()
            if self._entries is None:
                with self.store.read() as conn:
                    outside: dict[str, list[str]] = {}
                    for row in consumers.consumer_rows(conn):
                        outside.setdefault(row["asset"], []).append(row["consumer"])
                self._entries = led.entries(
                    lambda pipelines, assets: self.reached(pipelines, assets, outside))
            return self._entries

    def reached(self, pipelines: Iterable[str], assets: Iterable[str],
                outside: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
        """Who a problem of ``pipelines`` (their outputs) or ``assets`` reached downstream: the
        pipelines that read them, transitively, and the data sets' registered consumers
        (``outside``: data set -> names), as "NAME (external)"."""
        starts = [a for p in pipelines if p in self.graph.pipelines
                  for a in self.graph.pipelines[p].outputs] + list(assets)
        seen: set[str] = set()
        reached: set[str] = set()
        for asset in starts:
            below, fed = self._below(asset)
            seen |= below
            reached |= fed
        external = {f"{name} (external)" for asset in seen for name in outside.get(asset, ())}
        return tuple(sorted(reached)) + tuple(sorted(external))

    def _below(self, asset: str) -> tuple[frozenset[str], frozenset[str]]:
        """The data sets made from ``asset`` (itself included) and the pipelines reading them,
        transitively; remembered, as the graph does not change under a Manual."""
        known = self._downstream.get(asset)
        if known is not None:
            return known
        todo, seen, fed = deque([asset]), set(), set()
        while todo:
            name = todo.popleft()
            if name in seen:
                continue
            seen.add(name)
            for pipe in self.graph.consumers.get(name, ()):
                if pipe not in fed:
                    fed.add(pipe)
                    todo.extend(self.graph.pipelines[pipe].outputs)
        self._downstream[asset] = known = (frozenset(seen), frozenset(fed))
        return known

    def entries(self, now: datetime, kind: str | None = None,
                since: datetime | None = None) -> list[ManualEntry]:
        """Every entry (of ``kind``; seen at or after ``since``), by kind and newest last
        occurrence first. BadRequest for an unknown kind."""
        if kind is not None and kind not in KINDS:
            raise BadRequest(f"no kind {kind[:40]!r}", where="kind",
                             hint=f"the kinds are {', '.join(KINDS)}")
        after = format_time(since) if since is not None else ""
        return [e for e in self._all() if (kind is None or e.kind == kind)
                and e.last_seen >= after]

    def entry(self, now: datetime, entry_id: str) -> ManualEntry:
        """One entry; NotFound with the closest ids and titles."""
        every = self._all()
        for e in every:
            if e.id == entry_id:
                return e
        asked = CONTROL.sub("?", entry_id[:MAX_ENTRY_ID])
        raise NotFound(f"no manual entry {asked!r}",
                       hint=did_you_mean(asked, [e.id for e in every], 3, 0.5)
                       + "list them with `andon manual`")

    def hints(self, run_ids: Iterable[str]) -> dict[str, Hint]:
        """The known-fix hints of the given runs that failed (others are left out): each run's
        entry, how often it was seen, its latest fix, whether this failure is a regression."""
        run_ids = list(run_ids)
        if not run_ids:  # most pages list no failed run: no refresh, no query
            return {}
        with self._lock:
            led = self._refresh()
            with self.store.read() as conn:
                found = {run_id: led.hint(run_id, partial(facts.run_problem, conn))
                         for run_id in run_ids}
        return {k: v for k, v in found.items() if v is not None}

    def resolve_event(self, entry_id: str, note: str, now: datetime, link: str = "",
                      commit: str = "", by: str = "") -> ManualResolved:
        """The event resolving entry ``entry_id`` (NotFound with a suggestion for an unknown one,
        BadRequest for an empty or too long note, a link that is not http(s), a commit that is
        not 4-40 hex digits)."""
        note, link, commit = note.strip(), link.strip(), commit.strip()
        if not note:
            raise BadRequest("a resolution needs a note", where="note",
                             hint='say what fixed it: --note "..."')
        if len(note) > MAX_NOTE or CONTROL.search(note.replace("\n", "")):
            raise BadRequest(f"at most {MAX_NOTE} characters, no control characters",
                             where="note",
                             hint="link to the long story with --link URL")
        if link and (len(link) > MAX_LINK or not _LINK.fullmatch(link)):
            raise BadRequest(f"not an http(s) URL of at most {MAX_LINK} characters", where="link",
                             hint="e.g. --link https://github.com/org/repo/pull/42")
        if commit and not _COMMIT.fullmatch(commit):
            raise BadRequest("not a git commit (4 to 40 hex digits)", where="commit",
                             hint="e.g. --commit 3f2a9c1")
        entry = self.entry(now, entry_id)
        n = len(entry.resolutions) + 1
        return ManualResolved(id=f"resolved:{entry.id}:{n}", at=now, entry=entry.id, note=note,
                              link=link, commit=commit.lower(),
                              code_version=self.graph.code_version, by=by)

    def review(self, now: datetime, days: int = 30) -> Review:
        """The review of the last ``days`` days (1..REVIEW_MAX_DAYS)."""
        if not 1 <= days <= REVIEW_MAX_DAYS:
            raise BadRequest(f"{days} is not between 1 and {REVIEW_MAX_DAYS}", where="days",
                             hint="e.g. --days 30")
        key = (days, now.replace(second=0, microsecond=0))
        with self._lock:
            touched = self._refresh().touched
        done = self._reviews.get(key)
        if done is not None and done[0] == touched:
            return done[1]
        since = now - timedelta(days=days)
        with self.store.read() as conn:
            total, redo = facts.compute_seconds(conn, format_time(since))
        if self._halted is None:  # a problem of a pipeline halts it and all it feeds
            self._halted = {p: 1 + sum(1 for n in self.reached([p], (), {})
                                       if n in self.graph.pipelines)
                            for p in self.graph.pipelines}
        made = review(self.entries(now, since=since), now, days, compute_seconds=total,
                      reactive_seconds=redo, halted=self._halted,
                      pipelines=len(self.graph.pipelines))
        # one review per minute and window for the board's every page load; a new problem
        # makes a new one at once
        self._reviews = {key: (touched, made)}
        return made
