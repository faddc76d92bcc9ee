"""Profiles: what they count, merging (the union's profile; associative), JSON round trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from andon.drift.codec import dumps, loads
from andon.drift.limits import MAX_SAMPLE, DriftError
from andon.drift.profile import CATEGORICAL, NUMERIC, Profile, merge, merge_all, profile


def _data(seed: int, n: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 2, n)
    x[:: 17] = np.nan
    return {"x": x, "k": rng.integers(0, 1000, n), "plan": rng.choice(["a", "b", "c", "d"], n)}


def _same(a: Profile, b: Profile) -> None:
    assert a.rows == b.rows and list(a.columns) == list(b.columns)
    for name, ca in a.columns.items():
        cb = b.columns[name]
        assert (ca.kind, ca.count, ca.nulls, ca.bins, ca.top, ca.other, ca.edges) == \
            (cb.kind, cb.count, cb.nulls, cb.bins, cb.top, cb.other, cb.edges)
        if ca.kind == NUMERIC:
            assert (ca.min, ca.max) == (cb.min, cb.max)
            assert ca.mean == pytest.approx(cb.mean, rel=1e-9, abs=1e-6)
            assert ca.m2 == pytest.approx(cb.m2, rel=1e-9, abs=1e-3)
            assert ca.sample == cb.sample


def test_a_profile_counts_what_the_data_holds() -> None:
    x = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 3.0, 4.0])
    p = profile({"x": x, "c": ["u", None, "v", "u", float("nan"), "u", "w"]})
    col = p.column("x")
    assert (col.kind, col.count, col.nulls, col.infinite, col.finite) == (NUMERIC, 7, 1, 2, 4)
    assert (col.min, col.max, col.mean) == (1.0, 4.0, 2.5)
    assert col.variance == pytest.approx(1.25)
    assert sum(col.bins) == 6 and col.bins[0] >= 1 and col.bins[-1] >= 1  # the infinities
    assert sorted(col.sample_array.tolist()) == [1.0, 2.0, 3.0, 4.0]
    cat = p.column("c")
    assert (cat.kind, cat.nulls, cat.top, cat.other) == (CATEGORICAL, 2, (("u", 3), ("v", 1),
                                                                          ("w", 1)), 0)


def test_the_sample_is_capped_and_uniform() -> None:
    x = np.arange(1_000_000, dtype=np.float64)
    s = profile({"x": x}).column("x").sample_array
    assert len(s) == MAX_SAMPLE and len(set(s.tolist())) == MAX_SAMPLE
    assert abs(float(s.mean()) - 500_000) < 20_000  # 5 standard errors


def test_top_k_keeps_the_most_frequent_and_counts_the_rest() -> None:
    values = ["a"] * 50 + ["b"] * 30 + ["c"] * 10 + ["d"] * 5 + ["e"] * 5
    col = profile({"c": np.array(values)}, top_k=2).column("c")
    assert col.top == (("a", 50), ("b", 30)) and col.other == 20


def test_the_profile_of_a_union_is_the_merge_of_the_profiles() -> None:
    a, b = _data(1, 1500), _data(2, 2000)
    ref = profile(a)
    union = {k: np.concatenate([a[k], b[k]]) for k in a}  # type: ignore[list-item]
    _same(merge(profile(a, reference=ref), profile(b, reference=ref)),
          profile(union, reference=ref))


def test_merging_is_associative() -> None:
    parts = [_data(s, n) for s, n in ((3, 900), (4, 1200), (5, 700))]
    ref = profile(parts[0])
    pa, pb, pc = (profile(d, reference=ref) for d in parts)
    _same(merge(merge(pa, pb), pc), merge(pa, merge(pb, pc)))
    _same(merge_all([pa, pb, pc]), merge(pa, merge(pb, pc)))


def test_a_merged_sample_is_a_uniform_sample_of_the_union() -> None:
    ref = profile({"x": np.zeros(10)})
    big = profile({"x": np.full(30_000, 1.0)}, reference=ref)
    small = profile({"x": np.full(10_000, 2.0)}, reference=ref)
    share = [float((merge(big, small, seed=s).column("x").sample_array == 2.0).mean())
             for s in range(20)]
    assert len(merge(big, small).column("x").sample_array) == MAX_SAMPLE
    assert abs(sum(share) / len(share) - 0.25) < 0.01


def test_profiles_with_other_edges_or_columns_do_not_merge() -> None:
    a, b = profile({"x": np.arange(10.0)}), profile({"x": np.arange(100.0)})
    with pytest.raises(DriftError, match="'x' has different histogram edges"):
        merge(a, b)
    with pytest.raises(DriftError, match="'y' is in one profile"):
        merge(a, profile({"x": np.arange(10.0), "y": np.arange(10.0)}, reference=a))


def test_a_data_frame_is_profiled_like_a_mapping() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_data(7, 500))
    assert profile(frame) == profile({c: frame[c].to_numpy() for c in frame.columns})
    nullable = pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64")})
    col = profile(nullable, reference=profile({"x": np.arange(3.0)})).column("x")
    assert (col.kind, col.nulls, col.mean) == (NUMERIC, 1, 2.0)


def test_the_json_form_round_trips_and_is_compact() -> None:
    p = profile(_data(8, 100_000))
    text = dumps(p)
    assert loads(text) == p
    assert len(text) < 2 * 54_000 + 2_000  # two numeric columns (their samples) and top-k
    assert "NaN" not in text and " " not in text


def test_bad_input_names_the_column() -> None:
    with pytest.raises(DriftError, match="'y' has 2 rows, the others 3"):
        profile({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0]})
    with pytest.raises(DriftError, match="'x' holds values that are not numbers"):
        profile({"x": np.array(["a", "b"])}, reference=profile({"x": [1.0, 2.0]}))
    with pytest.raises(DriftError, match="not an identifier"):
        profile({"bad name": [1.0]})
    with pytest.raises(DriftError, match="'z' is not in the data"):
        profile({"x": [1.0]}, columns=["z"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=1, max_size=300),
       st.integers(0, 300), st.integers(0, 10**6))
def test_merge_is_the_profile_of_the_union_for_any_split(values: list[float], cut: int,
                                                          seed: int) -> None:
    x = np.asarray(values)
    cats = np.asarray([f"k{int(v) % 7}" if v == v else None for v in values], dtype=object)
    ref = profile({"x": x, "c": cats})
    cut = min(cut, len(values))
    left = profile({"x": x[:cut], "c": cats[:cut]}, reference=ref)
    right = profile({"x": x[cut:], "c": cats[cut:]}, reference=ref)
    _same(merge(left, right, seed=seed), profile({"x": x, "c": cats}, reference=ref))
