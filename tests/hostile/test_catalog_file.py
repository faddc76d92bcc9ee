"""Hostile catalog.toml: a FIFO, a link out of the project, a file past the size cap, names that
are not identifiers, endless tags and links. Each is refused by a real `andon validate` (exit 2,
the file, the entry and the fix), without hanging and without writing anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from andon.registry.declared import MAX_FILE, MAX_LINK, MAX_LINKS, MAX_TAG, MAX_TAGS
from tests.conftest import ProjectFactory
from tests.hostile.test_definitions import BAD_NAMES, validate

PIPELINES = """\
    import andon
    andon.source("raw", owner="ingest@example.com")
    """


def _entry(name: str = "churn", extra: str = "") -> str:
    return f'[[entries]]\nkind = "model"\nname = {name!r}\nowner = "ml@example.com"\n{extra}'


def test_a_fifo_is_refused_without_being_opened(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    os.mkfifo(root / "catalog.toml")  # opening it to read would wait for a writer for ever
    text = validate(root)
    assert "catalog.toml is not a regular file inside the project" in text


def test_a_link_out_of_the_project_is_refused(make_project: ProjectFactory,
                                              tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    outside = tmp_path / "elsewhere.toml"
    outside.write_text(_entry())
    (root / "catalog.toml").symlink_to(outside)
    assert "catalog.toml is not a regular file inside the project" in validate(root)


def test_a_file_past_the_cap_is_refused_before_it_is_read(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    with (root / "catalog.toml").open("wb") as f:
        f.truncate(MAX_FILE + 1)  # sparse: nothing is written, the size is what counts
    assert f"more than {MAX_FILE}" in validate(root)


@pytest.mark.parametrize("name", [n for n in BAD_NAMES if n.strip() and "\0" not in n])
def test_an_entry_name_that_is_not_an_identifier(make_project: ProjectFactory, name: str) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(_entry(name))
    text = validate(root)
    assert "catalog.toml:1" in text and "model name" in text
    assert "is not an identifier" in text or "longer than" in text


@pytest.mark.parametrize("extra", [
    "tags = [" + ", ".join(f'"t{i}"' for i in range(MAX_TAGS + 1)) + "]",
    f'tags = ["{"x" * (MAX_TAG + 1)}"]',
    "links = {" + ", ".join(f'l{i} = "https://x"' for i in range(MAX_LINKS + 1)) + "}",
    f'links = {{ code = "https://{"x" * MAX_LINK}" }}',
])
def test_endless_tags_and_links_are_refused(make_project: ProjectFactory, extra: str) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(_entry(extra=extra + "\n"))
    text = validate(root)
    assert "catalog.toml:1" in text and ("tags" in text or "links" in text)
