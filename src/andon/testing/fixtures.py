"""The ``andon_project`` pytest fixture: a copy of a project in the test's temporary folder.

Load it from a ``conftest.py`` with ``pytest_plugins = ["andon.testing.fixtures"]``::

    def test_a_day(andon_project):
        project = andon_project("path/to/project")     # or an example: andon_project("minimal")
        result = project.materialize(["2026-01-05"], sources={"events": "tests/events.csv"})
        assert result.ok
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from andon.examples import HERE as EXAMPLES
from andon.examples import write_example
from andon.model.errors import ConfigError
from andon.serve.materialize import materialize
from andon.serve.outcome import MaterializeResult
from andon.testing import CallResult, call

# never copied: a project's own state, its data, version control and caches
SKIPPED = (".andon", ".git", "__pycache__", ".venv", "data", "*.pyc")


@dataclass(frozen=True)
class ProjectCopy:
    """A project copied into a temporary folder (``root``), to materialise and call there."""

    root: Path

    def materialize(self, partitions: Sequence[str], **options: Any) -> MaterializeResult:
        """``andon.materialize`` on the copy (a temporary store; same options)."""
        return materialize(self.root, partitions, **options)

    def call(self, pipeline: str | Callable[..., Any], **options: Any) -> CallResult:
        """``andon.testing.call`` of one of the copy's pipelines (outputs under the copy)."""
        return call(pipeline, project=self.root, tmp_path=options.pop("tmp_path", self.root),
                    **options)


def copy_project(source: str | Path, target: Path) -> ProjectCopy:
    """Copy the project folder ``source`` (or write the example of that name: ``minimal``,
    ``retail``) to ``target``, without its state, data, ``.git`` and caches."""
    if isinstance(source, str) and (EXAMPLES / source).is_dir() and not Path(source).exists():
        return ProjectCopy(write_example(target, source))
    folder = Path(source)
    if not (folder / "andon.toml").is_file():
        raise ConfigError(f"{folder} holds no andon.toml", where=str(folder),
                          hint="give the folder of a project, or an example name (minimal, retail)")
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=True)
    return ProjectCopy(target)


@pytest.fixture
def andon_project(tmp_path: Path) -> Callable[[str | Path], ProjectCopy]:
    """A factory: ``andon_project(folder_or_example)`` copies it into the test's ``tmp_path``
    and returns a ``ProjectCopy``; each call makes a new copy."""
    made: list[Path] = []

    def make(source: str | Path = "minimal") -> ProjectCopy:
        target = tmp_path / f"andon-project-{len(made) + 1}"
        made.append(target)
        return copy_project(source, target)

    return make
