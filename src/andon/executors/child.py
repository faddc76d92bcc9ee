"""Entry point of a run's own process: ``python -m andon.executors.child RUN_DIR/spec.json``.

Its first act is to write its pid next to the spec (so that a scheduler restarted after a crash
finds it even if the crash came before the pid was recorded), and its last is to write
``result.json`` atomically, so that the scheduler (or, after a crash, its successor) can read how
the run ended. In between it makes itself the subreaper of what it starts (``tree``), sends its
output through a capped, secret-masking copy into the log (``logcap``), and, once the work is
done, ends whatever the run left running: the run's tree ends with the run. A process forked by
the fork server (``andon.executors.forkserver``) runs the same ``run_child``, with the project the
server loaded already.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from andon.executors.execute import Resolver


def project_resolver(project_dir: str) -> Resolver:
    """Find a pipeline's function by loading the project (a spawned process does, for its run)."""
    def resolve(pipeline: str) -> Callable[..., Any]:
        from andon.project.load import load_project

        return function_of(load_project(Path(project_dir)).graph.pipelines[pipeline].fn,
                           pipeline)

    return resolve


def function_of(fn: Callable[..., Any] | None, pipeline: str) -> Callable[..., Any]:
    if fn is None:
        raise RuntimeError(f"pipeline {pipeline!r} has no function")
    return fn


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old content or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_child(spec_path: str, resolve: Resolver | None = None) -> int:
    """Run the spec at ``spec_path`` in this process, with stdout and stderr already going to the
    run's log: pid file first, ``result.json`` last. Returns the process's exit code."""
    run_dir = Path(spec_path).parent
    # one write, not a renamed copy: the file existing says "this run may have begun" (which is
    # what recovery asks), and a reader that finds it empty or cut finds the process by its spec
    fd = os.open(run_dir / "pid", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    from andon.executors.tree import become_subreaper, end_leftovers

    reaper = become_subreaper()  # before any user code can start a process
    # line-buffered, so that a run killed by a timeout or a cancel keeps what it printed
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)

    from andon.executors.base import RunSpec
    from andon.executors.environment import secret_values
    from andon.executors.execute import run_spec
    from andon.executors.logcap import LogPump, Masker

    spec = RunSpec.from_json(Path(spec_path).read_text())
    secrets = secret_values(os.environ, spec.secrets)
    pump = LogPump(spec.log_path, spec.max_log_bytes, secrets)
    result = run_spec(spec, resolve or project_resolver(spec.project_dir), sys.stdout)
    sys.stdout.flush()
    end_leftovers(reaper=reaper)  # they may hold the log's pipe too
    pump.finish()
    if secrets and result.error_message:
        masked = Masker(secrets).feed(result.error_message.encode(), final=True)
        result = dataclasses.replace(result, error_message=masked.decode(errors="replace"))
    write_atomic(spec.result_path, result.to_json())
    return 0 if result.ok else 1


def main(spec_path: str) -> int:
    return run_child(spec_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
