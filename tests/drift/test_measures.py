"""Drift measures: known values, shifted and unshifted columns, BH over many columns, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from andon.drift.limits import AMBER, GREEN, PSI_AMBER, PSI_RED, RED, DriftError, band_of
from andon.drift.measures import (
    benjamini_hochberg,
    chi2_p_value,
    drift,
    js_distance,
    ks_p_value,
    psi,
)
from andon.drift.profile import profile


def test_psi_on_hand_computed_examples() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    # an empty reference bin counts as a share of 1e-4
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(
        0.5 * math.log(2) + (0.5 - 1e-4) * math.log(0.5 / 1e-4))


def test_js_distance_on_hand_computed_examples() -> None:
    assert js_distance([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    assert js_distance([0.3, 0.7], [0.3, 0.7]) == 0.0
    # m = (0.75, 0.25): KL(p||m) = 0.5 log2(2/3) + 0.5 log2(2), KL(q||m) = log2(4/3)
    expected = math.sqrt(0.5 * (0.5 * math.log2(2 / 3) + 0.5) + 0.5 * math.log2(4 / 3))
    assert js_distance([0.5, 0.5], [1.0, 0.0]) == pytest.approx(expected)
    assert expected == pytest.approx(distance.jensenshannon([0.5, 0.5], [1.0, 0.0], base=2))


def test_the_bands_are_spelled_once() -> None:
    assert (band_of(PSI_AMBER - 1e-9), band_of(PSI_AMBER), band_of(PSI_RED)) == (GREEN, AMBER, RED)
    assert (PSI_AMBER, PSI_RED) == (0.1, 0.25)


def test_the_ks_p_value_agrees_with_scipys() -> None:
    rng = np.random.default_rng(0)
    a, b = np.sort(rng.normal(0, 1, 3000)), np.sort(rng.normal(0.05, 1, 4000))
    ours = ks_p_value(a, b)
    theirs = stats.ks_2samp(a, b, method="asymp").pvalue
    assert ours == pytest.approx(theirs, rel=0.05, abs=1e-3)


def test_the_chi_square_caps_the_sample_size() -> None:
    # a 1-point shift in shares: significant on 10 million rows, not on the capped 5,000
    ref, part = [5_000_000, 5_000_000], [4_900_000, 5_100_000]
    assert stats.chi2_contingency(np.array([ref, part]), correction=False).pvalue < 1e-6
    assert chi2_p_value(ref, part) > 0.05


def _normal(seed: int, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(seed).normal(shift, 1, n)}


def test_a_shifted_normal_is_red_and_an_unshifted_one_green() -> None:
    ref = profile(_normal(1, 100_000))
    same = drift(profile(_normal(2, 20_000), reference=ref), ref).column("x")
    moved = drift(profile(_normal(3, 20_000, shift=1.0), reference=ref), ref).column("x")
    assert same.band == GREEN and not same.alarm and same.psi < 0.01
    assert moved.band == RED and moved.significant and moved.alarm and moved.p_value < 1e-6
    assert moved.js > 0.2 > same.js


def test_a_categorical_shift_and_a_new_category_are_red() -> None:
    rng = np.random.default_rng(4)
    ref = profile({"plan": rng.choice(["a", "b", "c"], 50_000, p=[0.6, 0.3, 0.1])})
    same = profile({"plan": rng.choice(["a", "b", "c"], 5_000, p=[0.6, 0.3, 0.1])}, reference=ref)
    moved = profile({"plan": rng.choice(["a", "b", "c"], 5_000, p=[0.3, 0.3, 0.4])},
                    reference=ref)
    new = profile({"plan": rng.choice(["a", "b", "z"], 5_000, p=[0.4, 0.3, 0.3])}, reference=ref)
    assert drift(same, ref).band == GREEN
    for part in (moved, new):
        col = drift(part, ref).column("plan")
        assert (col.band, col.significant, col.test) == (RED, True, "chi2")


def test_benjamini_hochberg_on_known_p_values() -> None:
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.2]) == [True, False, False, False]
    assert benjamini_hochberg([0.01, 0.02, 0.03, 0.04]) == [True] * 4
    assert benjamini_hochberg([]) == []


def test_bh_keeps_false_alarms_down_over_50_columns() -> None:
    rng = np.random.default_rng(5)
    ref = profile({f"c{i}": rng.normal(0, 1, 20_000) for i in range(50)})
    naive = corrected = 0
    for _ in range(20):
        part = profile({f"c{i}": rng.normal(0, 1, 5_000) for i in range(50)}, reference=ref)
        report = drift(part, ref)
        naive += sum(c.p_value < 0.05 for c in report.columns)
        corrected += sum(c.significant for c in report.columns)
        assert report.alarms == ()
    # 1,000 unshifted columns: about 50 below 0.05 alone, BH keeps the family's error near 5 %
    assert naive > 20
    assert corrected <= 3


def test_bad_comparisons_name_the_column() -> None:
    ref = profile({"x": np.arange(100.0), "y": np.arange(100.0)})
    empty = profile({"x": np.full(10, np.nan), "y": np.arange(10.0)}, reference=ref)
    with pytest.raises(DriftError, match="partition has no values in column 'x'"):
        drift(empty, ref)
    with pytest.raises(DriftError, match="column 'z' is not in the profile"):
        drift(profile({"z": np.arange(10.0)}), ref)
    with pytest.raises(DriftError, match="'x' has other histogram edges"):
        drift(profile({"x": np.arange(10.0)}), ref, columns=["x"])
    with pytest.raises(DriftError, match="'x' is categorical in the partition"):
        drift(profile({"x": np.array(["a", "b"])}), ref, columns=["x"])
    with pytest.raises(DriftError, match="no columns"):
        drift(profile({}), ref)
    report = drift(profile({"x": np.arange(50.0)}, reference=ref), ref, columns=["x"])
    assert report.to_dict()["columns"][0]["column"] == "x"
