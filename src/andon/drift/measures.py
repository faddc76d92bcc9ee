"""Drift of a partition against a reference, from their profiles alone.

Per column: the **population stability index** over the histogram's bins (numeric) or the
categories (categorical), with ``PSI_EPSILON`` as the share of an empty bin, banded green /
amber (``PSI_AMBER``) / red (``PSI_RED``); the **Jensen-Shannon distance** (base 2, so in
[0, 1]) over the same shares; a **p-value**: Kolmogorov-Smirnov on the two capped samples
(numeric), chi-square on the category counts scaled to the capped sample size (categorical: as
if a sample of ``min(n, MAX_SAMPLE)`` had those shares), so that a large partition alone never
makes a small difference significant; and **Benjamini-Hochberg** across the report's columns at
``FDR``. A column *alarms* when it is red, or amber and significant after BH.

PSI and JS compare non-null values; the null rates are reported beside them. scipy is imported
when the first p-value is computed (the ``drift`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from andon.drift.limits import AMBER, BANDS, FDR, MAX_SAMPLE, PSI_EPSILON, RED, DriftError, band_of
from andon.drift.profile import CATEGORICAL, ColumnProfile, Profile


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift (see the module docstring); ``test`` is ``ks`` or ``chi2``."""

    column: str
    kind: str
    psi: float
    js: float
    p_value: float
    test: str
    band: str
    significant: bool
    null_rate: float
    reference_null_rate: float

    @property
    def alarm(self) -> bool:
        return self.band == RED or (self.band == AMBER and self.significant)


@dataclass(frozen=True)
class DriftReport:
    """The drift of every compared column, and the worst band among them."""

    columns: tuple[ColumnDrift, ...]
    band: str

    @property
    def alarms(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns if c.alarm)

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise DriftError(f"column {name!r} is not in the report", hint="name a compared column")

    def to_dict(self) -> dict[str, Any]:
        return {"band": self.band, "alarms": list(self.alarms),
                "columns": [{**asdict(c), "alarm": c.alarm} for c in self.columns]}


def drift(partition: Profile, reference: Profile, *, columns: Iterable[str] | None = None,
          where: str = "", tests: bool = True) -> DriftReport:
    """Compare ``partition`` with ``reference`` column by column (default: every column of the
    partition). A column missing from either profile, of another kind or other edges in the
    two, or without a single value in either, is a ``DriftError`` naming it. ``tests=False``:
    PSI, JS and bands only, from the bins and categories (profiles loaded without samples):
    every p-value is NaN, its test ``""`` and no column significant."""
    names = list(columns) if columns is not None else list(partition.columns)
    if not names:
        raise DriftError("no columns to compare", where=where, hint="profile some columns")
    raw = [_compare(partition.column(n, where), reference.column(n, where or "reference"), where,
                    tests) for n in names]
    flags = benjamini_hochberg([r[3] for r in raw]) if tests else [False] * len(raw)
    out = tuple(ColumnDrift(column=n, kind=kind, psi=psi, js=js, p_value=p, test=test,
                            band=band_of(psi), significant=sig, null_rate=nr,
                            reference_null_rate=rnr)
                for n, (kind, psi, js, p, test, nr, rnr), sig in zip(names, raw, flags))
    worst = max((c.band for c in out), key=BANDS.index)
    return DriftReport(columns=out, band=worst)


def _compare(part: ColumnProfile, ref: ColumnProfile, where: str, tests: bool = True
             ) -> tuple[str, float, float, float, str, float, float]:
    for side, col in (("partition", part), ("reference", ref)):
        if col.values == 0:
            raise DriftError(f"the {side} has no values in column {col.name!r} "
                             f"({col.count} rows, {col.nulls} null)", where=where,
                             hint="compare partitions that hold data; an empty one is a "
                                  "failure of the run that wrote it")
    if part.kind != ref.kind:
        raise DriftError(f"column {part.name!r} is {part.kind} in the partition and {ref.kind} "
                         "in the reference", where=where,
                         hint="profile the partition against the reference (reference=)")
    if part.kind == CATEGORICAL:
        p_counts, q_counts = _category_counts(ref, part)
        p_value, test = (chi2_p_value(p_counts, q_counts), "chi2") if tests else (math.nan, "")
    else:
        if part.edges != ref.edges:
            raise DriftError(f"column {part.name!r} has other histogram edges than the reference",
                             where=where,
                             hint="profile the partition against the reference (reference=)")
        p_counts, q_counts = list(ref.bins), list(part.bins)
        p_value, test = (ks_p_value(ref.sample_array, part.sample_array), "ks") if tests \
            else (math.nan, "")
    p, q = _shares(p_counts), _shares(q_counts)
    return (part.kind, psi(p, q), js_distance(p, q), p_value, test,
            part.nulls / part.count, ref.nulls / ref.count)


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [c / total for c in counts]


def _category_counts(ref: ColumnProfile, part: ColumnProfile) -> tuple[list[int], list[int]]:
    """Counts of the two over the same categories: each category named by both (or by one,
    when the other lists all its categories: then it has none of it), plus one bucket for the
    rest (the ``other`` counts and the categories one side may hide in its ``other``)."""
    rt, pt = dict(ref.top), dict(part.top)
    keys = sorted(set(rt) | set(pt))
    known = [k for k in keys if (k in rt or ref.other == 0) and (k in pt or part.other == 0)]
    rc = [rt.get(k, 0) for k in known]
    pc = [pt.get(k, 0) for k in known]
    return rc + [ref.values - sum(rc)], pc + [part.values - sum(pc)]


def psi(p: Sequence[float], q: Sequence[float]) -> float:
    """Population stability index of shares ``q`` (partition) against ``p`` (reference):
    sum of (q - p) ln(q / p), each share at least ``PSI_EPSILON``."""
    total = 0.0
    for a, b in zip(p, q):
        a, b = max(a, PSI_EPSILON), max(b, PSI_EPSILON)
        total += (b - a) * math.log(b / a)
    return total


def js_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon distance (base 2: 0 for equal shares, 1 for disjoint ones)."""
    div = 0.0
    for a, b in zip(p, q):
        m = (a + b) / 2
        if a > 0:
            div += 0.5 * a * math.log2(a / m)
        if b > 0:
            div += 0.5 * b * math.log2(b / m)
    return math.sqrt(max(div, 0.0))


def ks_p_value(reference: np.ndarray, partition: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov p-value of two **sorted** samples, from the limiting
    (Kolmogorov) distribution of sqrt(n m / (n + m)) D, as scipy's ``ks_2samp(method="asymp")``
    up to its finite-n correction; good from a few hundred values a side."""
    from scipy import special

    n, m = len(reference), len(partition)
    if not n or not m:
        return 1.0
    both = np.concatenate([reference, partition])
    d = np.max(np.abs(np.searchsorted(reference, both, side="right") / n
                      - np.searchsorted(partition, both, side="right") / m))
    return float(special.kolmogorov(math.sqrt(n * m / (n + m)) * float(d)))


def chi2_p_value(reference: Sequence[int], partition: Sequence[int]) -> float:
    """Chi-square p-value of the 2 x k table of the two count vectors, each scaled to at most
    ``MAX_SAMPLE`` (so that a large partition alone does not make a small shift significant)."""
    from scipy import stats

    rows = []
    for counts in (reference, partition):
        total = sum(counts)
        scale = min(total, MAX_SAMPLE) / total if total else 0.0
        rows.append([c * scale for c in counts])
    table = np.asarray(rows, dtype=np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def benjamini_hochberg(p_values: Sequence[float], fdr: float = FDR) -> list[bool]:
    """Which of ``p_values`` are discoveries at false discovery rate ``fdr`` (step-up)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cut = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= fdr * rank / m:
            cut = rank
    out = [False] * m
    for i in order[:cut]:
        out[i] = True
    return out
