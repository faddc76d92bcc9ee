"""Hostile input to ``andon.materialize`` and ``andon materialize``: refused with a clear error
before anything runs or is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import andon
from andon.model.errors import AndonError, BadRequest, NotFound, UnsafePath
from tests.cli.test_commands import andon as andon_cli
from tests.conftest import ProjectFactory
from tests.fromcode.projects import GOOD, PIPELINES


@pytest.fixture
def root(make_project: ProjectFactory) -> Path:
    return make_project(PIPELINES, extra="[settings]\nmax_backfill = 3\n")


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.csv"
    path.write_text(GOOD)
    return path


@pytest.mark.parametrize(("sources", "error", "text"), [
    ({"raw; rm -rf /": "x"}, BadRequest, "is not an identifier"),
    ({"rwa": "x"}, NotFound, "did you mean 'raw'"),
    ({"clean": "x"}, BadRequest, "is made by pipeline 'clean'"),
    ({"raw": 42}, BadRequest, "is given as int"),
    ({"raw": {"2026-01-09": "x"}}, BadRequest, "not among the partitions asked for"),
])
def test_source_names_and_kinds(root: Path, sources: dict[str, object], error: type,
                                text: str) -> None:
    with pytest.raises(error, match=text):
        andon.materialize(root, ["2026-01-05"], sources=sources)  # type: ignore[arg-type]
    assert not (root / "data").exists()


def test_source_files_that_are_not_regular_files(root: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePath, match="not a regular file"):
        andon.materialize(root, ["2026-01-05"], sources={"raw": fifo})  # never opened: no hang
    with pytest.raises(UnsafePath, match="not a regular file"):
        andon.materialize(root, ["2026-01-05"], sources={"raw": tmp_path})
    with pytest.raises(BadRequest, match="cannot be read"):
        andon.materialize(root, ["2026-01-05"], sources={"raw": tmp_path / "missing.csv"})


def test_a_location_that_leads_out_of_the_project(root: Path, tmp_path: Path,
                                                  good: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "data").mkdir()
    (root / "data/raw").symlink_to(outside)
    with pytest.raises(UnsafePath, match="leads out of the project"):
        andon.materialize(root, ["2026-01-05"], sources={"raw": good})
    assert list(outside.iterdir()) == []  # nothing written through the link


def test_partitions_executor_and_pipelines(root: Path, good: Path) -> None:
    keys = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]
    with pytest.raises(BadRequest, match=r"4 partitions are more than max_backfill \(3\)"):
        andon.materialize(root, keys, sources={"raw": good})
    with pytest.raises(BadRequest, match="partition keys of 'raw'|take"):
        andon.materialize(root, ["Monday"], sources={"raw": good})
    with pytest.raises(AndonError, match="is not a key"):
        andon.materialize(root, ["x" * 101])
    with pytest.raises(BadRequest, match="executor 'dask' is not known"):
        andon.materialize(root, ["2026-01-05"], executor="dask")
    with pytest.raises(BadRequest, match="no partition given"):
        andon.materialize(root, [])
    with pytest.raises(BadRequest, match="no pipeline named 'nope'"):
        andon.materialize(root, ["2026-01-05"], pipelines=["nope"])
    assert not (root / "data").exists()


@pytest.mark.parametrize("option", ["raw", "=x", "raw=", "raw=a --source raw=b"])
def test_malformed_source_options(root: Path, option: str) -> None:
    args = ["materialize", "--partition", "2026-01-05"]
    for part in option.split(" --source "):
        args += ["--source", part]
    proc = andon_cli(root, *args, check=False)
    assert proc.returncode == 2 and "Error: --source" in proc.stderr
