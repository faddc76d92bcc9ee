"""Entry point of a run's own process: ``python -m andon.executors.child RUN_DIR/spec.json``.

Writes ``result.json`` atomically next to the spec, so that the scheduler (or, after a crash, its
successor) can read how the run ended.
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


def main(spec_path: str) -> int:
    from andon.executors.base import RunSpec
    from andon.executors.execute import run_spec

    spec = RunSpec.from_json(Path(spec_path).read_text())
    result = run_spec(spec, _resolver(spec.project_dir), sys.stdout)
    sys.stdout.flush()
    tmp = spec.result_path.with_suffix(".tmp")
    tmp.write_text(result.to_json())
    os.replace(tmp, spec.result_path)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
