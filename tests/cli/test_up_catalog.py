"""`andon up` refuses a wrong catalog.toml or [manual] rule as `andon validate` does: before it
takes the lock or starts anything, naming the file, the entry and the fix (exit 2)."""

from __future__ import annotations

from tests.cli.test_commands import andon

DEFINITIONS = """
import andon

andon.source("raw")
"""


def test_up_refuses_a_wrong_catalog(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(DEFINITIONS)
    (root / "catalog.toml").write_text('[[entries]]\nkind = "model"\nname = "churn"\n')
    checked = andon(root, "validate", check=False)
    started = andon(root, "up", "--port", "0", check=False)
    assert checked.returncode == started.returncode == 2
    assert "catalog.toml" in started.stderr and "owner" in started.stderr
    assert not (root / ".andon/server.json").exists()


def test_up_refuses_a_wrong_manual_rule(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(DEFINITIONS, extra='[[manual.rules]]\npipeline = "*"\n'
                                          'match = "re:(unclosed"\nfingerprint = "x"\n')
    started = andon(root, "up", "--port", "0", check=False)
    assert started.returncode == 2 and "andon.toml" in started.stderr
    assert not (root / ".andon/server.json").exists()
