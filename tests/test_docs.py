"""Docs are checked: every command, setting and event is documented."""

from __future__ import annotations

from pathlib import Path

import click

from andon.cli import main
from andon.events import EVENT_TYPES
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
