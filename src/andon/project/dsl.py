"""What users write: ``andon.source(...)``, ``@andon.pipeline(...)``, ``@andon.check(...)`` and
``andon.catalog(...)``.

Declarations are collected raw (with the file and line they come from) while the project's
definition modules are imported; ``andon.project.load`` turns them into the validated graph, so a bad
deadline or an unknown input is reported naming the file, the object and the fix.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from andon.model.definitions import Declared, Input
from andon.model.errors import DefinitionError
from andon.model.limits import name_problem
from andon.model.partitions import PartitionMapping, Rollup, Serving, last


@dataclass
class Declaration:
    """One ``source``, ``pipeline``, ``check`` or ``catalog`` call as written, with where it was
    written."""

    kind: str  # "source" | "pipeline" | "check" | "catalog"
    name: str
    options: dict[str, Any]
    where: str
    fn: Callable[..., Any] | None = None
    module: str = ""


@dataclass
class Registry:
    declarations: list[Declaration] = field(default_factory=list)


_active: list[Registry] = []


def _registry() -> Registry:
    if not _active:
        # imported outside a project load (a notebook, a test): collect into a throwaway registry
        _active.append(Registry())
    return _active[-1]


def _where(depth: int = 2) -> str:
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def source(name: str, *, partitions: str | None = "daily", owner: str = "",
           description: str = "", location: str | None = None, watch: str = "",
           expected_arrival: str | None = None, subscribers: Any = (), access: Any = None,
           retention: Any = None, keep_last: Any = None, region: str = "",
           backup_of: str = "") -> str:
    """Declare data that arrives from outside; ``andon notify NAME PARTITION`` (or a file landing
    in ``watch``) announces each partition. Returns the name, to use in ``inputs``.
    ``subscribers`` (e-mail addresses or webhook names) are notified about it like its owner.
    ``access`` says how to get access to it: a link or a note (a string), or a dict with
    ``link``, ``note`` and ``form`` (a JSON Schema object: the fields an access request
    answers; README, "Access requests"). ``retention`` (a duration, e.g. "90d") and
    ``keep_last`` (a count of versions per partition) say what ``andon sweep`` deletes
    (andon.project.retention); ``region`` says where it is stored and ``backup_of`` which data
    set it is a backup of (the waste audit: ``andon.project.waste``)."""
    _registry().declarations.append(Declaration(
        "source", name, dict(partitions=partitions, owner=owner, description=description,
                             location=location, watch=watch, expected_arrival=expected_arrival,
                             subscribers=subscribers, access=access, retention=retention,
                             keep_last=keep_last, region=region, backup_of=backup_of),
        _where()))
    return name


def window(asset: str, n: int) -> Input:
    """An input that reads the last ``n`` partitions of ``asset`` up to the pipeline's own."""
    return Input(asset, last(n))


def rollup(asset: str) -> Input:
    """An input that reads every finer partition (hours) of ``asset`` inside the pipeline's
    coarser partition (a day)."""
    return Input(asset, Rollup())


def serving(model: str, output: str | None = None) -> Input:
    """An input that reads the artifact of the version of catalog model ``model`` serving when
    the run starts (``andon model promote``; none serving yet: the run waits): the partition the
    version's run wrote of its producer's one output (``output=`` names one when it has several).
    In the run, ``ctx.inputs[model]`` is its Path, ``ctx.models[model]`` the version number and
    ``ctx.candidates[model]`` (version, Path) of a newer version never promoted, to score in
    shadow. A new promotion does not re-run partitions already made."""
    return Input(model if isinstance(model, str) else repr(model),
                 Serving(model if isinstance(model, str) else repr(model),
                         output if isinstance(output, str) else ("" if output is None
                                                                 else repr(output))))


def mapped(asset: str, mapping: PartitionMapping) -> Input:
    """An input with any partition mapping."""
    return Input(asset, mapping)


_PIPELINE_DEFAULTS: dict[str, Any] = dict(
    inputs=(), outputs=(), partitions="daily", pool="default", slots=1, priority=1,
    deadline=None, expected_duration=None, retries=0, retry_delay="10s", timeout=None,
    max_concurrent=0, on_upstream_change="rerun", owner="", description="", locations=None,
    subscribers=(), on_cord="cancel", bad_outputs="keep", env=(), secrets=(), uses=(), models=(),
    access=None, retention=None, keep_last=None, region="", backup_of="")


def pipeline(name: str | Callable[..., Any] | None = None, *, command: str | None = None,
             **options: Any) -> Any:
    """Declare a pipeline: decorate a function taking a context, or pass ``command=`` (a shell
    command with ``{partition}``) and a ``name``. Options: inputs, outputs, partitions, pool,
    slots, priority, deadline, expected_duration, retries, retry_delay, timeout, max_concurrent,
    on_upstream_change, owner, description, locations (output -> path template), subscribers
    (e-mail addresses or webhook names notified about its outputs), on_cord ("cancel" or
    "finish": a running run when an andon cord halts it), bad_outputs ("keep", "quarantine" or
    "delete": what happens to outputs made from data under a cord), env (names of environment
    variables its runs get from the scheduler's environment; runs get no others but a small base
    such as PATH, HOME and LANG), secrets (the same, with their values masked in run logs), uses
    (names of the catalog's services and libraries it uses), models (names of the catalog's
    models it makes: each successful run is a new version of each), access (output -> how to
    get access to it, as ``andon.source``'s ``access``), retention and keep_last (what ``andon
    sweep`` deletes of its outputs: data older than a duration, versions past the newest N),
    region (where its outputs are stored) and backup_of (the data set its outputs back up)."""
    bare = name if callable(name) else None  # used as @andon.pipeline, without parentheses
    label = name if isinstance(name, str) else None
    unknown = sorted(set(options) - set(_PIPELINE_DEFAULTS))
    where = _where()
    if unknown:
        close = [m for u in unknown for m in difflib.get_close_matches(u, _PIPELINE_DEFAULTS, 1)]
        raise DefinitionError(
            f"pipeline{f' {label!r}' if label else '()'} got unknown option(s) "
            f"{', '.join(unknown)}" + (f"; did you mean {', '.join(close)}?" if close else ""),
            where=where, hint=f"known options: command, {', '.join(_PIPELINE_DEFAULTS)}")
    opts = {**_PIPELINE_DEFAULTS, **options}
    outputs = opts["outputs"]
    if isinstance(outputs, (list, tuple)) and any(isinstance(o, ModelOutput) for o in outputs):
        opts["outputs"] = tuple(o for o in outputs if not isinstance(o, ModelOutput))
        made = tuple(o.model for o in outputs if isinstance(o, ModelOutput))
        opts["models"] = (*made, *(opts["models"] if isinstance(opts["models"], (list, tuple))
                                   else ()))
    for option in ("uses", "models"):
        opts[option] = _entry_names(str(label or getattr(bare, "__name__", "")), option,
                                    opts[option], where)
    if command is not None:
        if not label:
            raise DefinitionError("a command pipeline needs a name", where=where,
                                  hint="write andon.pipeline('name', command='...', ...)")
        _registry().declarations.append(Declaration("pipeline", label, {**opts, "command": command},
                                                    where))
        return None

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        code = fn.__code__
        _registry().declarations.append(Declaration(
            "pipeline", label or fn.__name__, {**opts, "command": ""},
            f"{code.co_filename}:{code.co_firstlineno}", fn, fn.__module__))
        return fn

    return decorate(bare) if bare else decorate


def where_called() -> str:
    """``file:line`` of the definitions line that called the DSL function calling this one
    (for a declaration function defined outside this module, e.g. ``andon.performance``)."""
    return _where(3)


def derived_pipeline(name: str, *, where: str, fn: Callable[..., Any], kind: str,
                     **options: Any) -> None:
    """Record a pipeline andon derives from a declaration of ``kind`` (e.g. "performance"),
    with the pipeline defaults for what ``options`` leave out; the loader
    (``andon.project.derived``) gives it the partitions of its first input and refuses a name
    that another pipeline or data set has."""
    _registry().declarations.append(Declaration(
        "pipeline", name, {**_PIPELINE_DEFAULTS, **options, "command": "", "derived": kind},
        where, fn, getattr(fn, "__module__", "") or ""))


def check(asset: str, *, blocking: bool = True, name: str | None = None
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a data quality check on every new version of ``asset``'s partitions: decorate a
    function taking a ``CheckContext`` and returning a ``CheckResult`` (or a bool), or wrap a
    built-in: ``andon.check("orders")(andon.checks.row_count(min=1))``. A failing ``blocking``
    check pulls the andon cord on the partition; a failing warning check only notifies."""
    where = _where()  # the line of the check(...) call: built-ins are defined elsewhere

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(fn):
            raise DefinitionError(f"check on {asset!r} wraps {fn!r}, which is not a function",
                                  where=where, hint="decorate a function taking a context, or "
                                                    "wrap a built-in such as andon.checks.row_count()")
        # a lambda's "<lambda>" becomes "lambda": only a name written out must be an identifier
        label = name or re.sub(r"[^A-Za-z0-9_.-]+", "", getattr(fn, "__name__", "")) or "check"
        _registry().declarations.append(Declaration(
            "check", label, dict(asset=asset, blocking=bool(blocking)), where, fn,
            getattr(fn, "__module__", "") or ""))
        return fn

    return decorate


def profile(asset: str, columns: Any = None, reference: str = "training",
            sample: int = 5000) -> str:
    """Declare that every partition written of ``asset`` gets a profile, written by the run that
    writes it: ``columns`` (default: every column of the CSV or Parquet file), the
    ``reference`` its drift is measured against (``"training"``: the partitions the serving
    version of the model trained on; ``"window:N"``: the N partitions before it, merged) and
    the KS ``sample`` size. Checked at load time (``andon.project.profiles``). Returns the
    asset's name."""
    _registry().declarations.append(Declaration(
        "profile", str(asset), dict(asset=asset, columns=columns, reference=reference,
                                    sample=sample), _where()))
    return asset


def catalog(kind: str, name: str, *, owner: str = "", description: str = "", tags: Any = (),
            team: str = "", links: Any = None, lifecycle: str = "active", since: Any = None,
            access: Any = "", deploy: str | None = None, gate: Any = None) -> str:
    """Declare an entry of the catalog (a model, a service, a library or an external data set)
    in the definitions: the fields of a ``catalog.toml`` table, checked the same way when the
    catalog loads (``andon validate``), each problem naming this call's file and line. ``since``
    is the date its ``lifecycle`` took effect (required for "deprecated"); ``deploy``, a model's
    policy: "manual" (the default) or "auto"; ``gate``, an ``auto`` model's promotion gate
    (``dict(metric="auc", tolerance=0.01, partitions=3, drift=True)``). Returns the name, to
    use in a pipeline's ``uses=`` or ``models=``."""
    table: dict[str, Any] = {"kind": kind, "name": name, "owner": owner,
                             "description": description, "team": team, "access": access,
                             "tags": list(tags) if isinstance(tags, tuple) else tags,
                             "lifecycle": lifecycle if since is None
                             else {"state": lifecycle, "date": since}}
    if links is not None:
        table["links"] = links
    if deploy is not None:
        table["deploy"] = deploy
    if gate is not None:
        table["gate"] = gate
    _registry().declarations.append(Declaration("catalog", str(name), table, _where()))
    return name


def model(name: str, *, where: str | None = None, **fields: Any) -> str:
    """Declare a model, as ``andon.model("churn", owner=..., deploy="auto")``: the same as
    ``andon.catalog("model", name, ...)`` with its fields (owner, description, deploy, gate
    ...). Returns the name, for a pipeline's ``models=`` or an ``andon.check(name)`` on the
    model. ``where``: the declaring line, when called through a wrapper."""
    if "kind" in fields:
        raise DefinitionError(f"andon.model({name!r}) declares a model; it takes no kind=",
                              where=where or _where(),
                              hint="use andon.catalog(kind, name) for other kinds")
    before = len(_registry().declarations)
    catalog("model", name, **fields)
    _registry().declarations[before].where = where or _where()  # the user's line, not ours
    return name


@dataclass(frozen=True)
class ModelOutput:
    """``outputs=[andon.model_output("churn")]``: the pipeline makes model ``churn`` (the same as
    ``models=["churn"]``): each of its successful runs is a new version."""

    model: str


def model_output(name: str) -> ModelOutput:
    """An output of a pipeline that is a model of the catalog (see ``ModelOutput``)."""
    return ModelOutput(name)


def _entry_names(pipeline: str, option: str, items: Any, where: str) -> tuple[str, ...]:
    """A pipeline's ``uses=`` or ``models=``: names of the catalog's entries (that each names an
    entry is checked where the catalog loads, ``andon.registry.declared``)."""
    example = "uses=['orders_api', 'pricing']" if option == "uses" else "models=['churn']"
    if isinstance(items, str) or not isinstance(items, (list, tuple)):
        raise DefinitionError(f"pipeline {pipeline!r}: {option}={items!r} is not a list of names",
                              where=where, hint=f"name entries of the catalog, e.g. {example}")
    for item in items:
        bad = name_problem("catalog entry", item)
        if bad:
            raise DefinitionError(f"pipeline {pipeline!r}: {option}= holds a {bad}", where=where,
                                  hint=f"name entries of the catalog, e.g. {example}")
    return tuple(dict.fromkeys(items))


def restore_drill(backup: str, *, rto: str, name: str | None = None,
                  command: str | None = None, **options: Any) -> Any:
    """Declare a restore drill of the backup data set ``backup`` (declared with
    ``backup_of=``): an ordinary pipeline (``andon.pipeline``'s options; ``backup`` is added to
    its inputs) whose successful runs must take at most ``rto`` (a duration, "1h"). The waste
    audit reports a backup with no such run in ``[audit] drill_days``."""
    options["inputs"] = [*options.get("inputs", ()), backup]
    out = pipeline(name, command=command, **options)

    def record(fn: Callable[..., Any] | None) -> None:
        _registry().declarations.append(Declaration(
            "drill", str(name or getattr(fn, "__name__", "")), {"backup": backup, "rto": rto},
            _where(3)))

    if command is not None:
        record(None)
        return out

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        record(fn)
        return out(fn)

    return decorate


def declared(registry: Registry) -> tuple[Declared, ...]:
    """The entries of the catalog that ``registry``'s ``andon.catalog(...)`` calls declared."""
    return tuple(Declared(d.options, d.where) for d in registry.declarations
                 if d.kind == "catalog")


def collect(run: Callable[[], None]) -> Registry:
    """Run ``run`` (which imports definition modules) and return what it declared."""
    registry = Registry()
    _active.append(registry)
    try:
        run()
    finally:
        _active.remove(registry)
    return registry


# andon.model(...) declares a model: the domain package calls this (it imports nothing above)
setattr(sys.modules["andon.model"], "declare", model)  # noqa: B010
