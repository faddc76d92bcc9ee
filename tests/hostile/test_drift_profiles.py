"""Hostile profiles and data for ``andon.drift``: huge or malformed JSON, NaN and infinities,
counts that lie, a million categories. Each is a ``DriftError`` naming the field and column, or a
bounded profile; never a crash."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

from andon.drift.codec import dumps, from_dict, loads
from andon.drift.limits import (
    DEFAULT_TOP_K,
    MAX_CATEGORY_CHARS,
    MAX_COLUMNS,
    MAX_PROFILE_BYTES,
    MAX_SAMPLE,
    DriftError,
)
from andon.drift.measures import drift
from andon.drift.profile import profile


def _good() -> dict[str, Any]:
    data = {"x": np.random.default_rng(0).normal(size=500), "c": np.array(["a", "b"] * 250)}
    parsed: dict[str, Any] = json.loads(dumps(profile(data)))
    return parsed


def test_a_huge_text_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(DriftError, match="more than"):
        loads(" " * (MAX_PROFILE_BYTES + 1))


@pytest.mark.parametrize("text", [
    "", "{", "[]", "null", '{"format": "andon.profile/1"}', "[" * 100_000 + "]" * 100_000,
    '{"format": "andon.profile/1", "rows": NaN, "columns": []}',
    '{"format": "andon.profile/1", "rows": Infinity, "columns": []}',
    '{"format": "other/1", "rows": 1, "columns": []}',
    b"\xff\xfe\x00garbage",
])
def test_malformed_text_is_a_drift_error(text: str | bytes) -> None:
    with pytest.raises(DriftError):
        loads(text)


def _column(doc: dict[str, Any], name: str) -> dict[str, Any]:
    col: dict[str, Any] = next(c for c in doc["columns"] if c["name"] == name)
    return col


@pytest.mark.parametrize(("column", "field", "value", "message"), [
    ("x", "count", 500.0, "count must be a whole number"),
    ("x", "count", True, "count must be a whole number"),
    ("x", "nulls", -1, "nulls must be a whole number"),
    ("x", "nulls", 2**60, "nulls must be a whole number"),
    ("x", "nulls", 600, "nulls \\(600\\) exceed count"),
    ("x", "bins", [1, 2], "bins must be a list"),
    ("x", "edges", [3.0, 1.0] + [0.0] * 7, "edges are not increasing"),
    ("x", "edges", ["a"] * 9, "edges must be a finite number"),
    ("x", "mean", None, "mean must be a finite number"),
    ("x", "m2", -5.0, "m2 is negative"),
    ("x", "min", 1e300, "min exceeds max"),
    ("x", "sample", "!!!", "sample is not base64"),
    ("x", "sample", "A" * 100, "sample is not a whole number"),
    ("x", "sample", base64.b64encode(np.array([np.nan] * 500).tobytes()).decode(), "NaN"),
    ("x", "sample", base64.b64encode(np.arange(500.0)[::-1].tobytes()).decode(), "not sorted"),
    ("x", "sample", base64.b64encode(np.arange(20.0).tobytes()).decode(), "holds 20 values"),
    ("x", "sample", "A" * 10_000_000, "at most 5000"),
    ("x", "kind", "vector", "kind 'vector'"),
    ("x", "name", "../../etc", "not an identifier"),
    ("x", "name", "x" * 10_000, "longer than"),
    ("c", "top", [["a", 250], ["a", 250]], "names a category twice"),
    ("c", "top", [["a" * (MAX_CATEGORY_CHARS + 1), 250], ["b", 250]], "at most 64 characters"),
    ("c", "top", [["a", 1], ["b", 2]], "do not add up"),
    ("c", "top", [["a", "250"], ["b", 250]], "top must be a whole number"),
    ("c", "top_k", 10**6, "top_k=1000000 is out"),
    ("c", "other", float("nan"), "other must be a whole number"),
])
def test_a_lying_field_is_refused_naming_it(column: str, field: str, value: Any,
                                            message: str) -> None:
    doc = _good()
    _column(doc, column)[field] = value
    with pytest.raises(DriftError, match=message) as info:
        from_dict(doc, where="sales/2026-01-01")
    if field != "name":
        assert f"column {column!r}" in info.value.where
    assert info.value.where.startswith("sales/2026-01-01")


def test_structure_limits() -> None:
    doc = _good()
    doc["columns"].append(dict(doc["columns"][0]))
    with pytest.raises(DriftError, match="appears twice"):
        from_dict(doc)
    doc = _good()
    doc["columns"] = [{"name": f"c{i}"} for i in range(MAX_COLUMNS + 1)]
    with pytest.raises(DriftError, match="more than 1000"):
        from_dict(doc)
    doc = _good()
    doc["rows"] = 7
    with pytest.raises(DriftError, match="counts 500 rows, the profile 7"):
        from_dict(doc)
    with pytest.raises(DriftError, match="more than 1000"):
        profile({f"c{i}": [1.0] for i in range(MAX_COLUMNS + 1)})


def test_infinite_values_are_counted_not_averaged() -> None:
    x = np.array([np.inf, -np.inf, 1.0, 2.0, np.nan] * 1000)
    p = profile({"x": x})
    col = p.column("x")
    assert (col.infinite, col.nulls, col.min, col.max, col.mean) == (2000, 1000, 1.0, 2.0, 1.5)
    assert loads(dumps(p)) == p
    only_inf = profile({"x": np.array([np.inf] * 10)})
    assert loads(dumps(only_inf)) == only_inf and only_inf.column("x").min is None
    report = drift(profile({"x": np.full(100, np.inf)}, reference=p), p)
    assert report.band == "red"  # every value in the top bin


def test_a_million_categories_are_capped() -> None:
    values = np.array([f"customer-{i}" for i in range(1_000_000)])
    p = profile({"id": values})
    col = p.column("id")
    assert len(col.top) == DEFAULT_TOP_K and col.other == 1_000_000 - DEFAULT_TOP_K
    assert len(dumps(p)) < 5_000
    long = profile({"s": np.array(["é" * 10_000, None], dtype=object)})
    assert len(long.column("s").top[0][0]) == MAX_CATEGORY_CHARS
    assert loads(dumps(long)) == long


def test_a_huge_partition_keeps_a_capped_sample() -> None:
    p = profile({"x": np.random.default_rng(1).normal(size=2_000_000)})
    assert len(p.column("x").sample_array) == MAX_SAMPLE
    assert len(dumps(p)) < 60_000


def test_values_near_the_float_limit_are_refused_by_name() -> None:
    with pytest.raises(DriftError, match="column 'x' holds values too large"):
        profile({"x": np.array([1e308, -1e308, 1e308])})
