"""Hostile locations for the sweep: a log that records a path out of the project (``..``, an
absolute path, a symlink out of the data roots), andon's own files, a FIFO, control characters.
The sweep refuses each with the reason and removes nothing outside the data."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from andon.events import PartitionAvailable
from andon.model.errors import AndonError
from andon.project.load import load_project
from andon.sweep import paths
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import make_world

T0 = utc(2026, 3, 1, 9)
AFTER = utc(2026, 3, 22, 9)


@pytest.mark.parametrize("location, words", [
    ("../outside.csv", "outside"),
    ("/etc/passwd", "outside"),
    ("data/../../outside.csv", "outside"),
    (".andon/andon.db", "andon's own"),
    ("andon.toml", "andon's own"),
    (".git/config", "andon's own"),
    (".", "data root"),
    ("", "not a location"),
    ("data/x\x00.csv", "not a location"),
    ("data/\x1b[2J.csv", "not a location"),
    ("x" * 5000, "not a location"),
])
def test_locations_out_of_bounds_are_refused(tmp_path: Path, location: str, words: str) -> None:
    with pytest.raises(paths.Refused) as err:
        paths.target(location, tmp_path, ())
    assert words in str(err.value)


def test_symlinks_fifos_and_links_out_are_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "p", tmp_path / "secret"
    (project / "data").mkdir(parents=True)
    outside.mkdir()
    (outside / "keep.csv").write_text("precious")
    os.symlink(outside, project / "data" / "out")
    os.symlink(outside / "keep.csv", project / "data" / "link.csv")
    os.mkfifo(project / "data" / "pipe")
    for location, words in (("data/out/keep.csv", "symlink out"),
                            ("data/link.csv", "a symlink"), ("data/pipe", "FIFO")):
        with pytest.raises(paths.Refused) as err:
            paths.target(location, project, ())
        assert words in str(err.value)
    assert (outside / "keep.csv").read_text() == "precious"
    # inside a declared data root is fine; the root itself is not
    assert paths.target(str(outside / "keep.csv"), project, (str(outside),)) == \
        outside / "keep.csv"
    with pytest.raises(paths.Refused):
        paths.target(str(outside), project, (str(outside),))


def test_a_folder_with_a_symlink_out_is_removed_without_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("precious")
    folder = tmp_path / "p" / "data" / "part"
    folder.mkdir(parents=True)
    os.symlink(outside, folder / "escape.csv")
    assert paths.remove(paths.target("data/part", tmp_path / "p", ()))
    assert not folder.exists() and outside.read_text() == "precious"


def test_a_hostile_log_cannot_make_the_sweep_delete_outside(make_project: ProjectFactory,
                                                            tmp_path: Path) -> None:
    world = make_world(make_project)
    victim = tmp_path / "victim.csv"
    victim.write_text("precious")
    rel = os.path.relpath(victim, world.root)
    # a log written by hand: a partition recorded at a path outside the project
    world.submit([PartitionAvailable(id="evil", at=T0 - timedelta(days=1), asset="spare",
                                     partition="2026-02-27", location=rel, size_bytes=8,
                                     fingerprint="x")], T0)
    inside = world.land("spare", "2026-02-28", T0)
    world.submit([world.svc.lifecycle.deprecate_event("spare", "2026-03-20", "x", T0)], T0)
    plan = world.svc.lifecycle.plan(AFTER)
    assert [r.location for r in plan.refused] == [rel]
    assert "outside" in plan.refused[0].reason
    assert plan.finished == ()  # not wholly deleted while a file is refused
    world.svc.lifecycle.apply(AFTER, "ops", lambda evs: world.submit(evs, AFTER))
    assert victim.read_text() == "precious" and not inside.exists()
    assert world.svc.lifecycle.standings(AFTER)[0].state == "frozen"


@pytest.mark.parametrize("option, words", [
    ('retention="ninety days"', "is not a duration"),
    ('retention="5m"', "from 1h"),
    ("retention=90", "from 1h"),
    ("keep_last=0", "keep_last=0"),
    ('keep_last="3"', "whole number"),
])
def test_bad_retention_is_refused_at_load(make_project: ProjectFactory, option: str,
                                          words: str) -> None:
    root = make_project(f'import andon\nandon.source("raw", {option})\n')
    with pytest.raises(AndonError) as err:
        load_project(root)
    assert words in err.value.message and "pipelines.py:2" in err.value.message
    assert err.value.exit_code == 2


@pytest.mark.parametrize("table, words", [
    ("[sweep]\nnotice_days = -1\n", "notice_days"),
    ('[sweep]\nnotice_days = "14"\n', "notice_days"),
    ('[sweep]\nevery = "daily"\n', "every"),
    ('[sweep]\nevery = "10s"\n', "from 1m"),
    ("[sweep]\nunknown = 1\n", "unknown key"),
])
def test_bad_sweep_table_is_refused_at_load(make_project: ProjectFactory, table: str,
                                            words: str) -> None:
    root = make_project('import andon\nandon.source("raw")\n', extra=table)
    with pytest.raises(AndonError) as err:
        load_project(root)
    assert words in err.value.message and err.value.hint
