"""What every executor takes (a RunSpec) and reports (an ExecResult)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from andon.events import Frame, OutputWritten, PartitionRef
from andon.executors.outputs import inside_roots, real_roots
from andon.model.errors import UnsafePath
from andon.model.graph import Graph
from andon.model.partitions import Identity, Serving

if TYPE_CHECKING:  # the engine is the scheduler's: a fork server and its runs never import it
    from andon.engine.runs import Run
    from andon.engine.state import EngineState


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to execute one run, in a form that can be written to JSON for a child
    process. Paths are absolute."""

    run_id: str
    pipeline: str
    partition: str
    attempt: int
    project_dir: str
    run_dir: str
    command: str = ""  # shell step; empty for a Python function
    inputs: dict[str, list[str]] = field(default_factory=dict)
    single_inputs: tuple[str, ...] = ()  # inputs read as one path rather than a list
    outputs: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    spawned_at: float = 0.0
    env: tuple[str, ...] = ()  # the pipeline's declared variables (names only, never values)
    secrets: tuple[str, ...] = ()
    max_log_bytes: int = 0  # the cap on the run's log.txt (0: none); set by the executor
    models: dict[str, int] = field(default_factory=dict)  # andon.serving: model -> version read
    # model -> (version, path) of a newer version never promoted, to score in shadow
    candidates: dict[str, tuple[int, str]] = field(default_factory=dict)
    # outputs to profile (andon.executors.profiling): asset -> {"columns": [...] (empty: all),
    # "edges": the data set's pinned histogram edges file, "auto": bool}
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return Path(self.run_dir) / "log.txt"

    @property
    def result_path(self) -> Path:
        return Path(self.run_dir) / "result.json"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        data = json.loads(text)
        for name in ("single_inputs", "env", "secrets"):
            data[name] = tuple(data.get(name, ()))
        data["candidates"] = {m: (int(v), str(p)) for m, (v, p) in
                              data.get("candidates", {}).items()}
        return cls(**data)


@dataclass(frozen=True)
class ExecResult:
    """How a run ended. ``error_type`` is an exception class name, ``ExitCode``, ``Timeout``,
    ``Cancelled`` or ``ProcessLost``."""

    run_id: str
    ok: bool
    exit_code: int | None = 0
    error_type: str = ""
    error_message: str = ""
    startup_seconds: float | None = None
    work_seconds: float = 0.0
    outputs: tuple[OutputWritten, ...] = ()
    cancelled: bool = False
    frames: tuple[Frame, ...] = ()  # the exception's frames in the project's code, innermost last
    metrics: dict[str, float] = field(default_factory=dict)  # ctx.log_metric, checked there
    params: dict[str, str] = field(default_factory=dict)  # ctx.log_params, checked there
    # the profiles written: asset -> {"path" (relative to the project), "rows", "columns"}
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ExecResult:
        data: dict[str, Any] = json.loads(text)
        data["outputs"] = tuple(OutputWritten(**o) for o in data.get("outputs", ()))
        data["frames"] = tuple(Frame(**f) for f in data.get("frames", ()))
        return cls(**data)


Report = Callable[[ExecResult], None]


class Executor(Protocol):
    """Runs RunSpecs. ``start`` returns the pid (0 in-process) and calls ``report`` exactly once
    when the run ends, from any thread (possibly before ``start`` returns). An executor may also
    have ``health()``: a dict with its ``name``, ``mode``, whether it is ``alive`` and its
    ``runs`` executing, cheap and from any thread (the board's health strip)."""

    name: str

    def start(self, spec: RunSpec, report: Report) -> int: ...

    def cancel(self, run_id: str) -> None:
        """Stop the run if it is executing; its ``report`` then says ``cancelled``."""
        ...

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """The scheduler restarted while this run was executing (``pid``: the last one recorded,
        0 if none). Adopt its process and report when it ends, or report how it ended, and
        return True; return False when the run provably never began (no user code ran), so the
        caller should start it again."""
        ...

    def shutdown(self) -> None:
        """Stop every run this executor is watching (tests; a scheduler that stops leaves its
        runs executing for its successor to adopt)."""
        ...


ServedRefs = Mapping[str, tuple[int, PartitionRef]]  # model -> (version, its artifact)


def spec_for(graph: Graph, run_id: str, pipeline: str, partition: str, attempt: int,
             project_dir: Path, runs_dir: Path, served: ServedRefs | None = None,
             candidates: ServedRefs | None = None) -> RunSpec:
    """The RunSpec of one run: input and output paths from the assets' location templates; an
    ``andon.serving`` input's from the artifact the engine chose when the run started
    (``served``: what its ``run.started`` inputs say, ``andon.engine.serving.read_versions``),
    and the ``candidates`` to score in shadow."""
    pipe = graph.pipelines[pipeline]
    inputs: dict[str, list[str]] = {}
    single = []
    served, candidates = served or {}, candidates or {}
    for model, (_, ref) in served.items():
        inputs[model] = [str(project_dir / graph.assets[ref.asset].location_of(ref.partition))]
        single.append(model)
    shadow = {model: (version, str(project_dir / graph.assets[ref.asset].location_of(
        ref.partition))) for model, (version, ref) in candidates.items()}
    for inp in pipe.inputs:
        if isinstance(inp.mapping, Serving):
            continue  # read as ``served`` says
        asset = graph.assets[inp.asset]
        keys = inp.mapping.upstream_keys(partition, pipe.partitions, asset.partitions)
        inputs[inp.asset] = [str(project_dir / asset.location_of(k)) for k in keys]
        if isinstance(inp.mapping, Identity):
            single.append(inp.asset)
    outputs = {o: str(project_dir / graph.assets[o].location_of(partition)) for o in pipe.outputs}
    _within_roots(project_dir, graph.data_roots,
                  [*outputs.values(), *(p for paths in inputs.values() for p in paths),
                   *(p for _, p in shadow.values())])
    profiles = {o: {"columns": list(p.columns), "auto": p.auto,
                    "edges": str(runs_dir.parent / "profiles" / o / "edges.json")}
                for o in pipe.outputs if (p := graph.profiled.get(o)) is not None}
    return RunSpec(run_id, pipeline, partition, attempt, str(project_dir),
                   str(runs_dir / run_id), pipe.command, inputs, tuple(single), outputs,
                   pipe.timeout.total_seconds() if pipe.timeout else None,
                   env=pipe.env, secrets=pipe.secrets,
                   models={model: version for model, (version, _) in served.items()},
                   candidates=shadow, profiles=profiles)


def spec_of_run(graph: Graph, state: EngineState, run: Run, project_dir: Path,
                runs_dir: Path) -> RunSpec:
    """The RunSpec of ``run`` (started, or adopted after a restart): an ``andon.serving``
    input's artifact is the one its recorded inputs name, so it reads what it started with;
    the candidates are the engine's now."""
    served = shadow = None
    if run.pipeline in graph.serving:
        from andon.engine import serving

        served = serving.read_versions(graph, state, run.pipeline, run.inputs)
        shadow = serving.candidates(graph, state, run.pipeline)
    return spec_for(graph, run.run_id, run.pipeline, run.partition, run.attempt, project_dir,
                    runs_dir, served, shadow)


def _within_roots(project_dir: Path, data_roots: tuple[str, ...], paths: list[str]) -> None:
    """UnsafePath (the run fails before it starts) when a symlink makes an input or output path
    lead out of the project folder and its data roots; validation checked the templates."""
    roots = real_roots(project_dir, data_roots)
    for path in paths:
        if not inside_roots(path, roots):
            raise UnsafePath(f"{path} leads outside the project's roots ({', '.join(roots)})",
                             hint="replace the symlink, or add its target's folder to "
                                  "[project] data_roots in andon.toml")
