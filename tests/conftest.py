"""Shared fixtures: real project folders on disk (real SQLite files, real modules)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write ``andon.toml`` and ``pipelines.py`` (dedented) into a fresh folder; return it."""
    counter = [0]

    def make(pipelines: str, pools: dict[str, int] | None = None, extra: str = "",
             start: str = "2026-01-01") -> Path:
        counter[0] += 1
        root = tmp_path / f"project{counter[0]}"
        root.mkdir()
        pool_lines = "\n".join(f"{k} = {v}" for k, v in (pools or {"default": 4}).items())
        (root / "andon.toml").write_text(
            f'[project]\nname = "test"\ndefinitions = ["pipelines.py"]\nstart = "{start}"\n\n'
            f"[pools]\n{pool_lines}\n{extra}\n")
        (root / "pipelines.py").write_text(textwrap.dedent(pipelines))
        return root

    return make
