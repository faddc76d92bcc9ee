"""A profile's compact JSON form, and loading it back with its limits checked.

The form (``FORMAT`` = ``andon.profile/1``)::

    {"format": "andon.profile/1", "rows": 1000000, "columns": [
      {"name": "age", "kind": "numeric", "count": 1000000, "nulls": 0, "infinite": 0,
       "edges": [...], "bins": [...], "min": 18.0, "max": 99.0, "mean": 41.2, "m2": 1.9e8,
       "sample": "<base64 of little-endian float64>"},
      {"name": "plan", "kind": "categorical", "count": 1000000, "nulls": 12, "top_k": 50,
       "top": [["basic", 600000], ...], "other": 0}]}

**Size.** A numeric column is at most ~54 KB (its sample: 5,000 float64 in base64, 53 KB; up to
``MAX_BINS`` bins), a categorical one at most ~25 KB (``MAX_TOP_K`` names of at most
``MAX_CATEGORY_CHARS`` characters); 50 numeric columns ~2.7 MB. ``loads`` refuses text over
``MAX_PROFILE_BYTES`` before parsing it, then every field out of bounds: more than
``MAX_COLUMNS`` columns, a count that is not a non-negative integer (NaN, a float, a bool, over
``MAX_ROWS``), counts that do not add up, edges not finite and increasing, a sample that is not
finite or longer than ``MAX_SAMPLE``, a column name that is not an identifier. Each refusal is a
``DriftError`` naming the column and the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

import numpy as np

from andon.drift.limits import (
    MAX_BINS,
    MAX_CATEGORY_CHARS,
    MAX_COLUMNS,
    MAX_PROFILE_BYTES,
    MAX_ROWS,
    MAX_SAMPLE,
    MAX_TOP_K,
    DriftError,
)
from andon.drift.profile import (
    CATEGORICAL,
    KINDS,
    NUMERIC,
    SAMPLE_DTYPE,
    ColumnProfile,
    Profile,
)
from andon.model.limits import name_problem

FORMAT = "andon.profile/1"
_HINT = "write profiles with andon.drift.codec.dumps; this one is damaged or not a profile"


def dumps(p: Profile) -> str:
    """The compact JSON text of ``p`` (no spaces; floats as Python's shortest repr)."""
    return json.dumps({"format": FORMAT, "rows": p.rows,
                       "columns": [_column(c) for c in p.columns.values()]},
                      separators=(",", ":"), allow_nan=False)


def _column(c: ColumnProfile) -> dict[str, Any]:
    head: dict[str, Any] = {"name": c.name, "kind": c.kind, "count": c.count, "nulls": c.nulls}
    if c.kind == CATEGORICAL:
        return {**head, "top_k": c.top_k, "top": [list(kv) for kv in c.top], "other": c.other}
    sample = base64.b64encode(c.sample).decode("ascii")
    return {**head, "infinite": c.infinite, "edges": list(c.edges), "bins": list(c.bins),
            "min": c.min, "max": c.max, "mean": c.mean, "m2": c.m2, "sample": sample}


def loads(text: str | bytes, where: str = "profile", samples: bool = True) -> Profile:
    """The profile in ``text``, checked (see the module docstring); ``where`` names it in
    errors (e.g. the partition). ``samples=False`` loads it **bins only**: the numeric
    columns' samples are neither decoded nor checked and come back empty (PSI and JS need only
    the bins and categories; KS needs the samples): the heat map's cold path."""
    if len(text) > MAX_PROFILE_BYTES:
        raise DriftError(f"profile is {len(text):,} bytes, more than {MAX_PROFILE_BYTES:,}",
                         where=where, hint=_HINT)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise DriftError(f"profile is not valid JSON ({str(exc)[:200]})", where=where,
                         hint=_HINT) from None
    return from_dict(data, where, samples)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a profile")


def from_dict(data: Any, where: str = "profile", samples: bool = True) -> Profile:
    """A profile from its parsed JSON form, with every limit checked (with ``samples=False``,
    every one but the samples', which are left out: see ``loads``)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DriftError(f"not an {FORMAT} profile", where=where, hint=_HINT)
    rows = _count(data.get("rows"), "rows", where)
    cols = data.get("columns")
    if not isinstance(cols, list):
        raise DriftError("'columns' is not a list", where=where, hint=_HINT)
    if len(cols) > MAX_COLUMNS:
        raise DriftError(f"{len(cols)} columns, more than {MAX_COLUMNS}", where=where, hint=_HINT)
    out: dict[str, ColumnProfile] = {}
    for raw in cols:
        col = _load_column(raw, where, samples)
        if col.name in out:
            raise DriftError(f"column {col.name!r} appears twice", where=where, hint=_HINT)
        if col.count != rows:
            raise DriftError(f"column {col.name!r} counts {col.count} rows, the profile {rows}",
                             where=where, hint=_HINT)
        out[col.name] = col
    return Profile(rows=rows, columns=out)


def _load_column(raw: Any, where: str, samples: bool = True) -> ColumnProfile:
    if not isinstance(raw, dict):
        raise DriftError("a column is not an object", where=where, hint=_HINT)
    name = raw.get("name")
    problem = name_problem("column", name)
    if problem:
        raise DriftError(problem, where=where)
    assert isinstance(name, str)
    at = f"{where}, column {name!r}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise DriftError(f"kind {str(kind)[:40]!r} is not one of {', '.join(KINDS)}", where=at,
                         hint=_HINT)
    count, nulls = _count(raw.get("count"), "count", at), _count(raw.get("nulls"), "nulls", at)
    if nulls > count:
        raise DriftError(f"nulls ({nulls}) exceed count ({count})", where=at, hint=_HINT)
    if kind == CATEGORICAL:
        return _load_categorical(raw, name, count, nulls, at)
    infinite = _count(raw.get("infinite"), "infinite", at)
    edges = _floats(raw.get("edges"), "edges", MAX_BINS - 1, at)
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise DriftError("edges are not increasing", where=at, hint=_HINT)
    bins_raw = raw.get("bins")
    if not isinstance(bins_raw, list) or len(bins_raw) != len(edges) + 1:
        raise DriftError(f"bins must be a list of len(edges) + 1 = {len(edges) + 1} counts",
                         where=at, hint=_HINT)
    bins = tuple(_count(b, "bins", at) for b in bins_raw)
    if sum(bins) != count - nulls or infinite > count - nulls:
        raise DriftError("bins do not add up to count - nulls", where=at, hint=_HINT)
    sample = _sample(raw.get("sample"), at) if samples else b""
    finite = count - nulls - infinite
    if samples and len(sample) // 8 != min(finite, MAX_SAMPLE):
        raise DriftError(f"sample holds {len(sample) // 8} values, expected {min(finite, MAX_SAMPLE)}",
                         where=at, hint=_HINT)
    lo, hi = raw.get("min"), raw.get("max")
    if finite:
        lo, hi = _float(lo, "min", at), _float(hi, "max", at)
        if lo > hi:
            raise DriftError("min exceeds max", where=at, hint=_HINT)
    elif lo is not None or hi is not None:
        raise DriftError("min and max must be null without finite values", where=at, hint=_HINT)
    m2 = _float(raw.get("m2"), "m2", at)
    if m2 < 0:
        raise DriftError("m2 is negative", where=at, hint=_HINT)
    return ColumnProfile(name=name, kind=NUMERIC, count=count, nulls=nulls, edges=edges,
                         bins=bins, infinite=infinite, min=lo, max=hi,
                         mean=_float(raw.get("mean"), "mean", at), m2=m2, sample=sample)


def _load_categorical(raw: dict[str, Any], name: str, count: int, nulls: int, at: str
                      ) -> ColumnProfile:
    top_k = _count(raw.get("top_k"), "top_k", at)
    if not 1 <= top_k <= MAX_TOP_K:
        raise DriftError(f"top_k={top_k} is out of 1..{MAX_TOP_K}", where=at, hint=_HINT)
    top_raw = raw.get("top")
    if not isinstance(top_raw, list) or len(top_raw) > top_k:
        raise DriftError(f"top must be a list of at most top_k={top_k} pairs", where=at,
                         hint=_HINT)
    top: list[tuple[str, int]] = []
    for pair in top_raw:
        if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str)
                or len(pair[0]) > MAX_CATEGORY_CHARS):
            raise DriftError(f"top holds something other than [category of at most "
                             f"{MAX_CATEGORY_CHARS} characters, count]", where=at, hint=_HINT)
        top.append((pair[0], _count(pair[1], "top", at)))
    if len({k for k, _ in top}) != len(top):
        raise DriftError("top names a category twice", where=at, hint=_HINT)
    other = _count(raw.get("other"), "other", at)
    if sum(c for _, c in top) + other != count - nulls:
        raise DriftError("top and other do not add up to count - nulls", where=at, hint=_HINT)
    return ColumnProfile(name=name, kind=CATEGORICAL, count=count, nulls=nulls,
                         top=tuple(sorted(top, key=lambda kv: (-kv[1], kv[0]))), other=other,
                         top_k=top_k)


def _count(value: Any, field: str, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ROWS:
        raise DriftError(f"{field} must be a whole number from 0 to 2**53, not "
                         f"{str(value)[:40]!r}", where=at, hint=_HINT)
    return value


def _float(value: Any, field: str, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DriftError(f"{field} must be a finite number, not {str(value)[:40]!r}", where=at,
                         hint=_HINT)
    return float(value)


def _floats(value: Any, field: str, limit: int, at: str) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) > limit:
        raise DriftError(f"{field} must be a list of at most {limit} numbers", where=at,
                         hint=_HINT)
    return tuple(_float(v, field, at) for v in value)


def _sample(value: Any, at: str) -> bytes:
    if not isinstance(value, str) or len(value) > (MAX_SAMPLE * 8 + 2) // 3 * 4:
        raise DriftError(f"sample must be base64 of at most {MAX_SAMPLE} float64", where=at,
                         hint=_HINT)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DriftError("sample is not base64", where=at, hint=_HINT) from None
    if len(raw) % 8:
        raise DriftError("sample is not a whole number of float64", where=at, hint=_HINT)
    array = np.frombuffer(raw, dtype=SAMPLE_DTYPE)
    if not np.isfinite(array).all():
        raise DriftError("sample holds a NaN or an infinity", where=at, hint=_HINT)
    if len(array) > 1 and not (array[1:] >= array[:-1]).all():
        raise DriftError("sample is not sorted", where=at, hint=_HINT)
    return raw
