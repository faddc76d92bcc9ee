"""What the board's operations manual pages show (``andon.web.manual_pages``), made from the
live Manual's entries (``andon.manual.entries``): an entry's state, its occurrences per day, its
times to detect and to resolve, and the pages' filters checked. No SQL, no markup here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from andon.manual.entries import ManualEntry, Occurrence
from andon.model.masks import mask
from andon.web.charts import SeriesChart, series_chart

REVIEW_DAYS = 30  # the board's review window, as `andon manual review`'s default
CHART_DAYS = 60  # days of an entry's occurrences-per-day chart (its last ones)
SHOWN = 200  # occurrences listed on an entry's page (newest first); the count says how many
# an entry's state: the colour of its pill and the word
STATES = {"open": "red", "resolved": "green", "regressed": "red"}
# the manual's KINDS as its headings
KIND_TITLES = {"failure": "Failed runs", "lost": "Lost runs", "check": "Failing checks",
               "cord": "Andon cords", "deadline": "Missed deadlines"}
# a review row's label: the colour of its pill
LABEL_COLOURS = {"frequent": "red", "rare": "", "new": "amber"}


@dataclass(frozen=True, slots=True)
class EntryRow:
    """An entry as the manual lists it: the entry, its state word and the pill's colour, and
    its occurrences per day (None when it has none)."""

    entry: ManualEntry
    state: str
    colour: str
    chart: SeriesChart | None


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    """An occurrence as an entry's page shows it, with its times to detect and to resolve in
    seconds (``Occurrence.ttd_seconds``, ``ttr_seconds``; None: unknown or not yet)."""

    o: Occurrence
    detect: float | None
    resolve: float | None


@dataclass(frozen=True, slots=True)
class EntryPage:
    """One entry's page: its row, the masked message of its latest occurrence, the newest
    SHOWN occurrences and the CLI command that resolves it."""

    row: EntryRow
    masked: str
    occurrences: tuple[OccurrenceRow, ...]
    command: str


def state(entry: ManualEntry) -> str:
    """open (never resolved), resolved, or regressed (it came back after its latest fix from
    code as new as the fix's; a late retry of older code leaves it resolved)."""
    if entry.regression:
        return "regressed"
    return "resolved" if entry.resolutions else "open"


def day_chart(occurrences: list[Occurrence]) -> SeriesChart | None:
    """Occurrences per day over the entry's last CHART_DAYS days (at most) up to its latest:
    a line with a dot per day, the days it showed marked."""
    if not occurrences:
        return None
    per_day = Counter(o.at[:10] for o in occurrences)
    last = date.fromisoformat(max(per_day))
    first = max(date.fromisoformat(min(per_day)), last - timedelta(days=CHART_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if len(days) == 1:  # a line needs two points: the day before, when it had not shown
        days.insert(0, first - timedelta(days=1))
    return series_chart([(d.isoformat(), float(per_day.get(d.isoformat(), 0)),
                          not per_day.get(d.isoformat())) for d in days])


def row(entry: ManualEntry) -> EntryRow:
    word = state(entry)
    return EntryRow(entry, word, STATES[word], day_chart(entry.occurrences))


def entry_page_view(entry: ManualEntry) -> EntryPage:
    latest = entry.occurrences[-1] if entry.occurrences else None
    masked = mask(latest.message) if latest is not None and latest.message else ""
    shown = tuple(OccurrenceRow(o, o.ttd_seconds, o.ttr_seconds)
                  for o in reversed(entry.occurrences[-SHOWN:]))
    return EntryPage(row(entry), masked, shown,
                     f'andon manual resolve {entry.id} --note "what fixed it"'
                     ' [--link URL] [--commit SHA]')


