"""Docs are checked: every command, setting and event is documented."""

from __future__ import annotations

from pathlib import Path

import click

from andon.cli import main
from andon.events.codec import EVENT_TYPES
from andon.project.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "andon") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        out.append(f"{prefix} {name}")
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, f"{prefix} {name}"))
    return out


def test_every_command_is_in_the_cli_docs() -> None:
    text = (ROOT / "docs/cli.md").read_text()
    missing = [c for c in _commands(main) if f"`{c}" not in text]
    assert not missing, f"document these in docs/cli.md: {missing}"


def test_every_option_of_every_command_is_in_the_cli_docs() -> None:
    text = (ROOT / "docs/cli.md").read_text()
    missing = []

    def walk(group: click.Group, path: str) -> None:
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, f"{path} {name}")
                continue
            for param in cmd.params:
                if isinstance(param, click.Option) and not any(o in text for o in param.opts):
                    missing.append(f"{path} {name} {param.opts[0]}")

    walk(main, "andon")
    assert not missing, f"document these options in docs/cli.md: {missing}"


def test_every_setting_is_in_the_settings_docs() -> None:
    text = (ROOT / "docs/settings.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text or f"`{s.env}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"


def test_every_event_is_in_the_event_docs() -> None:
    text = (ROOT / "docs/events.md").read_text()
    missing = [name for name in EVENT_TYPES if f"`{name}`" not in text]
    assert not missing, f"document these events in docs/events.md: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().split("\n\n", 3)[:3]
    assert "make demo" in "\n".join(head) and "make test" in "\n".join(head)


def _contract_layers() -> list[str]:
    """The layers of the first import-linter contract, top first, each split into its names."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    return [name.strip() for layer in layers for name in layer.split("|")]


def _first_column(text: str, marker: str) -> list[str]:
    """The names in the first column of the table after ``marker``, backticks and slashes off."""
    lines = text[text.index(marker):].splitlines()[1:]
    rows = lines[:next(i for i, line in enumerate(lines) if not line.startswith("|"))][2:]
    return [row.split("|")[1].strip().strip("`").rstrip("/").removesuffix(".py") for row in rows]


def test_the_architecture_doc_lists_the_contracts_layers_in_order() -> None:
    text = (ROOT / "docs/architecture.md").read_text()
    names = [cell.strip() for row in _first_column(text, "<!-- layers")
             for cell in row.replace("`", "").split(",")]
    assert names == _contract_layers()


def test_the_module_map_lists_every_package_in_layer_order() -> None:
    package = ROOT / "src/andon"
    present = {p.stem if p.suffix == ".py" else p.name for p in package.iterdir()
               if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
               or (p.is_dir() and (p / "__init__.py").exists())}
    listed = _first_column((ROOT / "README.md").read_text(), "<!-- module map")
    assert sorted(listed) == sorted(present), "README's module map names the packages of src/andon"
    order = [name for name in _contract_layers() if name in present]
    assert listed == order, "README's module map follows the layers of pyproject.toml"
