"""The metrics of realised performance against values computed by hand."""

from __future__ import annotations

import math

import pytest

from andon.checks.scoring import (
    METRICS,
    PerformanceError,
    accuracy,
    auc,
    below,
    f1,
    log_loss,
    mae,
    precision,
    r2,
    recall,
    rmse,
)


def test_auc_without_and_with_ties() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # pairs (positive, negative): (.5, .5) ties: 1/2; (.5, .2), (.9, .5), (.9, .2): 1 each
    assert auc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1]) == 3.5 / 4
    assert auc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0]) == 0.5  # all tied: chance
    assert auc([0.9, 0.8, 0.1], [0, 0, 1]) == 0.0


def test_auc_needs_both_classes_and_rows() -> None:
    with pytest.raises(PerformanceError, match="needs both classes; the labels hold only 1"):
        auc([0.2, 0.7], [1, 1])
    with pytest.raises(PerformanceError, match="no rows"):
        auc([], [])


def test_classification_metrics() -> None:
    assert accuracy([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1]) == 0.5
    assert accuracy([0.5], [1]) == 1.0  # 0.5 predicts the positive class
    assert accuracy(["a", "b", "c"], ["a", "c", "c"]) == 2 / 3  # class labels: equality
    preds, labels = [0.9, 0.6, 0.2, 0.7], [1, 0, 1, 0]  # TP 1, FP 2, FN 1
    assert precision(preds, labels) == 1 / 3
    assert recall(preds, labels) == 1 / 2
    assert f1(preds, labels) == pytest.approx(0.4)
    assert precision([0.1, 0.2], [1, 0]) == 0.0 and f1([0.1], [0]) == 0.0  # none predicted
    assert log_loss([0.8, 0.3], [1, 0]) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)
    assert math.isfinite(log_loss([0.0, 1.0], [1, 0]))  # a sure mistake is clipped, not inf


def test_regression_metrics() -> None:
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))
    assert mae([1, 2, 3], [1, 2, 5]) == pytest.approx(2 / 3)
    assert r2([1, 2, 3], [1, 2, 5]) == pytest.approx(7 / 13)
    assert r2([2, 2], [2, 2]) == 1.0 and r2([1, 3], [2, 2]) == 0.0  # constant labels


def test_thresholds_are_floors_or_ceilings() -> None:
    assert below("auc", 0.55, 0.6) and not below("auc", 0.65, 0.6)
    assert below("rmse", 2.0, 1.5) and not below("log_loss", 0.3, 0.5)
    assert set(METRICS) == {"auc", "accuracy", "precision", "recall", "f1", "log_loss", "rmse",
                            "mae", "r2"}
