"""The vocabulary's lazy submodules: every name resolves from ``andon.events``, the type checker's
list is the modules' own, and a fork server's imports build none of the events."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

import andon.events as ev


def _checked_names() -> dict[str, set[str]]:
    """The names ``andon.events`` imports for the type checker, by submodule."""
    tree = ast.parse(Path(ev.__file__).read_text())
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module is not None
                found[imp.module.rsplit(".", 1)[1]] = {a.name for a in imp.names}
    return found


def test_the_type_checkers_names_are_the_lazy_modules_own() -> None:
    assert _checked_names() == {m: set(import_module(f"andon.events.{m}").__all__)
                                for m in ev._LAZY}


@pytest.mark.parametrize("module", ev._LAZY)
def test_every_name_resolves_to_its_module(module: str) -> None:
    loaded = import_module(f"andon.events.{module}")
    for name in loaded.__all__:
        assert getattr(ev, name) is getattr(loaded, name)


def test_an_unknown_or_private_name_is_an_attribute_error() -> None:
    for name in ("NoSuchEvent", "_DeliverableState", "RUN_ENDED_"):
        with pytest.raises(AttributeError, match=name):
            getattr(ev, name)


def test_a_fork_servers_imports_build_no_event() -> None:
    code = ("import sys, andon.executors.forkserver, andon.project.load; "
            "print(sorted(m for m in sys.modules if m.startswith(('andon.events.', "
            "'andon.engine'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['andon.events.ids']"
