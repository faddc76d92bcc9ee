"""The fast door of the console script (andon.cli.fast): what it answers is what the click group
answers, byte for byte, and whatever it does not know goes to the click group."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from andon.cli import main, render, rendered
from andon.cli.fast import _help_width, serve
from andon.cli.fast import main as fast_main
from tests.web.conftest import running

FAILING = """
import andon
andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["out"])
def boom(ctx):
    raise ValueError("\\x1b[31mbad\\x1b[0m row 7")

@andon.pipeline(inputs=["raw"], outputs=["fine"])
def fine(ctx):
    ctx.output("fine").write_text("ok\\n")
"""


def fast(argv: list[str], env: dict[str, str] | None = None) -> tuple[int | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = serve(argv, "andon", env if env is not None else {}, out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_stored_help_is_the_groups() -> None:
    stored = Path(rendered.__file__).read_text()
    assert stored == render.source(), (
        f"andon/cli/rendered.py is out of date: regenerate it with `{render.COMMAND}`")


def test_help_version_and_no_command_as_click_prints_them(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # a wide terminal, as click sees it
    # (CliRunner forces its own width on help: click renders it here as on that terminal)
    helped = main.get_help(click.Context(main, info_name="andon")) + "\n"
    assert fast(["--help"], {"COLUMNS": "100"}) == (0, helped, "")
    versioned = CliRunner().invoke(main, ["--version"], prog_name="andon")
    assert fast(["--version"]) == (versioned.exit_code, versioned.output, "")
    code, out, err = fast([])
    assert (code, out, err) == (2, "", rendered.HELP + "\n")  # click: usage error, help on stderr
    # what the door does not serve goes to click: another width, name or argument
    assert fast(["--help"], {"COLUMNS": "60"})[0] is None
    assert serve(["--help"], "andon-dev", {}, io.StringIO(), io.StringIO()) is None
    for argv in (["-h"], ["--help", "status"], ["--debug", "--help"], ["up", "--help"]):
        assert fast(argv)[0] is None


@pytest.mark.parametrize("columns", ["", "40", "79", "80", "81", "200", "x", "-3"])
def test_the_help_width_is_clicks(monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert _help_width({"COLUMNS": columns}) == click.formatting.HelpFormatter().width


def test_status_against_a_running_server_prints_what_click_prints(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(FAILING)
    with running(root) as line:
        line.announce("raw", "2026-01-02")
        deadline = time.monotonic() + 30
        while not (code := fast(["--project", str(root), "status"]))[1].count("failed: "):
            assert time.monotonic() < deadline, code
            time.sleep(0.05)
        runner = CliRunner()
        for argv in (["status"], ["status", "--json"]):
            clicked = runner.invoke(main, ["--project", str(root), *argv], prog_name="andon")
            assert fast(["--project", str(root), *argv]) == (clicked.exit_code, clicked.output,
                                                             "")
        code, out, _ = fast([f"--project={root}", "status"])
        assert code == 1 and "ValueError: bad row 7" in out and "\x1b" not in out
        assert json.loads(fast(["-p", str(root), "status", "--json"])[1])["pipelines"]
        # what the door does not know goes to click, which answers as always
        assert fast(["--project", str(root), "status", "--debug"])[0] is None
        assert fast(["--project", str(root), "runs"])[0] is None
        assert fast(["--project", str(root), "status"],
                    {"ANDON_SERVER_URL": "http://10.1.2.3:8765"})[0] is None
        assert fast(["--project", str(root), "status"], {"ANDON_STATE_DIR": "elsewhere"})[0] \
            is None
        # nothing heavy is imported on the way (the console script's own path)
        code_text = ("import sys; from andon.cli.fast import serve; "
                     f"c = serve(['--project', {str(root)!r}, 'status', '--json']); "
                     "heavy = [m for m in ('click', 'sqlalchemy', 'andon.project.load', "
                     "'andon.store', 'andon.model') if m in sys.modules]; "
                     "print(c, heavy, file=sys.stderr)")
        proc = subprocess.run([sys.executable, "-c", code_text], capture_output=True, text=True,
                              timeout=60)
        assert proc.stderr.strip().splitlines()[-1] == "0 []", proc.stderr


def test_no_server_or_an_unknown_setting_goes_to_click(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(FAILING)
    assert fast(["--project", str(root), "status"])[0] is None  # no andon up: the store answers
    (root / ".andon").mkdir()
    (root / ".andon/server.json").write_text(json.dumps({"url": "http://127.0.0.1:9"}))
    assert fast(["--project", str(root), "status"])[0] is None  # nobody holds its lock
    odd = make_project(FAILING, extra="[settings]\nno_such_setting = 1\n")
    assert fast(["--project", str(odd), "status"])[0] is None
    broken = make_project(FAILING, extra="[settings\n")
    assert fast(["--project", str(broken), "status"])[0] is None
    assert fast(["--project", str(root / "nowhere" / ".."), "status"])[0] is None


def test_the_console_script_is_the_fast_door() -> None:
    """pyproject's ``andon`` entry point is this door, and ``python -m andon`` goes through it."""
    import importlib
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    entry = tomllib.loads(pyproject.read_text())["project"]["scripts"]["andon"]
    module, attr = entry.split(":")
    assert getattr(importlib.import_module(module), attr) is fast_main
    proc = subprocess.run([sys.executable, "-m", "andon", "--version"], capture_output=True,
                          text=True, timeout=60)
    clicked = CliRunner().invoke(main, ["--version"], prog_name="andon")
    assert (proc.returncode, proc.stdout) == (0, clicked.output)
