"""`andon catalog declare` and `remove` as a user runs them: with no scheduler (recorded in the
store, found by the next search) and through a running `andon up` (found at once)."""

from __future__ import annotations

import json

from andon.serve.up import ensure_local_token
from tests.cli.test_search import CATALOG, PIPELINES, andon
from tests.conftest import ProjectFactory
from tests.web.conftest import running


def _found(root: object, query: str) -> list[tuple[str, str]]:
    proc = andon(root, "search", query, "--json")  # type: ignore[arg-type]
    assert proc.returncode == 0, proc.stderr
    return [(r["kind"], r["name"]) for r in json.loads(proc.stdout)["results"]]


def test_declare_and_remove_without_a_server(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    done = andon(root, "catalog", "declare", "--kind", "library", "--name", "pdlib",
                 "--owner", "py@example.com", "--description", "frames for everyone",
                 "--tag", "python", "--link", "docs=https://docs.example.com/pdlib",
                 "--lifecycle", "deprecated", "--date", "2027-01-31")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("declared library pdlib")
    assert _found(root, "frames") == [("library", "pdlib")]
    hit = json.loads(andon(root, "search", "pdlib", "--json").stdout)["results"][0]
    assert hit["lifecycle"] == "deprecated" and hit["tags"] == ["python"]
    # a TOML file with the table, the options overriding it
    (root / "entry.toml").write_text('kind = "model"\nname = "ranker"\nowner = "ml@x.com"\n'
                                     'description = "ranks"\n'
                                     'lifecycle = { state = "deprecated", date = 2027-02-01 }\n')
    assert andon(root, "catalog", "declare", "--file", str(root / "entry.toml"),
                 "--description", "orders results").returncode == 0
    assert _found(root, "results") == [("model", "ranker")]
    taken = andon(root, "catalog", "declare", "--kind", "model", "--name", "churn",
                  "--owner", "ml@example.com")
    assert taken.returncode == 2 and "is declared by the project" in taken.stderr
    bad = andon(root, "catalog", "declare", "--kind", "model", "--name", "x y", "--owner", "o")
    assert bad.returncode == 2 and "not an identifier" in bad.stderr
    assert andon(root, "catalog", "remove", "library", "pdlib").returncode == 0
    assert ("library", "pdlib") not in _found(root, "pdlib")
    again = andon(root, "catalog", "remove", "library", "pdlib")
    assert again.returncode == 2 and "was declared through the API" in again.stderr


def test_declare_through_a_running_server(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    with running(root) as line:
        ensure_local_token(line.settings, line.store)  # as `andon up` makes it
        done = andon(root, "catalog", "declare", "--kind", "service", "--name", "billing",
                     "--owner", "pay@example.com", "--description", "sends the invoices")
        assert done.returncode == 0, done.stderr
        assert _found(root, "invoices") == [("service", "billing")]
        bad = andon(root, "catalog", "declare", "--kind", "service", "--name", "billing",
                    "--owner", "pay@example.com", "--link", "docs=" + "x" * 3000)
        assert bad.returncode == 2 and "links" in bad.stderr
