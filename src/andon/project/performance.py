"""The pipelines andon derives from declarations (``andon.performance``), placed at load time:
each takes the partitions of its first input (the predictions: a performance partition is a
predictions partition), and its name must be free: a derived pipeline named as another pipeline
or data set fails the load naming both declarations and the fix (``name=``)."""

from __future__ import annotations

from dataclasses import replace

from andon.model.definitions import Input
from andon.model.errors import DefinitionError
from andon.project.dsl import Declaration


def place_derived(decls: list[Declaration]) -> list[Declaration]:
    """``decls`` with each derived pipeline given its first input's partitions; DefinitionError
    for a derived pipeline whose name (or output's) another declaration has."""
    derived = [d for d in decls if d.kind == "pipeline" and d.options.get("derived")]
    if not derived:
        return decls
    partitions: dict[str, object] = {}
    named: dict[str, Declaration] = {}  # every pipeline's and data set's name -> declaration
    for d in decls:
        if d.kind == "source":
            partitions.setdefault(d.name, d.options.get("partitions"))
            named.setdefault(d.name, d)
        elif d.kind == "pipeline" and not d.options.get("derived"):
            named.setdefault(d.name, d)
            outputs = d.options.get("outputs")
            for out in outputs if isinstance(outputs, (list, tuple)) else ():
                if isinstance(out, str):
                    partitions.setdefault(out, d.options.get("partitions"))
                    named.setdefault(out, d)
    out, ids = [], {id(d) for d in derived}
    for d in decls:
        if id(d) not in ids:
            out.append(d)
            continue
        other = named.get(d.name)
        if other is not None:
            kind = d.options["derived"]
            raise DefinitionError(
                f"andon.{kind}(...) derives the pipeline {d.name!r}, but {other.kind} "
                f"{other.name!r} at {other.where} already has that name (as a pipeline or a "
                "data set)", where=d.where,
                hint=f"pass name='...' to andon.{kind}(...), or rename the other one")
        named[d.name] = d
        first = d.options["inputs"][0]
        asset = first.asset if isinstance(first, Input) else first
        out.append(replace(d, options={**d.options,
                                       "partitions": partitions.get(asset, "daily")}))
    return out
