"""A drift report's kept form (the ``drift_reports`` table, ``andon.store.driftreports``) and
reading it back without trusting it.

A report is kept under (asset, partition, ``reference_digest(label, refs)``) with the run whose
profile it compares: a new version of the partition, a reference of other partitions or runs
(a new serving version, a partition of the window written again) is another key, so a kept
report is never stale. Its body::

    {"label": "window:7", "reference_partitions": ["2026-01-01", ...], "error": "",
     "columns": [["age", psi, js, p, "green", false], ...]}

``p`` is null in a report computed from the bins only (``tested`` false: the heat map's cold
path); ``Drift.report`` wants p-values and computes such a report again.

**Not trusted.** ``decode`` returns None (the caller computes the report again and keeps it)
for a body over ``MAX_BODY_CHARS``, not JSON, of another label or reference partitions than the
caller expects, with a column name that is not an identifier, a PSI or JS that is not a finite
number in range, a band that does not follow from its PSI, a p-value out of [0, 1], a column
named twice, or a column count other than the profile's.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from andon.drift.limits import BANDS, MAX_COLUMNS, band_of
from andon.model.limits import name_problem

MAX_BODY_CHARS = MAX_COLUMNS * 200 + 64 * 1024  # a column is ~100 characters; labels, partitions
MAX_ERROR_CHARS = 2000


def reference_digest(label: str, refs: list[tuple[str, str]]) -> str:
    """The reference's identity: its label and its (partition, run id) pairs, as SHA-256."""
    text = json.dumps([label, [list(r) for r in refs]], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def encode(label: str, reference_partitions: list[str], columns: list[tuple[Any, ...]],
           error: str) -> str:
    """The body of a report (see the module docstring); ``columns`` as (name, psi, js, p,
    band, significant)."""
    return json.dumps({"label": label, "reference_partitions": reference_partitions,
                       "error": error[:MAX_ERROR_CHARS], "columns": [list(c) for c in columns]},
                      separators=(",", ":"), allow_nan=False)


def decode(body: str, label: str, reference_partitions: list[str], tested: bool,
           column_count: int) -> tuple[list[tuple[str, float, float, float | None, str, bool]],
                                       str] | None:
    """(columns, error) of a kept body when it is what the caller expects and every value is
    in range; None otherwise (see the module docstring)."""
    if len(body) > MAX_BODY_CHARS:
        return None
    try:
        data = json.loads(body, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return None
    if (not isinstance(data, dict) or data.get("label") != label
            or data.get("reference_partitions") != reference_partitions):
        return None
    error, raw = data.get("error"), data.get("columns")
    if not isinstance(error, str) or len(error) > MAX_ERROR_CHARS or not isinstance(raw, list):
        return None
    if error:
        return ([], error) if not raw else None
    if len(raw) > MAX_COLUMNS or (column_count and len(raw) != column_count):
        return None
    columns = []
    for cell in raw:
        checked = _cell(cell, tested)
        if checked is None:
            return None
        columns.append(checked)
    if len({c[0] for c in columns}) != len(columns):
        return None
    return columns, ""


def _refuse(name: str) -> float:
    raise ValueError(name)


def _cell(cell: Any, tested: bool) -> tuple[str, float, float, float | None, str, bool] | None:
    if not isinstance(cell, list) or len(cell) != 6:
        return None
    name, psi, js, p, band, significant = cell
    if not isinstance(name, str) or name_problem("column", name):
        return None
    if not (_number(psi) and psi >= 0 and _number(js) and 0 <= js <= 1):
        return None
    if band not in BANDS or band != band_of(psi) or not isinstance(significant, bool):
        return None
    if tested:
        if not (_number(p) and 0 <= p <= 1):
            return None
    elif p is not None or significant:
        return None
    return name, float(psi), float(js), None if p is None else float(p), band, significant


def _number(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float)
            and math.isfinite(value))
