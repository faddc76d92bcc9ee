"""`andon search` and the catalog in `andon validate`, as a user runs them: the real console
script, over the store and over a running `andon up`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ProjectFactory
from tests.web.conftest import running

ANDON = str(Path(sys.executable).with_name("andon"))
PIPELINES = """\
    import andon
    andon.source("orders", owner="sales@example.com", description="every order of the shop")

    @andon.pipeline(inputs=["orders"], outputs=["orders_daily"], owner="sales@example.com",
                    description="orders summed per day")
    def sum_orders(ctx):
        pass
    """
CATALOG = """\
[[entries]]
kind = "model"
name = "churn"
owner = "ml@example.com"
description = "who is about to leave"
tags = ["customers"]

[[entries]]
kind = "service"
name = "checkout"
owner = "web@example.com"
description = "takes the orders of customers"
"""


def andon(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANDON, "--project", str(root), *args], capture_output=True, text=True,
                          timeout=60)


def test_search_without_a_server(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    assert "2 catalog entries" in andon(root, "validate").stdout
    proc = andon(root, "search", "orders")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "OWNER", "DESCRIPTION"]
    assert lines[1].split()[:2] == ["dataset", "orders"]
    assert lines[2].split()[:2] == ["dataset", "orders_daily"]
    assert any(line.split()[:2] == ["service", "checkout"] for line in lines)
    data = json.loads(andon(root, "search", "customers", "--kind", "model", "--json").stdout)
    (hit,) = data["results"]
    assert (hit["kind"], hit["name"], hit["owner"], hit["url"]) == \
        ("model", "churn", "ml@example.com", "/catalog/model/churn")
    assert {"description", "score"} <= set(hit) and data["suggestion"] is None
    typo = andon(root, "search", "chekout")
    assert typo.returncode == 0
    assert "did you mean 'checkout'?" in typo.stderr
    nothing = andon(root, "search", "zebra", "--json")
    assert json.loads(nothing.stdout) == {"results": [], "suggestion": None}


def test_search_through_a_running_server(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    with running(root):
        data = json.loads(andon(root, "search", "churn", "--json").stdout)
        assert data["results"][0]["name"] == "churn"
        bad = andon(root, "search", "x" * 2000)
        assert bad.returncode == 2
        assert "field 'q' must be 1 to 1000 characters" in bad.stderr


def test_a_bad_catalog_fails_validate_and_search_with_file_line_and_fix(
        make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG + '\n[[entries]]\nkind = "modle"\nname = "x"\n'
                                                 'owner = "o"\n')
    for args in (("validate",), ("search", "churn")):
        proc = andon(root, *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        assert proc.stderr.startswith(f"Error: {root / 'catalog.toml'}:14: entry 'x' has kind "
                                      "'modle'")
        assert "  hint: kind is one of dataset, model, service, library" in proc.stderr


def test_an_unknown_kind_on_the_command_line_is_a_usage_error(make_project: ProjectFactory) -> None:
    proc = andon(make_project(PIPELINES), "search", "x", "--kind", "modle")
    assert proc.returncode == 2
    assert "'modle' is not one of" in proc.stderr
