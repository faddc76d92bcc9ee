"""Which data sets get a profile in the runs that write them, checked at load time.

Declared with ``andon.profile(ASSET, columns=, reference=, sample=)``, and automatically for the
data sets of a model's pipelines (those with ``models=``): their CSV or Parquet outputs, and the
CSV or Parquet data sets they read that a pipeline writes (the features a model is trained on:
the data set whose drift matters; a source is not written by a run, so it gets no profile). A
declaration wins over the automatic choice, so ``andon.profile`` picks an automatic data set's
columns. Every problem is a ``DefinitionError`` naming the file and line of the call and the fix;
numpy (the ``drift`` extra) must be importable when anything is profiled.
"""

from __future__ import annotations

from collections.abc import Iterable

from andon.model.definitions import Profiled
from andon.model.errors import DefinitionError
from andon.model.graph import Graph
from andon.model.limits import name_problem
from andon.project.dsl import Declaration

MAX_PROFILED_COLUMNS = 200  # per data set: a profile of 200 numeric columns is ~11 MB
MAX_WINDOW = 365  # "window:N": the most partitions merged into one reference
MAX_SAMPLE = 5_000  # andon.drift.limits.MAX_SAMPLE (not imported: numpy may be missing)
PROFILED_SUFFIXES = (".csv", ".parquet")
EXTRA_HINT = "pip install 'andon[drift]' (numpy and scipy), or remove the andon.profile calls"


def reference_problem(reference: object) -> str | None:
    """Why ``reference`` is not ``"training"`` or ``"window:N"`` (N from 1 to MAX_WINDOW)."""
    if reference == "training":
        return None
    if isinstance(reference, str) and reference.startswith("window:"):
        n = reference[len("window:"):]
        if n.isdigit() and 1 <= int(n) <= MAX_WINDOW:
            return None
    return (f"reference={str(reference)[:60]!r} is neither 'training' nor 'window:N' "
            f"(N from 1 to {MAX_WINDOW})")


def window_size(reference: str) -> int:
    """N of a checked ``"window:N"`` reference; 0 for ``"training"``."""
    return int(reference.split(":", 1)[1]) if reference.startswith("window:") else 0


def profiled(decls: Iterable[Declaration], graph: Graph) -> dict[str, Profiled]:
    """The data sets of ``graph`` to profile, by name (see the module docstring)."""
    out: dict[str, Profiled] = {}
    for asset in _automatic(graph):
        out[asset] = Profiled(asset, auto=True)
    problems: list[str] = []
    for d in decls:
        if d.kind == "profile":
            found = _declared(d, graph, problems)
            if found is not None:
                out[found.asset] = found
    if problems:
        raise DefinitionError(f"{len(problems)} problem(s) with andon.profile:\n  " +
                              "\n  ".join(problems), hint="fix the andon.profile calls")
    if not out or _has_numpy():
        return out
    if any(not p.auto for p in out.values()):
        first = next(d for d in decls if d.kind == "profile")
        raise DefinitionError("andon.profile needs numpy, which is not installed",
                              where=first.where, hint=EXTRA_HINT)
    return {}  # automatic ones only: none without the extra, quietly


def _has_numpy() -> bool:
    try:
        import numpy  # noqa: F401  (the drift extra; imported by the runs that profile)
    except ImportError:
        return False
    return True


def _automatic(graph: Graph) -> list[str]:
    chosen: list[str] = []
    for pipe in graph.pipelines.values():
        if not pipe.models:
            continue
        names = [*pipe.outputs, *(i.asset for i in pipe.inputs if i.asset in graph.producer)]
        for name in names:
            asset = graph.assets.get(name)
            if asset is not None and asset.location.lower().endswith(PROFILED_SUFFIXES):
                chosen.append(name)
    return list(dict.fromkeys(chosen))


def _declared(d: Declaration, graph: Graph, problems: list[str]) -> Profiled | None:
    o, at = d.options, f"{d.where}: andon.profile({str(d.options['asset'])[:60]!r})"
    asset = o["asset"]
    bad = name_problem("asset", asset)
    if bad:
        problems.append(f"{at}: {bad}")
        return None
    if asset not in graph.assets:
        problems.append(f"{at}: no data set {asset!r}; profile one a pipeline writes")
        return None
    if asset not in graph.producer:
        problems.append(f"{at}: {asset!r} is a source, which no run writes; profile a data "
                        "set a pipeline writes")
        return None
    columns = o["columns"]
    if columns is None:
        columns = []
    if isinstance(columns, str) or not isinstance(columns, (list, tuple)):
        problems.append(f"{at}: columns={str(columns)[:60]!r} is not a list of column names, "
                        "e.g. columns=['spend', 'orders']")
        return None
    if len(columns) > MAX_PROFILED_COLUMNS:
        problems.append(f"{at}: {len(columns)} columns, more than {MAX_PROFILED_COLUMNS}; "
                        "profile the columns that matter")
        return None
    for c in columns:
        bad = name_problem("column", c)
        if bad:
            problems.append(f"{at}: {bad}")
            return None
    if len(set(columns)) != len(columns):
        problems.append(f"{at}: columns= names a column twice")
        return None
    bad = reference_problem(o["reference"])
    if bad:
        problems.append(f"{at}: {bad}")
        return None
    sample = o["sample"]
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= MAX_SAMPLE:
        problems.append(f"{at}: sample={repr(sample)[:40]} is not a whole number from 1 to "
                        f"{MAX_SAMPLE}")
        return None
    return Profiled(asset, tuple(columns), o["reference"], sample)
