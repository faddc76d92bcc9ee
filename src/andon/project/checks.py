"""The checks of a project as loaded: each ``andon.check(TARGET)`` is on a data set (it runs on
every new version of its partitions) or on a model (it runs on what is measured about the
version serving: its realised performance, its data's drift; a blocking breach pulls the andon
cord on that version)."""

from __future__ import annotations

from collections.abc import Iterable

from andon.model.definitions import Check
from andon.model.graph import Graph
from andon.model.limits import name_problem
from andon.model.words import did_you_mean
from andon.project.dsl import Declaration


def check_problems(problems: list[str], decls: Iterable[Declaration], assets: set[str],
                   models: set[str]) -> None:
    """A check names a declared data set or a model some pipeline makes (``models=``), and its
    name is unique on it."""
    seen: dict[tuple[str, str], str] = {}
    for d in decls:
        if d.kind != "check":
            continue
        bad_name = name_problem("check", d.name)
        if bad_name:
            problems.append(f"{d.where}: {bad_name}; pass name='...'")
        target = d.options["asset"]
        if not isinstance(target, str) or (target not in assets and target not in models):
            problems.append(f"{d.where}: check {d.name!r} is on {target!r}, which is not a "
                            "declared data set or model; "
                            + (did_you_mean(str(target), assets | models).strip()
                               or "name a source, a pipeline output or a model a pipeline "
                                  "makes (models=)"))
            continue
        if target in assets and target in models:
            problems.append(f"{d.where}: check {d.name!r} is on {target!r}, which names both a "
                            "data set and a model; rename the model")
            continue
        if (target, d.name) in seen:
            problems.append(f"{d.where}: check {d.name!r} on {target!r} is declared twice (also "
                            f"at {seen[(target, d.name)]}); give one a different name=")
        seen.setdefault((target, d.name), d.where)


def split_checks(decls: Iterable[Declaration], graph: Graph
                 ) -> tuple[tuple[Check, ...], tuple[Check, ...]]:
    """The checks on data sets and the checks on models (``Check.asset`` is then the model's
    name), each in declaration order."""
    on_assets: list[Check] = []
    on_models: list[Check] = []
    for d in decls:
        if d.kind != "check" or d.fn is None:
            continue
        check = Check(d.name, d.options["asset"], d.fn, d.options["blocking"], d.where)
        (on_assets if check.asset in graph.assets else on_models).append(check)
    return tuple(on_assets), tuple(on_models)
