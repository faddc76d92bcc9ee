"""``andon --help`` lists the commands by purpose, each command in one section."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from andon.cli import main
from andon.cli.group import SECTIONS


def test_every_command_has_a_section() -> None:
    missing = sorted(set(main.commands) - set(main.sections))  # type: ignore[attr-defined]
    assert not missing, f"give these commands a section= where they are registered: {missing}"
    assert set(main.sections.values()) <= set(SECTIONS)  # type: ignore[attr-defined]


def test_help_shows_the_sections_in_order() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    heads = [line[:-1] for line in out.splitlines() if line.endswith(":") and not line[0].isspace()]
    assert heads == ["Options", *SECTIONS]
    run = out[out.index("\nRun:"):out.index("\nInspect:")]
    assert all(f"  {c} " in run for c in ("up", "notify", "run", "backfill", "materialize"))
    assert "Commands:" not in out


def test_help_imports_no_engine_nor_store() -> None:
    code = ("import sys; from andon.cli import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'starlette') or m.startswith(('andon.engine', 'andon.serve'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
