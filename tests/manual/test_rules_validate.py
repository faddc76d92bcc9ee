"""A bad [manual] rule fails `andon validate` with the file, the line and the fix (exit 2)."""

from __future__ import annotations

import pytest

from tests.cli.test_validate_errors import RAW_CLEAN, andon, bad
from tests.conftest import ProjectFactory


@pytest.mark.parametrize("rule,line,first,hint", [
    ('pipeline = "clean"\nmatch = "re:timed out (\\\\d+"\nfingerprint = "t"', 10,
     "[manual] rule 1: match = 're:timed out (\\\\d+' is not a valid regular expression",
     "fix the regular expression"),
    ('pipeline = "nope"\nmatch = "*"\nfingerprint = "t"', 9,
     "[manual] rule 1: pipeline 'nope' is not a pipeline of the project",
     "name one of the project's pipelines (clean), or * for any"),
    ('match = "*"\nfingerprint = "not a name"', 10,
     "[manual] rule 1: fingerprint name 'not a name' is not an identifier", "fix the fingerprint"),
])
def test_a_bad_rule(make_project: ProjectFactory, rule: str, line: int, first: str,
                    hint: str) -> None:
    root = make_project(RAW_CLEAN, extra=f"[[manual.rules]]\n{rule}\n")
    err = bad(root, "validate")
    head, hint_line = err.splitlines()[:2]
    assert head.startswith(f"Error: {root / 'andon.toml'}:{line}: {first}"), err
    assert hint_line.startswith(f"  hint: {hint}"), err


def test_good_rules_validate(make_project: ProjectFactory) -> None:
    root = make_project(RAW_CLEAN, extra='[[manual.rules]]\npipeline = "clean"\nmatch = "re:x"\n'
                                         'fingerprint = "x"\n[[manual.rules]]\nmatch = "*y*"\n'
                                         'fingerprint = "y"\n')
    proc = andon("--project", str(root), "validate")
    assert proc.returncode == 0, proc.stderr
