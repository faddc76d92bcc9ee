"""A compact, mergeable profile of a partition's columns, built where the data is written.

Per column: ``count`` (rows) and ``nulls``; a numeric column (numpy kinds ``i``, ``u``, ``f``)
keeps a fixed-edge histogram, the number of infinite values, min, max, mean and ``m2`` (the sum
of squared deviations from the mean, merged with Chan's formula) over its finite values, and a
uniform sample of at most ``MAX_SAMPLE`` of them (for KS); any other column is categorical and
keeps the counts of its ``top_k`` most frequent values (as text, cut to ``MAX_CATEGORY_CHARS``)
and one ``other`` count for the rest.

**Edges.** A histogram has open outer bins: inner edges ``e_1 < ... < e_m`` make ``m + 1`` bins
``(-inf, e_1), [e_1, e_2), ..., [e_m, +inf)``; infinities fall in the outer bins. A partition
is profiled against its reference's edges (``reference=``), so that their histograms compare
bin for bin. Without a reference the edges are the default scheme: the ``bins``-quantiles
(deciles by default) of the column's own sample, duplicates dropped — what the reference itself
is built with. Two profiles merge only when their edges are equal.

**Merging.** ``merge(a, b)`` is the profile of the union of the rows: counts, histograms, nulls,
min and max add up exactly, mean and ``m2`` up to float rounding; the merged sample is a uniform
sample of the union (the number taken from each side is drawn from the hypergeometric
distribution, then that many from each side's sample), so while the union has at most
``MAX_SAMPLE`` finite values it is the union itself. Top-k counts are exact while the union
holds at most ``top_k`` distinct values; beyond, a value that was in one side's ``other`` stays
there.

NaN and None are nulls. Everything here is pure (no I/O); numpy is imported at module top
because only the ``drift`` extra uses this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from andon.drift.limits import (
    DEFAULT_BINS,
    DEFAULT_TOP_K,
    MAX_BINS,
    MAX_CATEGORY_CHARS,
    MAX_COLUMNS,
    MAX_SAMPLE,
    MAX_TOP_K,
    DriftError,
)
from andon.model.limits import name_problem

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)
SAMPLE_DTYPE = "<f8"
# below this many inner edges, counting x < e per edge beats a binary search per value
_COUNTING_EDGES = 32


@dataclass(frozen=True)
class ColumnProfile:
    """One column's profile (see the module docstring). ``bins`` has ``len(edges) + 1`` counts
    for a numeric column and is empty for a categorical one; ``top`` is sorted by count, most
    frequent first, then by value."""

    name: str
    kind: str
    count: int
    nulls: int = 0
    # numeric
    edges: tuple[float, ...] = ()
    bins: tuple[int, ...] = ()
    infinite: int = 0
    min: float | None = None
    max: float | None = None
    mean: float = 0.0
    m2: float = 0.0
    sample: bytes = b""  # sorted little-endian float64 (see ``sample_array``)
    # categorical
    top: tuple[tuple[str, int], ...] = ()
    other: int = 0
    top_k: int = DEFAULT_TOP_K

    @property
    def values(self) -> int:
        """Non-null values (infinities included)."""
        return self.count - self.nulls

    @property
    def finite(self) -> int:
        """The values the moments and the sample are over."""
        return self.count - self.nulls - self.infinite

    @property
    def sample_array(self) -> np.ndarray:
        """The sample as a read-only float64 array, sorted (no copy)."""
        return np.frombuffer(self.sample, dtype=SAMPLE_DTYPE)

    @property
    def variance(self) -> float:
        return self.m2 / self.finite if self.finite else 0.0


@dataclass(frozen=True)
class Profile:
    """A partition's profile: ``rows`` and one ``ColumnProfile`` per column, by name."""

    rows: int
    columns: Mapping[str, ColumnProfile] = field(default_factory=dict)

    def column(self, name: str, where: str = "") -> ColumnProfile:
        try:
            return self.columns[name]
        except KeyError:
            raise DriftError(f"column {name!r} is not in the profile", where=where,
                             hint="profile the column in both partitions, or leave it out of "
                                  "the comparison") from None


# -- building -----------------------------------------------------------------------------------

def profile(data: Any, *, reference: Profile | None = None, columns: Iterable[str] | None = None,
            bins: int = DEFAULT_BINS, top_k: int = DEFAULT_TOP_K, seed: int = 0,
            where: str = "") -> Profile:
    """The profile of ``data``: a mapping of column name -> 1-d array-like, or a data frame
    (anything with ``columns`` and ``[name]``; pandas columns are read with ``to_numpy``).

    With ``reference`` each column takes the reference column's kind and edges (a numeric
    reference column coerces the data to float64; a value that is not a number is a
    ``DriftError`` naming the column). ``columns`` picks and orders the columns (default: all).
    ``seed`` makes the sample reproducible. Raises ``DriftError`` for a column name that is
    not an identifier, columns of unequal lengths, more than ``MAX_COLUMNS`` columns, or
    ``bins`` / ``top_k`` out of bounds."""
    if not 1 <= bins <= MAX_BINS:
        raise DriftError(f"bins={bins} is out of bounds", where=where,
                         hint=f"use 1 to {MAX_BINS} bins")
    if not 1 <= top_k <= MAX_TOP_K:
        raise DriftError(f"top_k={top_k} is out of bounds", where=where,
                         hint=f"count 1 to {MAX_TOP_K} categories by name")
    names = [str(c) for c in (columns if columns is not None else _column_names(data))]
    if len(names) > MAX_COLUMNS:
        raise DriftError(f"{len(names)} columns to profile, more than {MAX_COLUMNS}", where=where,
                         hint="profile the columns that matter (columns=[...])")
    for name in names:
        problem = name_problem("column", name)
        if problem:
            raise DriftError(problem, where=where)
    rng = np.random.default_rng(seed)
    out: dict[str, ColumnProfile] = {}
    rows: int | None = None
    for name in names:
        try:
            raw = data[name]
        except (KeyError, IndexError):
            raise DriftError(f"column {name!r} is not in the data", where=where,
                             hint="name a column the data has") from None
        array = _as_array(raw)
        if rows is None:
            rows = len(array)
        elif len(array) != rows:
            raise DriftError(f"column {name!r} has {len(array)} rows, the others {rows}",
                             where=where, hint="profile columns of one table")
        ref = reference.columns.get(name) if reference is not None else None
        kind = ref.kind if ref is not None else _kind(array)
        if kind == NUMERIC:
            out[name] = _numeric(name, array, ref.edges if ref is not None else None, bins, rng,
                                 where)
        else:
            out[name] = _categorical(name, array, ref.top_k if ref is not None else top_k)
    return Profile(rows=rows or 0, columns=out)


def _column_names(data: Any) -> list[str]:
    cols = getattr(data, "columns", None)
    if cols is not None:
        return [str(c) for c in cols]
    if isinstance(data, Mapping):
        return [str(c) for c in data]
    raise DriftError(f"cannot profile a {type(data).__name__}",
                     hint="pass a mapping of column name -> array, or a data frame")


def _as_array(raw: Any) -> np.ndarray:
    to_numpy = getattr(raw, "to_numpy", None)
    array = to_numpy() if callable(to_numpy) else np.asarray(raw)
    return np.ravel(array)


def _kind(array: np.ndarray) -> str:
    return NUMERIC if array.dtype.kind in "iuf" else CATEGORICAL


def _numeric(name: str, array: np.ndarray, edges: tuple[float, ...] | None, bins: int,
             rng: np.random.Generator, where: str) -> ColumnProfile:
    try:
        x = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise DriftError(f"column {name!r} holds values that are not numbers", where=where,
                         hint="profile it as categorical, or clean the column") from None
    count = len(x)
    finite_mask = np.isfinite(x)
    if finite_mask.all():
        v, nulls, infinite, present = x, 0, 0, x
    else:
        nan_mask = np.isnan(x)
        nulls = int(nan_mask.sum())
        v = x[finite_mask]
        infinite = count - nulls - len(v)
        present = x[~nan_mask] if nulls else x
    n = len(v)
    sample = v[rng.choice(n, MAX_SAMPLE, replace=False)] if n > MAX_SAMPLE else v
    if edges is None:
        edges = quantile_edges(sample, bins)
    hist = histogram(present, edges)
    if n:
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            mean = float(v.mean())
            d = v - mean
            m2, lo, hi = float(np.dot(d, d)), float(v.min()), float(v.max())
    else:
        mean, m2, lo, hi = 0.0, 0.0, None, None
    _check_moments(name, mean, m2, where)
    return ColumnProfile(name=name, kind=NUMERIC, count=count, nulls=nulls, edges=tuple(edges),
                         bins=tuple(hist), infinite=infinite, min=lo, max=hi,
                         mean=mean, m2=m2, sample=_sample_bytes(sample))


def _sample_bytes(sample: np.ndarray) -> bytes:
    return np.sort(sample).astype(SAMPLE_DTYPE, copy=False).tobytes()


def histogram(values: np.ndarray, edges: tuple[float, ...]) -> list[int]:
    """Counts of ``values`` (no NaN) in the open-ended bins of ``edges``."""
    n = len(values)
    if not edges:
        return [n]
    if len(edges) < _COUNTING_EDGES:
        below = [0, *(int(np.count_nonzero(values < e)) for e in edges), n]
        return [hi - lo for lo, hi in zip(below, below[1:])]
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")
    return [int(c) for c in np.bincount(idx, minlength=len(edges) + 1)]


def quantile_edges(sample: np.ndarray, bins: int = DEFAULT_BINS) -> tuple[float, ...]:
    """The default edges: the ``bins``-quantiles of ``sample`` (finite values), without
    duplicates; ``()`` (one bin) for an empty sample."""
    if len(sample) == 0 or bins == 1:
        return ()
    with np.errstate(over="ignore", invalid="ignore"):  # interpolating near the float limit
        qs = np.quantile(sample, np.arange(1, bins) / bins)
    return tuple(float(e) for e in np.unique(qs[np.isfinite(qs)]))


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(value != value)
    return type(value).__name__ in ("NAType", "NaTType")


def _categorical(name: str, array: np.ndarray, top_k: int) -> ColumnProfile:
    count = len(array)
    if array.dtype.kind in "US":
        values, counts = np.unique(array, return_counts=True)
        tally: Counter[str] = Counter()
        for value, c in zip(values.tolist(), counts.tolist()):
            tally[_category(value)] += int(c)
        nulls = 0
    else:
        tally = Counter(_category(v) for v in array.tolist() if not _is_null(v))
        nulls = count - sum(tally.values())
    top, other = _top(tally, top_k)
    return ColumnProfile(name=name, kind=CATEGORICAL, count=count, nulls=nulls, top=top,
                         other=other, top_k=top_k)


def _category(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text[:MAX_CATEGORY_CHARS]


def _top(tally: Mapping[str, int], top_k: int, other: int = 0
         ) -> tuple[tuple[tuple[str, int], ...], int]:
    ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = tuple((k, int(c)) for k, c in ranked[:top_k] if c > 0)
    return kept, other + sum(c for _, c in ranked[top_k:])


# -- merging ------------------------------------------------------------------------------------

def merge(a: Profile, b: Profile, *, seed: int = 0) -> Profile:
    """The profile of the rows of ``a`` and ``b`` together (see the module docstring). Both
    must have the same columns, each of the same kind and (numeric) the same edges; otherwise a
    ``DriftError`` names the column."""
    if set(a.columns) != set(b.columns):
        odd = sorted(set(a.columns) ^ set(b.columns))
        raise DriftError(f"column {odd[0]!r} is in one profile and not the other",
                         hint="merge profiles of the same columns")
    rng = np.random.default_rng(seed)
    merged = {name: merge_columns(col, b.columns[name], rng) for name, col in a.columns.items()}
    return Profile(rows=a.rows + b.rows, columns=merged)


def merge_all(profiles: Iterable[Profile], *, seed: int = 0) -> Profile:
    """``merge`` over several profiles, left to right (a rolling window's reference)."""
    items = list(profiles)
    if not items:
        raise DriftError("no profiles to merge", hint="give at least one profile")
    out = items[0]
    for i, p in enumerate(items[1:]):
        out = merge(out, p, seed=seed + i)
    return out


def merge_columns(a: ColumnProfile, b: ColumnProfile, rng: np.random.Generator) -> ColumnProfile:
    if a.kind != b.kind:
        raise DriftError(f"column {a.name!r} is {a.kind} in one profile and {b.kind} in the other",
                         hint="profile both partitions against the same reference")
    count, nulls = a.count + b.count, a.nulls + b.nulls
    if a.kind == CATEGORICAL:
        tally: Counter[str] = Counter(dict(a.top))
        tally.update(dict(b.top))
        top_k = max(a.top_k, b.top_k)
        top, other = _top(tally, top_k, a.other + b.other)
        return replace(a, count=count, nulls=nulls, top=top, other=other, top_k=top_k)
    if a.edges != b.edges:
        raise DriftError(f"column {a.name!r} has different histogram edges in the two profiles",
                         hint="profile both partitions against the same reference (reference=)")
    na, nb = a.finite, b.finite
    n = na + nb
    delta = b.mean - a.mean
    mean = a.mean + delta * nb / n if n else 0.0
    m2 = a.m2 + b.m2 + delta * delta * na * nb / n if n else 0.0
    _check_moments(a.name, mean, m2, "")
    return replace(
        a, count=count, nulls=nulls, bins=tuple(x + y for x, y in zip(a.bins, b.bins)),
        infinite=a.infinite + b.infinite, min=_pick(min, a.min, b.min),
        max=_pick(max, a.max, b.max), mean=mean, m2=m2,
        sample=_merge_samples(a, b, rng))


def _check_moments(name: str, mean: float, m2: float, where: str) -> None:
    # finite values near the float limit overflow the sum of squares; a profile holds only
    # finite numbers (its JSON form is strict), so such a column is refused, by name
    if not (np.isfinite(mean) and np.isfinite(m2)):
        raise DriftError(f"column {name!r} holds values too large to profile (its variance "
                         "overflows a float64)", where=where,
                         hint="rescale the column, or profile it as categorical")


def _pick(fn: Any, x: float | None, y: float | None) -> float | None:
    if x is None or y is None:
        return y if x is None else x
    return float(fn(x, y))


def _merge_samples(a: ColumnProfile, b: ColumnProfile, rng: np.random.Generator) -> bytes:
    """A uniform sample of the union, from uniform samples of each side (without replacement)."""
    sa, sb, na, nb = a.sample_array, b.sample_array, a.finite, b.finite
    if (na and not len(sa)) or (nb and not len(sb)):
        return b""  # a side loaded bins only (``codec.loads(samples=False)``): no sample
    k = min(MAX_SAMPLE, na + nb)
    if k == len(sa) + len(sb):
        return _sample_bytes(np.concatenate([sa, sb]))
    if na + nb < 10**9:
        take_a = int(rng.hypergeometric(na, nb, k)) if na and nb else (k if na else 0)
    else:  # numpy's hypergeometric stops at 10**9; the binomial is as good at that size
        take_a = int(rng.binomial(k, na / (na + nb)))
    take_a = max(k - len(sb), min(take_a, len(sa)))
    pick_a = rng.choice(len(sa), take_a, replace=False) if take_a < len(sa) else slice(None)
    pick_b = rng.choice(len(sb), k - take_a, replace=False) if k - take_a < len(sb) else slice(None)
    return _sample_bytes(np.concatenate([sa[pick_a], sb[pick_b]]))
