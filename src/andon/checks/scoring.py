"""The metrics of realised performance (``andon.performance``), in pure Python: numbers in, a
number out, no I/O and no numpy.

Each metric takes the predictions and the labels as two equally long lists of floats (``classes``
metrics: labels 0 or 1, predictions probabilities or scores; ``accuracy`` also takes class
labels as text, compared for equality) and raises ``PerformanceError`` naming the metric and
why when it is undefined on them (no rows, one class only for AUC). The positive class is
predicted at ``p >= 0.5`` (``CUTOFF``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

CUTOFF = 0.5  # a probability at or above it predicts the positive class
CLIP = 1e-15  # log_loss clips probabilities into [CLIP, 1 - CLIP], so one sure mistake stays finite


class PerformanceError(ValueError):
    """A metric that cannot be computed on these rows: the message says which and why."""


def _need(metric: str, predictions: Sequence[object], labels: Sequence[object]) -> int:
    if len(predictions) != len(labels):
        raise PerformanceError(f"{metric}: {len(predictions)} predictions but {len(labels)} "
                               "labels")
    if not predictions:
        raise PerformanceError(f"{metric}: no rows to measure")
    return len(predictions)


def auc(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """ROC AUC: the chance that a random positive scores above a random negative, a tie counting
    one half (the Mann-Whitney U statistic over average ranks)."""
    _need("auc", predictions, labels)
    order = sorted(range(len(predictions)), key=lambda i: predictions[i])
    ranks = [0.0] * len(order)
    i = 0
    while i < len(order):  # tied scores share the mean of their ranks
        j = i
        while j + 1 < len(order) and predictions[order[j + 1]] == predictions[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(1 for y in labels if y == 1)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise PerformanceError(f"auc needs both classes; the labels hold only "
                               f"{'1' if positives else '0'} ({len(labels)} rows)")
    rank_sum = sum(r for r, y in zip(ranks, labels) if y == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _confusion(predictions: Sequence[float], labels: Sequence[float]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) at ``CUTOFF``."""
    tp = fp = fn = 0
    for p, y in zip(predictions, labels):
        said = p >= CUTOFF
        tp += said and y == 1
        fp += said and y != 1
        fn += (not said) and y == 1
    return tp, fp, fn


def accuracy(predictions: Sequence[float] | Sequence[str],
             labels: Sequence[float] | Sequence[str]) -> float:
    """The share of rows predicted right: ``p >= 0.5`` against a 0/1 label, or (class labels,
    given as text) the prediction equal to the label."""
    n = _need("accuracy", predictions, labels)
    if labels and isinstance(labels[0], str):
        return sum(p == y for p, y in zip(predictions, labels)) / n
    return sum((float(p) >= CUTOFF) == (y == 1)  # type: ignore[arg-type]  # numbers here
               for p, y in zip(predictions, labels)) / n


def precision(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """True positives over predicted positives (0.0 when nothing is predicted positive)."""
    _need("precision", predictions, labels)
    tp, fp, _ = _confusion(predictions, labels)
    return tp / (tp + fp) if tp + fp else 0.0


def recall(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """True positives over actual positives (0.0 when no label is positive)."""
    _need("recall", predictions, labels)
    tp, _, fn = _confusion(predictions, labels)
    return tp / (tp + fn) if tp + fn else 0.0


def f1(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """The harmonic mean of precision and recall: 2 TP / (2 TP + FP + FN); 0.0 when both are."""
    _need("f1", predictions, labels)
    tp, fp, fn = _confusion(predictions, labels)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def log_loss(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """The mean negative log-likelihood of the labels under the predicted probabilities
    (natural log), each probability clipped into [1e-15, 1 - 1e-15]."""
    n = _need("log_loss", predictions, labels)
    total = 0.0
    for p, y in zip(predictions, labels):
        q = min(max(p, CLIP), 1 - CLIP)
        total -= math.log(q) if y == 1 else math.log(1 - q)
    return total / n


def rmse(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """The root of the mean squared error."""
    n = _need("rmse", predictions, labels)
    return math.sqrt(sum((p - y) ** 2 for p, y in zip(predictions, labels)) / n)


def mae(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """The mean absolute error."""
    n = _need("mae", predictions, labels)
    return sum(abs(p - y) for p, y in zip(predictions, labels)) / n


def r2(predictions: Sequence[float], labels: Sequence[float]) -> float:
    """The coefficient of determination, 1 - SS_res / SS_tot; when the labels are all equal
    (SS_tot = 0): 1.0 for a perfect prediction, else 0.0 (as scikit-learn's default)."""
    n = _need("r2", predictions, labels)
    mean = sum(labels) / n
    total = sum((y - mean) ** 2 for y in labels)
    residual = sum((y - p) ** 2 for p, y in zip(predictions, labels))
    if not total:
        return 1.0 if not residual else 0.0
    return 1 - residual / total


METRICS: dict[str, Callable[..., float]] = {
    "auc": auc, "accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1,
    "log_loss": log_loss, "rmse": rmse, "mae": mae, "r2": r2}
# the metrics whose labels are classes 0 or 1 (the others take any number, accuracy text too)
BINARY = frozenset({"auc", "precision", "recall", "f1", "log_loss"})
# where higher is better (a threshold is a floor); for the others it is a ceiling
HIGHER_IS_BETTER = frozenset({"auc", "accuracy", "precision", "recall", "f1", "r2"})


def higher_is_better(metric: str) -> bool:
    """Whether a larger ``metric`` is better (auc, accuracy ...; not an error such as rmse); a
    metric of one version (``auc@v3``) goes by its name."""
    return metric.split("@v", 1)[0] in HIGHER_IS_BETTER


def below(metric: str, value: float, threshold: float) -> bool:
    """Whether ``value`` breaches ``threshold``: under it for a metric where higher is better,
    over it for an error (log_loss, rmse, mae)."""
    return value < threshold if higher_is_better(metric) else value > threshold
