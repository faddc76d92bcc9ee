"""catalog.toml: what loads, and every mistake refused with the file, the line, the entry and
the fix."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from andon.model.access import Access
from andon.model.errors import ConfigError
from andon.project.load import load_project
from andon.registry.declared import load_declared
from andon.registry.entries import catalog
from tests.conftest import ProjectFactory

PIPELINES = """\
    import andon
    andon.source("raw", owner="ingest@example.com", description="raw orders")

    @andon.pipeline(inputs=["raw"], outputs=["clean"], owner="data@example.com")
    def tidy(ctx):
        pass
    """

GOOD = """\
[[entries]]
kind = "model"
name = "churn"
owner = "ml@example.com"
description = "who is about to leave"
tags = ["ml", "customers"]
team = "ml"
links = { code = "https://git.example.com/churn", docs = "https://docs.example.com/churn" }
lifecycle = "beta"

[[entries]]
kind = "service"
name = "orders-api"
owner = "backend@example.com"
lifecycle = { state = "deprecated", date = 2027-01-31 }
access = "https://access.example.com/orders-api"

[[entries]]
kind = "dataset"
name = "crm_contacts"
owner = "sales@example.com"
description = "from the CRM vendor"
lifecycle = { state = "deprecated", date = "2027-03-01" }
"""


def test_a_catalog_loads_with_the_graphs_entries(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(GOOD)
    project = load_project(root)
    entries = {e.key: e for e in catalog(project.graph, load_declared(root, project.graph))}
    assert set(entries) == {("dataset", "raw"), ("dataset", "clean"), ("pipeline", "tidy"),
                            ("model", "churn"), ("service", "orders-api"),
                            ("dataset", "crm_contacts")}
    churn = entries["model", "churn"]
    assert (churn.owner, churn.team, churn.tags, churn.lifecycle) == \
        ("ml@example.com", "ml", ("ml", "customers"), "beta")
    assert dict(churn.links)["code"] == "https://git.example.com/churn"
    api = entries["service", "orders-api"]
    assert (api.lifecycle, api.since, api.access) == \
        ("deprecated", date(2027, 1, 31), Access(link="https://access.example.com/orders-api"))
    assert entries["dataset", "crm_contacts"].since == date(2027, 3, 1)
    clean = entries["dataset", "clean"]
    assert (clean.producer, clean.upstream, clean.owner) == ("tidy", ("tidy",), "data@example.com")
    assert entries["dataset", "raw"].downstream == ("tidy",)
    assert entries["pipeline", "tidy"].upstream == ("raw",)
    assert entries["dataset", "raw"].url() == "/assets/raw"
    assert churn.url() == "/catalog/model/churn"
    assert entries["dataset", "crm_contacts"].url() == "/catalog/dataset/crm_contacts"


def test_no_catalog_file_is_an_empty_catalog(tmp_path: Path) -> None:
    assert load_declared(tmp_path) == []


ENTRY = '[[entries]]\nkind = "model"\nname = "m{i}"\nowner = "o"\n'


@pytest.mark.parametrize(("bad", "says", "fix"), [
    ('kind = "modle"\nname = "x"\nowner = "o"', "kind 'modle'", "kind is one of dataset, model"),
    ('kind = "pipeline"\nname = "x"\nowner = "o"', "kind 'pipeline'", "from the definitions"),
    ('kind = "model"\nname = "m1"\nowner = "o"', "model 'm1' is declared twice", "another name"),
    ('kind = "model"\nname = "x"\nowner = "o"\nlifecycle = { state = "deprecated", '
     'date = "2027-13-45" }', "lifecycle date '2027-13-45' is not a date", "YYYY-MM-DD"),
    ('kind = "model"\nname = "x"\nowner = "o"\nlifecycle = "deprecated"', "deprecated entry "
     "needs the date", "date = 2027-01-31"),
    ('kind = "model"\nname = "x"\nowner = "o"\nlifecycle = "retired"', "lifecycle 'retired'",
     'lifecycle = "active"'),
    ('kind = "model"\nname = "x"\nowner = "o"\nowners = ["p"]', "entry 'x' has unknown field(s) "
     "owners", "use only kind, name, owner"),
    ('kind = "model"\nowner = "o"', "entry 4 (model) has no name", 'add name = "..."'),
    ('kind = "model"\nname = "x"', "entry 'x' (model) has no owner", 'add owner = "..."'),
    ('kind = "model"\nname = "x"\nowner = "o"\ntags = "ml"', "tags = 'ml' is not a list",
     'tags = ["sales"'),
    ('kind = "dataset"\nname = "raw"\nowner = "o"', "dataset 'raw' is declared twice (also at "
     "", "another name"),
])
def test_a_bad_entry_is_refused_with_its_line_and_fix(make_project: ProjectFactory, bad: str,
                                                      says: str, fix: str) -> None:
    root = make_project(PIPELINES)
    text = "".join(ENTRY.format(i=i) + "\n" for i in range(1, 4)) + "# the bad one\n\n" + \
        "[[entries]]\n" + bad + "\n"
    (root / "catalog.toml").write_text(text)
    line = 18  # three entries of five lines, the comment, a blank line, then the bad one
    assert text.splitlines()[line - 1] == "[[entries]]"
    with pytest.raises(ConfigError) as err:
        load_declared(root, load_project(root).graph)
    assert err.value.where == f"{root / 'catalog.toml'}:{line}"
    assert says in err.value.message
    assert fix in err.value.hint


def test_every_problem_is_listed_each_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "catalog.toml").write_text(
        '[[entries]]\nkind = "x"\nname = "a"\nowner = "o"\n\n'
        '[[entries]]\nkind = "model"\nname = "b"\n')
    with pytest.raises(ConfigError) as err:
        load_declared(tmp_path)
    assert err.value.message.startswith("2 problem(s) in catalog.toml")
    assert f"{tmp_path / 'catalog.toml'}:1: entry 'a' has kind 'x'" in err.value.message
    assert f"{tmp_path / 'catalog.toml'}:6: entry 'b' (model) has no owner" in err.value.message


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "catalog.toml").write_text('[[entries]]\nkind = "model"\nname = \n')
    with pytest.raises(ConfigError) as err:
        load_declared(tmp_path)
    assert err.value.where == f"{tmp_path / 'catalog.toml'}:3"


def test_a_hundred_thousand_entries_load_in_seconds(tmp_path: Path) -> None:
    kinds = ("dataset", "model", "service", "library")
    (tmp_path / "catalog.toml").write_text("".join(
        f'[[entries]]\nkind = "{kinds[i % 4]}"\nname = "entry_{i}"\nowner = "team{i % 50}"\n'
        f'description = "entry number {i}"\ntags = ["t{i % 7}"]\n' for i in range(100_000)))
    began = time.perf_counter()
    entries = load_declared(tmp_path)
    took = time.perf_counter() - began
    assert len(entries) == 100_000
    assert took < 20, f"{took:.1f} s"  # about 3 s alone on one core (tomllib is most of it)


@pytest.mark.parametrize(("text", "fast"), [
    (GOOD, False),  # inline tables and dates: tomllib reads those tables
    ("", True),
    ('# a comment\n\n[[entries]]\nkind = "model"\nname = "a"\nowner = "o"\n\n# the end\n', True),
    ('[[entries]]\r\nkind = "model"\r\nname = "a"\r\ntags = [ "x" , "y", ]\r\nowner = "o"\r\n',
     True),
    ('[[entries]]\nname = "a # not a comment"\nkind = "model"\nowner = "o"\ntags = []\n', True),
    ('[[entries]]\nname = "caf\u00e9"\nkind = "model"\nowner = "o"\n', True),
    ('[[entries]]\nkind = "model" # trailing comment\nname = "a"\nowner = "o"\n', False),
    ('[[entries]]\nkind = "model"\nname = "a"\nowner = "o"\ndescription = "a \\"b\\" c"\n', False),
    ("[[entries]]\nkind = 'model'\nname = 'a'\nowner = 'o'\n", False),
    ('[[entries]]\nkind = "model"\nname = "a"\nowner = "o"\n[entries.links]\ncode = "https://x"\n',
     False),
    ('[[entries]]\nname = "a"\ndescription = """\nmore\n[[entries]]\n"""\nkind = "model"\n'
     'owner = "o"\n', None),  # a header inside a string: the whole file goes to tomllib
])
def test_the_fast_reading_gives_what_tomllib_gives(text: str, fast: bool | None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    from andon.registry import declared

    expected = tomllib.loads(text).get("entries", [])
    if fast:  # the expression reads every table: tomllib is never called
        monkeypatch.setattr(declared.tomllib, "loads", None)
    read = declared._simple_tables(text)
    assert read is None if fast is None else read == expected


@pytest.mark.parametrize("text", [
    '[[entries]]\nname = "a"\nname = "b"\nkind = "model"\nowner = "o"\n',  # a key twice
    'title = "x"\n[[entries]]\nname = "a"\nkind = "model"\nowner = "o"\n',  # not only entries
    '[[entries]]\nname = "a"\nkind = "model"\nowner = "o"\n[other]\nx = 1\n',
    '[[entries]]\nname = "a\u2028b = "c"\nkind = "model"\nowner = "o"\n',
    '[[entries]]\nname = "a\x01"\nkind = "model"\nowner = "o"\n',
])
def test_what_the_fast_reading_cannot_read_is_left_to_tomllib(text: str, tmp_path: Path) -> None:
    from andon.registry.declared import _simple_tables

    assert _simple_tables(text) is None
    (tmp_path / "catalog.toml").write_text(text)
    with pytest.raises(ConfigError):  # every one of these is wrong, and tomllib says where
        load_declared(tmp_path)
