"""The manual as JSON: one entry (``entry_json``) and the review (``review_json``), the same for
``andon manual --json``, the API, the board and the export.

An entry's object has the issue's fields (``id``, ``kind``, ``title``, ``pipelines``,
``occurrences`` with their ``run_id``, ``partition`` and ``at``, ``resolutions``, ``regression``)
and more: ``count``, ``first_seen``, ``last_seen``, ``assets``, ``partitions``, ``consumers``,
the failure's ``error_type``, ``file`` and ``function``, a rule's ``fingerprint``, and the mean
time to detect and to recover in seconds (null while no occurrence tells).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from andon.events.codec import parse_time
from andon.manual.entries import ManualEntry, Occurrence, Resolution, Review, ReviewRow
from andon.model.errors import BadRequest

Json = dict[str, Any]
_SINCE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]{2,15}(Z|[+-][0-9]{2}:?[0-9]{2})?)?")


def parse_since(text: str | None) -> datetime | None:
    """The ``since`` of a listing: a date (YYYY-MM-DD, from its midnight UTC) or an ISO time
    (UTC unless it says); None for none. BadRequest naming ``since`` for anything else."""
    if not text:
        return None
    try:
        if _SINCE.fullmatch(text):
            return parse_time(text)
    except ValueError:
        pass
    raise BadRequest(f"{text[:40]!r} is not a date", where="since",
                     hint="give a date, YYYY-MM-DD, or an ISO time, 2026-01-05T06:00:00Z")


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def occurrence_json(o: Occurrence) -> Json:
    """One occurrence: where and when, what failed, the code it ran, and its times to detect
    (``began`` to ``at``) and to recover (``at`` to ``recovered``) in seconds."""
    return {"run_id": o.run_id, "partition": o.partition, "at": o.at, "kind": o.kind,
            "pipeline": o.pipeline, "asset": o.asset, "cord_id": o.cord_id, "check": o.check,
            "began": o.began, "recovered": o.recovered, "recovered_by": o.recovered_by,
            "error_type": o.error_type,
            "message": o.message, "code_version": o.code_version, "commit": o.commit,
            "regression": o.regression,
            "time_to_detect_seconds": o.ttd_seconds, "time_to_recover_seconds": o.ttr_seconds}


def resolution_json(r: Resolution) -> Json:
    return {"note": r.note, "link": r.link, "commit": r.commit, "by": r.by, "at": r.at,
            "code_version": r.code_version, "cord_id": r.cord_id}


def entry_json(e: ManualEntry) -> Json:
    """An entry as JSON; its occurrences and resolutions oldest first, as the entry keeps them."""
    occurrences = [occurrence_json(o) for o in e.occurrences]
    return {"id": e.id, "kind": e.kind, "title": e.title, "pipelines": list(e.pipelines),
            "occurrences": occurrences,
            "resolutions": [resolution_json(r) for r in e.resolutions],
            "regression": e.regression, "count": len(e.occurrences),
            "first_seen": e.first_seen, "last_seen": e.last_seen, "assets": list(e.assets),
            "partitions": list(e.partitions), "consumers": list(e.consumers),
            "error_type": e.error_type, "file": e.file, "function": e.function,
            "fingerprint": e.fingerprint,
            "time_to_detect_seconds": _mean(o["time_to_detect_seconds"] for o in occurrences),
            "time_to_recover_seconds": _mean(o["time_to_recover_seconds"] for o in occurrences)}


def entries_json(entries: Iterable[ManualEntry]) -> Json:
    """``{"entries": [...]}``, in the order given (the manual's: newest first)."""
    return {"entries": [entry_json(e) for e in entries]}


def row_json(row: ReviewRow) -> Json:
    return {"entry": row.entry, "kind": row.kind, "title": row.title, "count": row.count,
            "label": row.label, "pipelines": list(row.pipelines), "last_seen": row.last_seen}


def review_json(r: Review) -> Json:
    """The review: its window, its rows (most frequent first), the reactive share and its two
    parts (fractions 0..1), the threshold and whether the share is above it."""
    return {"days": r.days, "since": r.since, "until": r.until,
            "rows": [row_json(row) for row in r.rows],
            "reactive_share": r.reactive_share, "incident_share": r.incident_share,
            "compute_share": r.compute_share, "threshold": r.threshold, "flagged": r.flagged}


def entry_from_json(j: Json) -> ManualEntry:
    """The entry ``entry_json`` gave (what the export renders when the API answered)."""
    occurrences = [Occurrence(
        kind=o["kind"], entry=j["id"], pipeline=o["pipeline"], asset=o["asset"],
        partition=o["partition"], at=o["at"], began=o["began"], recovered=o["recovered"],
        recovered_by=o.get("recovered_by", ""),
        run_id=o["run_id"], cord_id=o["cord_id"], check=o["check"], error_type=o["error_type"],
        message=o["message"], code_version=o["code_version"], commit=o["commit"],
        regression=o["regression"]) for o in j["occurrences"]]
    resolutions = [Resolution(entry=j["id"], note=r["note"], at=r["at"], link=r["link"],
                              commit=r["commit"], by=r["by"], code_version=r["code_version"],
                              cord_id=r["cord_id"]) for r in j["resolutions"]]
    return ManualEntry(
        id=j["id"], kind=j["kind"], title=j["title"], pipelines=tuple(j["pipelines"]),
        assets=tuple(j["assets"]), occurrences=occurrences, resolutions=resolutions,
        partitions=tuple(j["partitions"]), consumers=tuple(j["consumers"]),
        regression=j["regression"], error_type=j["error_type"], file=j["file"],
        function=j["function"], fingerprint=j["fingerprint"])
