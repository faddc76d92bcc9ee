"""The manual's review of the last days: which problems keep coming back (candidates for
automation) and the share of the team's time that went to reactive work, against the 10 % rule.

Pure: ``review`` takes the entries, the compute of the window's runs (all, and the reactive
part), the pipelines each incident halted and the clock; the caller reads them from the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from andon.events.codec import format_time, parse_time
from andon.manual.entries import ManualEntry, Occurrence, Review, ReviewRow

FREQUENT = 3  # occurrences in the window that make an entry a candidate for automation


def occurrence_key(o: Occurrence) -> str:
    """How ``review``'s ``halted`` names one occurrence: its run id, else its cord id, else
    "ASSET PARTITION"."""
    return o.run_id or o.cord_id or f"{o.asset} {o.partition}"


def halted_by(o: Occurrence, halted: Mapping[str, int]) -> int:
    """The pipelines occurrence ``o`` halted: ``halted`` of its key (``occurrence_key``), else of
    its pipeline (or, with none, its asset), else 1; at least 1."""
    for key in (occurrence_key(o), o.pipeline or o.asset):
        if key in halted:
            return max(halted[key], 1)
    return 1


def review(entries: Iterable[ManualEntry], now: datetime, days: int, *,
           compute_seconds: float = 0.0, reactive_seconds: float = 0.0,
           halted: Mapping[str, int] | None = None, pipelines: int = 1) -> Review:
    """The review of the ``days`` days up to ``now``.

    Rows: every entry with an occurrence in the window, labelled ``frequent`` (FREQUENT or more
    there), ``new`` (first seen in the window, fewer), else ``rare``; most occurrences first, then
    the most recently seen, then by id.

    The reactive share: (Σ over the window's occurrences of the time each was open, from ``at``
    to ``recovered`` or ``now`` and cut to the window, times the pipelines it halted
    (``halted_by``); + ``reactive_seconds``, the compute of the window's runs that failed or
    re-made something) / (the window's seconds × ``pipelines`` (at least 1) +
    ``compute_seconds``, the compute of all the window's runs). ``incident_share`` and
    ``compute_share`` are the two parts, each over its own denominator (0 with no compute).
    Each share is at most 1 (overlapping incidents can add up to more than the time there
    was)."""
    start = now - timedelta(days=days)
    since, until = format_time(start), format_time(now)
    rows: list[ReviewRow] = []
    open_seconds = 0.0
    for e in entries:
        seen = [o for o in e.occurrences if start <= parse_time(o.at) <= now]
        if not seen:
            continue
        for o in seen:
            end = min(parse_time(o.recovered), now) if o.recovered else now
            span = (end - max(parse_time(o.at), start)).total_seconds()
            open_seconds += max(span, 0.0) * halted_by(o, halted or {})
        label = ("frequent" if len(seen) >= FREQUENT
                 else "new" if parse_time(e.first_seen) >= start else "rare")
        rows.append(ReviewRow(e.id, e.kind, e.title, len(seen), label, tuple(e.pipelines),
                              e.last_seen))
    rows.sort(key=lambda r: r.entry)
    rows.sort(key=lambda r: parse_time(r.last_seen), reverse=True)
    rows.sort(key=lambda r: r.count, reverse=True)
    compute = max(compute_seconds, 0.0)
    reactive = min(max(reactive_seconds, 0.0), compute)
    capacity = days * 86400.0 * max(pipelines, 1)
    return Review(days=days, since=since, until=until, rows=tuple(rows),
                  reactive_share=_share(open_seconds + reactive, capacity + compute),
                  incident_share=_share(open_seconds, capacity),
                  compute_share=_share(reactive, compute))


def _share(part: float, whole: float) -> float:
    return min(part / whole, 1.0) if whole > 0 else 0.0

