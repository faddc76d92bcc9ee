"""The operations manual as the CLI, the API, the board and the notifier ask for it: the entries
folded from the store's facts (``andon.store.manual``) with the project's grouping rules, the
known-fix hint of a failed run, the review, and resolutions checked and turned into their
events (for the caller to submit through the engine)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from andon.events.manual import ManualResolved
from andon.manual.entries import Hint, ManualEntry, Review
from andon.manual.rules import Rule
from andon.model.graph import Graph
from andon.store.sql import Store

MAX_NOTE = 2000  # characters of a resolution's note
MAX_LINK = 500  # characters of its link
REVIEW_MAX_DAYS = 366


class Manual:
    """The manual of one project (``rules``: its ``[manual] rules``)."""

    def __init__(self, graph: Graph, store: Store, rules: Sequence[Rule] = ()) -> None:
        self.graph, self.store, self.rules = graph, store, tuple(rules)

    def entries(self, now: datetime, kind: str | None = None,
                since: datetime | None = None) -> list[ManualEntry]:
        """Every entry (of ``kind``; seen at or after ``since``), newest last occurrence first.
        BadRequest for an unknown kind."""
        raise NotImplementedError

    def entry(self, now: datetime, entry_id: str) -> ManualEntry:
        """One entry; NotFound with the closest ids and titles."""
        raise NotImplementedError

    def hints(self, run_ids: Iterable[str]) -> dict[str, Hint]:
        """The known-fix hints of the given runs that failed (others are left out): each run's
        entry, how often it was seen, its latest fix, whether this failure is a regression."""
        raise NotImplementedError

    def resolve_event(self, entry_id: str, note: str, now: datetime, link: str = "",
                      commit: str = "", by: str = "") -> ManualResolved:
        """The event resolving entry ``entry_id`` (NotFound with a suggestion for an unknown one,
        BadRequest for an empty or too long note, a link that is not http(s), a commit that is
        not 4-40 hex digits)."""
        raise NotImplementedError

    def review(self, now: datetime, days: int = 30) -> Review:
        """The review of the last ``days`` days (1..REVIEW_MAX_DAYS)."""
        raise NotImplementedError
