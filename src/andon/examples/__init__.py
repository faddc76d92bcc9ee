"""Example projects that `andon init` and `andon demo` write."""

from __future__ import annotations

import shutil
from pathlib import Path

from andon.model.errors import ConfigError

HERE = Path(__file__).parent


def write_example(target: Path, name: str) -> Path:
    """Copy example ``name`` into ``target`` (which must not hold a project already)."""
    source = HERE / name
    if not source.is_dir():
        raise ConfigError(f"no example named {name!r}", hint="use retail or minimal")
    if (target / "andon.toml").exists():
        raise ConfigError(f"{target} already holds a project (andon.toml exists)",
                          hint="choose another folder or remove it")
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name.startswith("__") or item.suffix == ".pyc":
            continue
        dest = target / ("andon.toml" if item.name == "andon.toml.in" else item.name)
        shutil.copy(item, dest)
    return target
