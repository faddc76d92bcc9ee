"""The validated graph of a project and the lookups the engine needs.

``build_graph`` checks everything a definition can get wrong and raises one DefinitionError that
lists every problem, each naming the file, the object and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from andon.model.definitions import Asset, Declared, Input, Pipeline, Pool, Profiled
from andon.model.errors import DefinitionError
from andon.model.limits import name_problem
from andon.model.partitions import Identity, LastN, Partitions, Rollup, Serving
from andon.model.words import did_you_mean


@dataclass(frozen=True)
class Graph:
    """Assets, pipelines and pools, plus derived indexes (producer and consumers of an asset)."""

    assets: dict[str, Asset]
    pipelines: dict[str, Pipeline]
    pools: dict[str, Pool]
    producer: dict[str, str] = field(default_factory=dict)  # asset -> pipeline
    consumers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # asset -> pipelines
    order: tuple[str, ...] = ()  # pipelines in dependency order
    rank: dict[str, int] = field(default_factory=dict)  # pipeline -> index in ``order``
    # asset -> number of blocking checks: a new version reaches consumers once all have passed
    gated: dict[str, int] = field(default_factory=dict)
    # absolute, normalised folders outside the project that locations may point into
    # ([project] data_roots); the project folder itself is always allowed
    data_roots: tuple[str, ...] = ()
    # the entries of the catalog declared in the definitions (``andon.catalog(...)``), unchecked:
    # the registry checks them with the project's catalog.toml
    declared: tuple[Declared, ...] = ()
    # data sets profiled in the runs that write them (andon.profile; andon.project.profiles)
    profiled: dict[str, Profiled] = field(default_factory=dict)
    # the code version runs start from: the definitions' content hash, and the project's git
    # commit ("" outside a git checkout)
    code_version: str = ""
    commit: str = ""
    # andon.serving inputs: pipeline -> ((model, artifact data set), ...) in input order, and
    # model -> the pipeline that makes it, for the models some pipeline reads that way
    serving: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    model_producer: dict[str, str] = field(default_factory=dict)
    # [sweep] every: how often the built-in sweep pipeline (andon.model.lifecycle.SWEEP_PIPELINE)
    # is requested; None: never by itself
    sweep_every: timedelta | None = None

    def final_attempt(self, pipeline: str, attempt: int) -> bool:
        """Whether a failure of ``pipeline``'s attempt ``attempt`` is final: no retry follows (a
        pipeline the graph no longer declares is not retried)."""
        pipe = self.pipelines.get(pipeline)
        return pipe is None or not pipe.retried(attempt)

    def partitions_of(self, pipeline: str) -> Partitions:
        return self.pipelines[pipeline].partitions

    def input_keys(self, pipeline: str, key: str) -> list[tuple[str, str]]:
        """Every (asset, partition) that partition ``key`` of ``pipeline`` reads."""
        pipe = self.pipelines[pipeline]
        out: list[tuple[str, str]] = []
        for inp in pipe.inputs:
            up = self.assets[inp.asset].partitions
            out.extend((inp.asset, k) for k in inp.mapping.upstream_keys(key, pipe.partitions, up))
        return out

    def consumer_keys(self, asset: str, key: str) -> list[tuple[str, str]]:
        """Every (pipeline, partition) that reads partition ``key`` of ``asset``; none after the
        project's last partition (a window reaching past the end has no partitions there)."""
        out: list[tuple[str, str]] = []
        up = self.assets[asset].partitions
        for name in self.consumers.get(asset, ()):
            pipe = self.pipelines[name]
            down = pipe.partitions
            for inp in pipe.inputs:
                if inp.asset == asset:
                    out.extend((name, k) for k in inp.mapping.downstream_keys(key, up, down)
                               if down.until is None or not down.after_end(k))
        return out


def _problem(problems: list[str], where: str, text: str) -> None:
    problems.append(f"{where}: {text}" if where else text)


def _named(problems: list[str], where: str, kind: str, name: object) -> None:
    problem = name_problem(kind, name)
    if problem:
        _problem(problems, where, problem)


def build_graph(assets: list[Asset], pipelines: list[Pipeline], pools: list[Pool],
                project_file: str = "andon.toml", earlier: list[str] | None = None) -> Graph:
    """Validate the declarations and index them; raise DefinitionError listing every problem
    (``earlier`` ones found while reading the declarations first)."""
    problems: list[str] = list(earlier or ())
    by_asset: dict[str, Asset] = {}
    for asset in assets:
        _named(problems, asset.where, "source", asset.name)
        if asset.name in by_asset:
            _problem(problems, asset.where,
                     f"source {asset.name!r} is declared twice (also at {by_asset[asset.name].where});"
                     " keep one declaration")
        by_asset[asset.name] = asset
    by_pipe: dict[str, Pipeline] = {}
    producer: dict[str, str] = {}
    for pipe in pipelines:
        _named(problems, pipe.where, "pipeline", pipe.name)
        for out in pipe.outputs:
            _named(problems, pipe.where, f"output of pipeline {pipe.name!r}: data set", out)
        if pipe.name in by_pipe:
            _problem(problems, pipe.where, f"pipeline {pipe.name!r} is declared twice "
                     f"(also at {by_pipe[pipe.name].where}); rename one")
        by_pipe[pipe.name] = pipe
        if not pipe.outputs:
            _problem(problems, pipe.where, f"pipeline {pipe.name!r} has no outputs; "
                     "add outputs=[...] naming the data sets it writes")
        for out in pipe.outputs:
            if out in producer:
                _problem(problems, pipe.where,
                         f"output {out!r} of pipeline {pipe.name!r} is also produced by pipeline "
                         f"{producer[out]!r}; each data set has one producer, rename one output")
            elif out in by_asset and by_asset[out].source:
                _problem(problems, pipe.where,
                         f"output {out!r} of pipeline {pipe.name!r} is declared as a source at "
                         f"{by_asset[out].where}; a source arrives from outside, remove one")
            else:
                producer[out] = pipe.name
                if out not in by_asset:
                    by_asset[out] = Asset(out, pipe.partitions, owner=pipe.owner, where=pipe.where)
        if (pipe.fn is None) == (not pipe.command):
            _problem(problems, pipe.where, f"pipeline {pipe.name!r} needs exactly one of a "
                     "decorated function or command='...'")
        for option, least in (("slots", 1), ("priority", 1), ("retries", 0), ("max_concurrent", 0)):
            value = getattr(pipe, option)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                _problem(problems, pipe.where, f"pipeline {pipe.name!r}: {option}={value!r}; "
                         f"write a whole number of {least} or more, e.g. {option}={least + 1}")
        if pipe.on_upstream_change not in ("rerun", "ignore"):
            _problem(problems, pipe.where, f"pipeline {pipe.name!r}: on_upstream_change="
                     f"{pipe.on_upstream_change!r}; use 'rerun' or 'ignore'")
        if pipe.on_cord not in ("cancel", "finish"):
            _problem(problems, pipe.where, f"pipeline {pipe.name!r}: on_cord={pipe.on_cord!r}; "
                     "use 'cancel' (stop a running run when an andon cord halts it) or 'finish'")
        if pipe.bad_outputs not in ("keep", "quarantine", "delete"):
            _problem(problems, pipe.where, f"pipeline {pipe.name!r}: bad_outputs="
                     f"{pipe.bad_outputs!r}; use 'keep', 'quarantine' or 'delete'")
    pool_map = {p.name: p for p in pools}
    for pool in pools:
        _named(problems, pool.where or project_file, "pool", pool.name)
        if pool.capacity < 1:
            _problem(problems, pool.where or project_file,
                     f"pool {pool.name!r} has capacity {pool.capacity}; "
                     f"give it at least 1 slot under [pools], e.g. {pool.name} = 2")
    consumers: dict[str, list[str]] = {}
    for pipe in by_pipe.values():
        if pipe.pool not in pool_map:
            _problem(problems, pipe.where, f"pipeline {pipe.name!r} uses pool {pipe.pool!r}, "
                     f"which {project_file} does not declare; add '{pipe.pool} = N' under [pools]")
        elif isinstance(pipe.slots, int) and pipe.slots > pool_map[pipe.pool].capacity:
            _problem(problems, pipe.where, f"pipeline {pipe.name!r} needs {pipe.slots} slots but "
                     f"pool {pipe.pool!r} has {pool_map[pipe.pool].capacity}; lower slots or "
                     "raise the pool")
        for inp in pipe.inputs:
            if inp.asset not in by_asset:
                _problem(problems, pipe.where,
                         f"pipeline {pipe.name!r} reads unknown input {inp.asset!r}; "
                         + did_you_mean(inp.asset, by_asset) +
                         f"declare it with andon.source({inp.asset!r}, ...) or as a pipeline "
                         f"output (known: {_listing(by_asset)})")
                continue
            consumers.setdefault(inp.asset, []).append(pipe.name)
            _check_mapping(problems, pipe, by_asset[inp.asset].partitions, inp)
    order = _topological(by_pipe, producer, problems)
    if problems:
        problems.sort(key=_position)
        raise DefinitionError(
            f"{len(problems)} problem(s) in the definitions:\n  - " + "\n  - ".join(problems),
            hint="fix each listed object and run `andon validate` again")
    serving = {p.name: tuple((i.mapping.model, i.asset) for i in p.inputs
                             if isinstance(i.mapping, Serving)) for p in by_pipe.values()}
    serving = {name: reads for name, reads in serving.items() if reads}
    read = {model for reads in serving.values() for model, _ in reads}
    return Graph(by_asset, by_pipe, pool_map, producer,
                 {k: tuple(v) for k, v in consumers.items()}, tuple(order),
                 {name: i for i, name in enumerate(order)}, serving=serving,
                 model_producer={m: p.name for p in by_pipe.values() for m in p.models
                                 if m in read})


def _position(problem: str) -> tuple[str, int]:
    """Sort key: problems in file order, then line order (``path:12: ...``)."""
    match = re.match(r"(.+?):(\d+): ", problem)
    return (match.group(1), int(match.group(2))) if match else (problem.split(": ", 1)[0], 0)


def _listing(names: Iterable[str], most: int = 20) -> str:
    ordered = sorted(names)
    text = ", ".join(ordered[:most]) or "none"
    return text + (f" and {len(ordered) - most} more" if len(ordered) > most else "")


def _check_mapping(problems: list[str], pipe: Pipeline, up: Partitions, inp: Input) -> None:
    mapping, asset = inp.mapping, inp.asset
    down = pipe.partitions
    if isinstance(mapping, Identity) and up.kind != down.kind:
        fix = (f"read it with inputs=[andon.rollup({asset!r})], or make both the same"
               if up.is_time and down.is_time and up.step < down.step else
               f"give both the same partitions (partitions={up.kind!r} or {down.kind!r})")
        _problem(problems, pipe.where,
                 f"pipeline {pipe.name!r} is {down.kind} but reads {asset!r}, which is {up.kind}; "
                 + fix)
    if isinstance(mapping, LastN) and (up.kind != down.kind or not up.is_time):
        _problem(problems, pipe.where,
                 f"pipeline {pipe.name!r}: the window on {asset!r} needs both sides to have the "
                 f"same time partitions (daily or hourly), but they are {up.kind} and {down.kind}; "
                 "give both the same partitions")
    if isinstance(mapping, Rollup) and not (up.is_time and down.is_time and up.step < down.step):
        _problem(problems, pipe.where,
                 f"pipeline {pipe.name!r}: a roll-up of {asset!r} needs finer input partitions "
                 f"than the pipeline's (e.g. hourly into daily), but they are {up.kind} and "
                 f"{down.kind}; read it with a plain input or change the partitions")


def _topological(pipes: dict[str, Pipeline], producer: dict[str, str],
                 problems: list[str]) -> list[str]:
    """Pipelines in dependency order; report a cycle by naming the pipelines on it."""
    deps = {name: sorted({producer[i.asset] for i in p.inputs if i.asset in producer})
            for name, p in pipes.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    for root in sorted(pipes):
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            if i < len(deps[node]):
                stack.append((node, i + 1))
                child = deps[node][i]
                if state.get(child) == 1:
                    cycle = list(reversed(path[path.index(child):] + [child]))  # in data order
                    reads = [f"{b} reads {a_in!r} from {a}" for a, b in zip(cycle, cycle[1:])
                             for a_in in sorted({i.asset for i in pipes[b].inputs
                                                 if producer.get(i.asset) == a})[:1]]
                    _problem(problems, pipes[child].where,
                             "cycle between pipelines " + " -> ".join(cycle) + " (" +
                             ", ".join(reads) + "); a pipeline cannot read (directly or not) "
                             "what it produces, remove one of these inputs")
                    return order
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
                order.append(node)
    return order
