"""Entry point of a run's own process: ``python -m andon.executors.child RUN_DIR/spec.json``.

Its first act is to write its pid next to the spec (so that a scheduler restarted after a crash
finds it even if the crash came before the pid was recorded), and its last is to write
``result.json`` atomically, so that the scheduler (or, after a crash, its successor) can read how
the run ended.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _resolver(project_dir: str) -> Callable[[str], Callable[..., Any]]:
    def resolve(pipeline: str) -> Callable[..., Any]:
        from andon.project import load_project

        fn = load_project(Path(project_dir)).graph.pipelines[pipeline].fn
        if fn is None:
            raise RuntimeError(f"pipeline {pipeline!r} has no function")
        return fn

    return resolve


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old content or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(spec_path: str) -> int:
    run_dir = Path(spec_path).parent
    write_atomic(run_dir / "pid", str(os.getpid()))
    # line-buffered, so that a run killed by a timeout or a cancel keeps what it printed
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)

    from andon.executors.base import RunSpec
    from andon.executors.execute import run_spec

    spec = RunSpec.from_json(Path(spec_path).read_text())
    result = run_spec(spec, _resolver(spec.project_dir), sys.stdout)
    sys.stdout.flush()
    write_atomic(spec.result_path, result.to_json())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
