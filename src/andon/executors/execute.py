"""Execute one RunSpec in the current process: a Python function or a shell command.

Used inside the child process of the local executor and directly by the in-process executor.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from andon.events import MAX_FRAME_TEXT, MAX_FRAMES, Frame
from andon.executors.base import ExecResult, RunSpec
from andon.executors.context import Context, Outputs
from andon.executors.outputs import describe_outputs
from andon.executors.profiling import write_profiles
from andon.model.masks import MAX_ERROR_MESSAGE

Resolver = Callable[[str], Callable[..., Any]]


def _logger(spec: RunSpec, stream: Any) -> logging.Logger:
    # not registered with logging's manager: a long-lived in-process scheduler would otherwise
    # keep one logger per run forever
    # the level given here: setLevel would clear the cache of every registered logger, each run
    log = logging.Logger(f"andon.run.{spec.run_id}", logging.INFO)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    return log


def run_variables(spec: RunSpec) -> dict[str, str]:
    """The variables andon passes to a shell step (on top of its environment)."""
    env = dict(ANDON_RUN_ID=spec.run_id, ANDON_PARTITION=spec.partition,
               ANDON_PIPELINE=spec.pipeline, ANDON_ATTEMPT=str(spec.attempt))
    for name, paths in spec.inputs.items():
        env[f"ANDON_INPUT_{name.upper()}"] = os.pathsep.join(paths)
    for name, path in spec.outputs.items():
        env[f"ANDON_OUTPUT_{name.upper()}"] = path
    return env


def _command(spec: RunSpec) -> str:
    """The shell command with its placeholders filled. Only the known placeholders are replaced,
    so a command may contain other braces (``awk '{print $1}'``)."""
    command = spec.command
    for name, value in (("partition", spec.partition), ("run_id", spec.run_id),
                        ("pipeline", spec.pipeline), ("attempt", str(spec.attempt))):
        command = command.replace("{" + name + "}", value)
    return command


_ANDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NOT_USER = ("site-packages", "dist-packages")  # a virtualenv kept inside the project


def user_frames(exc: BaseException, project_dir: str) -> tuple[Frame, ...]:
    """The frames of ``exc``'s traceback in the project's own code (inside ``project_dir``, not
    andon's, not an installed package's), innermost last: at most ``MAX_FRAMES`` (the innermost
    ones), each name cut to ``MAX_FRAME_TEXT`` characters."""
    root = os.path.realpath(project_dir)
    frames: list[Frame] = []
    for frame, _line in traceback.walk_tb(exc.__traceback__):  # no source read: cheap when deep
        path = os.path.realpath(frame.f_code.co_filename)
        if (not path.startswith(root + os.sep) or path.startswith(_ANDON_DIR + os.sep)
                or any(part in _NOT_USER for part in Path(path).parts)):
            continue
        frames.append(Frame(Path(os.path.relpath(path, root)).as_posix()[:MAX_FRAME_TEXT],
                            frame.f_code.co_name[:MAX_FRAME_TEXT]))
    return tuple(frames[-MAX_FRAMES:])


def run_spec(spec: RunSpec, resolve: Resolver, stream: Any = None,
             environ: dict[str, str] | None = None) -> ExecResult:
    """Run ``spec`` here and describe how it ended; never raises for a failure of user code.
    A shell step gets ``environ`` (default: this process's environment, which in a run's own
    process is the run's environment already) plus ``run_variables``.

    Start-up time runs from the process spawn (``spec.spawned_at``) to the moment user code is
    entered, so loading the project's definitions counts as start-up, not as work."""
    stream = stream or sys.stderr
    entered = time.time()
    startup: float | None = None
    rows: dict[str, int] = {}
    ctx: Context | None = None
    try:
        if spec.command:  # a shell step writes where it is told: its folders must exist
            for path in spec.outputs.values():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            command = _command(spec)
            stream.flush()
            entered = time.time()
            startup = max(entered - spec.spawned_at, 0.0) if spec.spawned_at else None
            env = {**(os.environ if environ is None else environ), **run_variables(spec)}
            proc = subprocess.run(command, shell=True, cwd=spec.project_dir, env=env,
                                  stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT)
            work = time.time() - entered
            if proc.returncode != 0:
                return ExecResult(spec.run_id, False, proc.returncode, "ExitCode",
                                  f"command exited with code {proc.returncode}", startup, work)
        else:
            fn = resolve(spec.pipeline)
            inputs: dict[str, Any] = {
                name: Path(paths[0]) if name in spec.single_inputs else [Path(p) for p in paths]
                for name, paths in spec.inputs.items()}
            ctx = Context(spec.run_id, spec.partition, spec.attempt, Path(spec.project_dir),
                          inputs, Outputs({k: Path(v) for k, v in spec.outputs.items()}),
                          _logger(spec, stream), models=dict(spec.models),
                          candidates={m: (v, Path(p)) for m, (v, p) in spec.candidates.items()})
            entered = time.time()
            startup = max(entered - spec.spawned_at, 0.0) if spec.spawned_at else None
            try:
                returned = fn(ctx)
            except SystemExit as exc:  # sys.exit() in user code ends the step, not the scheduler
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if code != 0:
                    return ExecResult(spec.run_id, False, code, "ExitCode",
                                      f"the pipeline called sys.exit({exc.code!r})", startup,
                                      time.time() - entered)
                returned = None
            work = time.time() - entered
            rows = dict(ctx.rows)
            if isinstance(returned, dict):
                rows.update({k: int(v) for k, v in returned.items() if k in spec.outputs})
        outputs = describe_outputs(spec.outputs, spec.partition, spec.project_dir, rows)
        profiles = write_profiles(spec) if spec.profiles and not spec.command else {}
    except Exception as exc:  # user code failed: report it, with the traceback in the log
        work = time.time() - entered
        traceback.print_exc(file=stream)
        stream.flush()
        return ExecResult(spec.run_id, False, 1, type(exc).__name__, str(exc)[:MAX_ERROR_MESSAGE],
                          startup, work, frames=user_frames(exc, spec.project_dir))
    return ExecResult(spec.run_id, True, 0, "", "", startup, work, outputs,
                      metrics=dict(ctx.metrics) if ctx else {},
                      params=dict(ctx.params) if ctx else {}, profiles=profiles)
