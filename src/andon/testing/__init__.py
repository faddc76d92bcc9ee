"""``andon.testing``: unit-test one pipeline, and run a small project in a temporary folder.

``call`` runs one pipeline of a project the way a run does (``andon.executors.execute.run_spec``
with a real ``Context``: the same code the in-process executor runs) on the input files a test
gives, writes its outputs under ``tmp_path`` and returns them with the rows, metrics and
parameters it recorded and what it logged. No store, no scheduler, no checks: for those use
``andon.materialize`` (the ``andon_project`` fixture of ``andon.testing.fixtures`` copies a
project into a temporary folder and materialises partitions there). See docs/testing.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andon.executors.base import spec_for
from andon.executors.environment import run_environment
from andon.executors.execute import run_spec
from andon.executors.inprocess import RunBuffer
from andon.model.errors import EXIT_FAILED, AndonError, BadRequest, NotFound
from andon.model.graph import Graph
from andon.model.partitions import Identity, PartitionKeyError, Serving
from andon.model.words import did_you_mean
from andon.project.load import Project, find_root, load_project

__all__ = ["call", "CallResult", "CallFailed"]
InputFiles = Mapping[str, str | Path | Sequence[str | Path]]


@dataclass(frozen=True)
class CallResult:
    """How one call of a pipeline went: ``outputs`` (data set -> the Path written), ``rows``
    (what the pipeline said with ``ctx.set_rows`` or its returned dict), ``metrics`` and
    ``params`` (``ctx.log_metric`` / ``ctx.log_params``), ``log`` (what it printed and logged,
    with the traceback of a failure)."""

    ok: bool
    outputs: dict[str, Path]
    rows: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    log: str = ""
    error_type: str = ""
    error_message: str = ""


class CallFailed(AndonError):
    """The pipeline failed; ``result`` holds its log (with the traceback)."""

    exit_code = EXIT_FAILED

    def __init__(self, pipeline: str, result: CallResult) -> None:
        self.result = result
        super().__init__(f"pipeline {pipeline!r} failed: {result.error_type}: "
                         f"{result.error_message}\n{result.log}",
                         hint="pass raise_on_failure=False to look at the result instead")


def call(pipeline: str | Callable[..., Any], inputs: InputFiles | None = None,
         partition: str = "", tmp_path: Path | str | None = None,
         project: Project | Path | str | None = None,
         raise_on_failure: bool = True) -> CallResult:
    """Run ``pipeline`` (its name, or its decorated function) of ``project`` (a folder or a
    loaded Project; default: the project around the current folder) for ``partition`` on the
    files ``inputs`` gives (input name -> a path, or a list of paths for a window or roll-up;
    an ``andon.serving`` model's artifact by the model's name), and return what it did.

    Outputs go where the pipeline's locations say, under ``tmp_path`` (default: a new
    temporary folder, left for the caller). Every input must be given (BadRequest naming the
    missing ones); a name that is not an input is refused too. Raises CallFailed when the
    pipeline fails, unless ``raise_on_failure`` is False. Output profiles are not written."""
    loaded = project if isinstance(project, Project) else load_project(
        find_root(Path(project) if project is not None else Path.cwd()))
    graph = loaded.graph
    name = _name(graph, pipeline)
    pipe = graph.pipelines[name]
    try:
        key = pipe.partitions.validate(partition)
    except PartitionKeyError as exc:
        raise BadRequest(f"pipeline {name!r}: {exc}",
                         hint=f"partition keys look like {pipe.partitions.example!r}") from None
    base = Path(tmp_path) if tmp_path is not None else Path(tempfile.mkdtemp(prefix="andon-call-"))
    base = base.resolve()
    local = dataclasses.replace(graph, data_roots=())
    spec = spec_for(_rooted(local, base), f"{name}:{key}:test", name, key, 1, base,
                    base / ".andon" / "runs")
    given, single = _inputs(graph, name, dict(inputs or {}))
    # a shell step runs in the project's folder, as in a run; its outputs still go under base
    spec = dataclasses.replace(spec, inputs=given, single_inputs=single, profiles={},
                               project_dir=str(loaded.root))
    buffer = RunBuffer()
    # what the function prints goes to its log too, as in a run's own process (a test is
    # single-threaded here, so swapping sys.stdout for the call is safe)
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        result = run_spec(spec, lambda _: pipe.fn if pipe.fn is not None else _no_fn(name),
                          buffer, run_environment(os.environ, spec.env, spec.secrets))
    buffer.flush()
    outputs = {asset: Path(path) for asset, path in spec.outputs.items()}
    rows = {o.asset: o.rows for o in result.outputs if o.rows is not None}
    done = CallResult(result.ok, outputs, rows, dict(result.metrics), dict(result.params),
                      bytes(buffer.data).decode("utf-8", "replace"), result.error_type or "",
                      result.error_message or "")
    if raise_on_failure and not done.ok:
        raise CallFailed(name, done)
    return done


def _no_fn(name: str) -> Callable[..., Any]:
    raise BadRequest(f"pipeline {name!r} has no function", hint="it is a shell step")


def _name(graph: Graph, pipeline: str | Callable[..., Any]) -> str:
    """The pipeline's name: given, or the one whose function is ``pipeline`` (the same object,
    or the same function imported again: same file and first line)."""
    if isinstance(pipeline, str):
        if pipeline not in graph.pipelines:
            raise NotFound(f"no pipeline named {pipeline!r}",
                           hint=did_you_mean(pipeline, graph.pipelines) + "pipelines: "
                           + ", ".join(sorted(graph.pipelines)))
        return pipeline
    code = getattr(pipeline, "__code__", None)
    for name, pipe in graph.pipelines.items():
        other = getattr(pipe.fn, "__code__", None)
        if pipe.fn is pipeline or (code is not None and other is not None and (
                code.co_filename, code.co_firstlineno) == (other.co_filename,
                                                           other.co_firstlineno)):
            return name
    raise NotFound(f"{getattr(pipeline, '__name__', pipeline)!r} is not a pipeline of the project",
                   hint="pass the pipeline's name, and project= the folder of its andon.toml")


def _rooted(graph: Graph, base: Path) -> Graph:
    """``graph`` with every absolute location (in a data root outside the project) moved under
    ``base``, so that a test never writes outside its folder."""
    assets = {}
    for name, asset in graph.assets.items():
        if os.path.isabs(asset.location):
            asset = dataclasses.replace(asset, location=f"data/{name}/" + Path(
                asset.location).name)
        assets[name] = asset
    return dataclasses.replace(graph, assets=assets)


def _inputs(graph: Graph, name: str, given: dict[str, Any]
            ) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    pipe = graph.pipelines[name]
    wanted = {i.asset: isinstance(i.mapping, Identity) for i in pipe.inputs
              if not isinstance(i.mapping, Serving)}  # given by the model's name
    for model, _ in graph.serving.get(name, ()):
        wanted[model] = True
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        raise BadRequest(f"{', '.join(map(repr, unknown))} is not an input of pipeline {name!r}",
                         hint="its inputs: " + (", ".join(sorted(wanted)) or "none"))
    missing = sorted(set(wanted) - set(given))
    if missing:
        raise BadRequest(f"pipeline {name!r}: no file given for input(s) {', '.join(missing)}",
                         hint="pass inputs={name: path} for each")
    out: dict[str, list[str]] = {}
    for asset, value in given.items():
        paths = [value] if isinstance(value, (str, Path)) else list(value)
        if wanted[asset] and len(paths) != 1:
            raise BadRequest(f"input {asset!r} of {name!r} reads one partition; "
                             f"{len(paths)} paths given", hint="give one path")
        out[asset] = [str(Path(p).resolve()) for p in paths]
    return out, tuple(a for a, one in wanted.items() if one)
