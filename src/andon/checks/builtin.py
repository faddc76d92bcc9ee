"""Built-in data quality checks over CSV / JSON-lines data, with the standard library.

Each built-in is a factory: ``row_count(min=1)`` returns a check function to declare with
``andon.check("orders")(andon.checks.row_count(min=1))``. The measuring itself is a pure function
over a Table (``count_rows``, ``null_fractions`` ...), usable on its own in a custom check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from andon.checks.context import CheckContext, CheckFn, CheckResult
from andon.checks.shift import SHIFT_METHODS, shift_of
from andon.checks.tables import Table, data_files, kind, number, read_table, timestamp
from andon.model.durations import parse_duration

TYPES = ("int", "float", "number", "bool", "str", "datetime")


def _named(name: str, fn: Callable[[CheckContext], CheckResult]) -> CheckFn:
    fn.__name__ = fn.__qualname__ = name
    return fn


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- row count -----------------------------------------------------------------------------------

def count_rows(table: Table, min: int | None = None, max: int | None = None) -> CheckResult:
    rows = table.rows
    low_ok = min is None or rows >= min
    high_ok = max is None or rows <= max
    bounds = f"[{'' if min is None else min}, {'' if max is None else max}]"
    return CheckResult(low_ok and high_ok, {"rows": rows},
                       f"{_plural(rows, 'row')}" + ("" if low_ok and high_ok
                                                     else f", outside {bounds}"))


def row_count(min: int | None = None, max: int | None = None) -> CheckFn:
    """Passes when the number of rows is within ``[min, max]`` (either may be left open)."""
    return _named("row_count", lambda ctx: count_rows(ctx.table, min, max))


# -- nulls ---------------------------------------------------------------------------------------

def null_fractions(table: Table, limits: Mapping[str, float]) -> CheckResult:
    """The null fraction of each column in ``limits`` against its maximum."""
    numbers: dict[str, float] = {"rows": table.rows}
    bad: list[str] = []
    for column, limit in limits.items():
        if column not in table.columns:
            bad.append(f"{column} is missing")
            continue
        values = table.columns[column]
        fraction = sum(v is None for v in values) / len(values) if values else 0.0
        numbers[f"null_fraction:{column}"] = fraction
        if fraction > limit:
            bad.append(f"{column} {fraction:.1%} null (at most {limit:.1%})")
    return CheckResult(not bad, numbers, "; ".join(bad) or f"null fractions within limits "
                                                          f"({len(limits)} columns)")


def null_fraction(max: float = 0.0, columns: Sequence[str] | Mapping[str, float] | None = None
                  ) -> CheckFn:
    """Passes when no column has more than ``max`` nulls (a fraction, 0 = none allowed).
    ``columns``: the columns to look at (default: all), or a mapping column -> its own maximum."""
    def run(ctx: CheckContext) -> CheckResult:
        table = ctx.table
        if isinstance(columns, Mapping):
            limits = dict(columns)
        else:
            limits = {c: max for c in (columns if columns is not None else table.columns)}
        return null_fractions(table, limits)
    return _named("null_fraction", run)


# -- columns and types ---------------------------------------------------------------------------

def _kind_for(expected: str, value: Any) -> str:
    """The kind of ``value`` as far as ``expected`` cares: any text is a ``str`` (CSV is all
    text), but a JSON number is not."""
    if expected == "str" and isinstance(value, str):
        return "str"
    return kind(value)


def _fits(expected: str, found: str) -> bool:
    if found == "null":
        return True
    if expected in ("float", "number"):
        return found in ("int", "float")
    return expected == found


def column_types(table: Table, expected: Sequence[str] | Mapping[str, str],
                 exact: bool = False) -> CheckResult:
    """The columns present (and, for a mapping, the kind of every value) against ``expected``."""
    names = list(expected)
    missing = [c for c in names if c not in table.columns]
    extra = [c for c in table.columns if c not in names] if exact else []
    wrong: list[str] = []
    if isinstance(expected, Mapping):
        for column, want in expected.items():
            if column in missing:
                continue
            kinds = Counter(_kind_for(want, v) for v in table.columns[column])
            off = Counter({k: n for k, n in kinds.items() if not _fits(want, k)})
            if off:
                sample = ", ".join(f"{n} {k}" for k, n in off.most_common(3))
                wrong.append(f"{column} should be {want} but has {sample}")
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + \
        ([f"unexpected {', '.join(extra)}"] if extra else []) + wrong
    return CheckResult(not problems, {"columns": len(table.columns), "missing": len(missing),
                                      "unexpected": len(extra), "wrong_type": len(wrong)},
                       "; ".join(problems) or f"{len(names)} columns as expected")


def columns(expected: Sequence[str] | Mapping[str, str], exact: bool = False) -> CheckFn:
    """Passes when every expected column is present (``exact``: and no other) and, when
    ``expected`` maps columns to types (int, float/number, bool, str, datetime), every non-null
    value has that type."""
    if isinstance(expected, str):
        raise TypeError("columns() takes a list of names or a mapping name -> type, not a string")
    if isinstance(expected, Mapping):
        unknown = {c: t for c, t in expected.items() if t not in TYPES}
        if unknown:
            raise ValueError(f"unknown column type(s) {unknown}; use one of {', '.join(TYPES)}")
    return _named("columns", lambda ctx: column_types(ctx.table, expected, exact))


# -- uniqueness ----------------------------------------------------------------------------------

def duplicates(table: Table, key: Sequence[str]) -> CheckResult:
    """Rows whose ``key`` repeats an earlier row's, and rows with a null in the key."""
    missing = [c for c in key if c not in table.columns]
    if missing:
        return CheckResult(False, {"rows": table.rows}, f"key column(s) missing: {', '.join(missing)}")
    seen: Counter[tuple[Any, ...]] = Counter(zip(*(table.columns[c] for c in key)))
    nulls = sum(n for k, n in seen.items() if any(v is None for v in k))
    repeated = sum(n - 1 for k, n in seen.items() if n > 1 and not any(v is None for v in k))
    label = "+".join(key)
    message = f"{label} unique over {_plural(table.rows, 'row')}"
    if repeated or nulls:
        worst = [k for k, n in seen.most_common(3) if n > 1]
        message = f"{label}: {repeated} duplicate(s), {nulls} null key(s)" + (
            f"; e.g. {', '.join(map(str, worst))}" if worst else "")
    return CheckResult(not repeated and not nulls,
                       {"rows": table.rows, "duplicates": repeated, "null_keys": nulls}, message)


def unique(key: str | Sequence[str]) -> CheckFn:
    """Passes when the key (a column or several) is unique and never null."""
    cols = [key] if isinstance(key, str) else list(key)
    return _named("unique", lambda ctx: duplicates(ctx.table, cols))


# -- value range ---------------------------------------------------------------------------------

def values_within(table: Table, column: str, min: float | None = None, max: float | None = None,
                  allow_null: bool = True) -> CheckResult:
    if column not in table.columns:
        return CheckResult(False, {"rows": table.rows}, f"column {column!r} is missing")
    out = nulls = not_numeric = 0
    low = high = None
    for value in table.columns[column]:
        if value is None:
            nulls += 1
            continue
        x = number(value)
        if x is None:
            not_numeric += 1
            continue
        low = x if low is None or x < low else low
        high = x if high is None or x > high else high
        if (min is not None and x < min) or (max is not None and x > max):
            out += 1
    numbers: dict[str, float] = {"rows": table.rows, "out_of_range": out, "nulls": nulls,
                                 "not_numeric": not_numeric}
    if low is not None and high is not None:
        numbers.update(min=low, max=high)
    bad = out + not_numeric + (0 if allow_null else nulls)
    bounds = f"[{'' if min is None else min}, {'' if max is None else max}]"
    message = (f"{column} within {bounds}" if not bad else
               f"{column}: {out} outside {bounds}, {not_numeric} not numeric"
               + ("" if allow_null else f", {nulls} null"))
    return CheckResult(not bad, numbers, message)


def value_range(column: str, min: float | None = None, max: float | None = None,
                allow_null: bool = True) -> CheckFn:
    """Passes when every value of ``column`` is a number within ``[min, max]``."""
    return _named("value_range", lambda ctx: values_within(ctx.table, column, min, max, allow_null))


# -- freshness -----------------------------------------------------------------------------------

def freshness(max_age: str | timedelta, column: str | None = None) -> CheckFn:
    """Passes when the newest data is at most ``max_age`` older than the partition's end (or than
    now, for an unpartitioned asset). The newest data is the latest value of the timestamp
    ``column`` (ISO-8601 or epoch seconds), or without one the latest file modification time."""
    limit = max_age if isinstance(max_age, timedelta) else parse_duration(max_age)

    def run(ctx: CheckContext) -> CheckResult:
        reference = ctx.partition_end or ctx.now
        if column is None:
            files = ctx.files
            if not files:
                return CheckResult(False, {}, f"no data at {ctx.path}")
            newest = datetime.fromtimestamp(max(f.stat().st_mtime for f in files), UTC)
            source = "file modification time"
        else:
            stamps = [t for t in map(timestamp, ctx.table.column(column)) if t is not None]
            if not stamps:
                return CheckResult(False, {"rows": ctx.table.rows},
                                   f"{column} holds no timestamps")
            newest = max(stamps)
            source = f"newest {column}"
        lag = reference - newest
        ok = lag <= limit
        return CheckResult(ok, {"lag_seconds": lag.total_seconds(),
                                "max_age_seconds": limit.total_seconds(),
                                "newest_epoch": newest.timestamp()},
                           f"{source} {newest:%Y-%m-%dT%H:%M:%SZ} is {_age(lag)} before "
                           f"{'the partition end' if ctx.partition_end else 'now'}"
                           + ("" if ok else f" (at most {_age(limit)})"))
    return _named("freshness", run)


def _age(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds >= 3600:
        return f"{sign}{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{sign}{seconds / 60:.0f}m"
    return f"{sign}{seconds:.0f}s"


# -- distribution shift --------------------------------------------------------------------------

def shift(column: str, n: int = 7, method: str = "zscore", threshold: float | None = None,
          min_history: int = 3) -> CheckFn:
    """Passes when ``column`` of this partition looks like it did in the previous ``n``
    partitions. ``zscore``: this partition's mean against the mean and spread of the previous
    partitions' means (default threshold 3); ``psi``: the population stability index of this
    partition's values against the previous partitions' values (default threshold 0.2). With
    fewer than ``min_history`` earlier partitions it passes and says so."""
    if method not in SHIFT_METHODS:
        raise ValueError(f"unknown shift method {method!r}; use one of {', '.join(SHIFT_METHODS)}")
    limit = threshold if threshold is not None else SHIFT_METHODS[method]

    def run(ctx: CheckContext) -> CheckResult:
        current = ctx.table.column(column)
        history = [read_table(data_files(path)).columns.get(column, [])
                   for _key, path in ctx.previous(n)]
        return shift_of(column, current, history, method, limit, min_history)
    return _named(f"shift_{method}", run)

