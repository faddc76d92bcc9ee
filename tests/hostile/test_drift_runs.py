"""Hostile profiling: andon.profile calls that name no data set, a bad reference, columns that
are not identifiers or too many of them (refused at load, naming the file and line, exit 2 from
a real ``andon validate``), and profile files tampered with or over the size limit after the
run wrote them (the report says so for that partition; nothing crashes, nothing else is
affected)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from andon.drift.limits import MAX_PROFILE_BYTES
from andon.live.clock import FakeClock
from andon.model.errors import DefinitionError
from andon.project.load import load_project
from andon.project.profiles import MAX_PROFILED_COLUMNS
from tests.conftest import ProjectFactory, utc
from tests.drift.projects import PIPELINES, drift_project, land
from tests.drift.test_runs import _ended
from tests.runner.harness import open_live

ANDON = str(Path(sys.executable).with_name("andon"))
DECLARED = 'andon.profile("features", columns=["spend", "orders", "plan"])'


@pytest.mark.parametrize(("call", "said"), [
    ('andon.profile("nothing")', "no data set 'nothing'"),
    ('andon.profile("raw")', "is a source"),
    ('andon.profile("../etc")', "not an identifier"),
    ('andon.profile("features", reference="yesterday")', "neither 'training' nor 'window:N'"),
    ('andon.profile("features", reference="window:0")', "neither 'training' nor 'window:N'"),
    ('andon.profile("features", reference="window:99999")', "neither"),
    ('andon.profile("features", columns=["a b"])', "column name 'a b' is not an identifier"),
    ('andon.profile("features", columns="spend")', "is not a list of column names"),
    ('andon.profile("features", columns=["spend", "spend"])', "names a column twice"),
    (f'andon.profile("features", columns=["c%d" % i for i in range({MAX_PROFILED_COLUMNS + 1})])',
     f"more than {MAX_PROFILED_COLUMNS}"),
    ('andon.profile("features", columns=["c%d" % i for i in range(10**6)])', "more than"),
    ('andon.profile("features", sample=0)', "sample=0"),
    ('andon.profile("features", sample=True)', "sample=True"),
])
def test_bad_declarations_are_refused_at_load(make_project: ProjectFactory, call: str,
                                             said: str) -> None:
    root = drift_project(make_project, PIPELINES.replace(DECLARED, call))
    with pytest.raises(DefinitionError, match="andon.profile") as caught:
        load_project(root)
    assert said in str(caught.value) and "pipelines.py:" in str(caught.value)
    done = subprocess.run([ANDON, "validate"], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and said in done.stderr


def test_tampered_and_oversized_profiles_are_reported_not_crashed(
        make_project: ProjectFactory) -> None:
    root = drift_project(make_project)
    days = ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]
    for day in days:
        land(root, day)
    live = open_live(root, FakeClock(utc(2026, 1, 10, 6)))
    try:
        for i, day in enumerate(days):
            live.notify("raw", day)
            _ended(live, 2 * (i + 1))
        live.submit(live.service.models.promote_event("churn", 1, live.now()))
        paths = {e.partition: root / e.profiles["features"]["path"] for e in live.log
                 if getattr(e, "profiles", None)}
        text = paths["2026-01-03"].read_text()
        paths["2026-01-03"].write_text(text.replace('"count":2000', '"count":-1', 1))
        with paths["2026-01-04"].open("wb") as fh:
            fh.truncate(MAX_PROFILE_BYTES + 1)  # sparse: big without the disk
        paths["2026-01-05"].write_text("NaN")
        heat = live.service.drift.heat("features")
        assert "count must be a whole number" in heat["errors"]["2026-01-03"]
        assert "more than" in heat["errors"]["2026-01-04"]
        assert "not valid JSON" in heat["errors"]["2026-01-05"]
        assert {c["partition"] for c in heat["cells"]} == {"2026-01-02"}
        # the reference itself tampered with: every partition says so, none crashes
        paths["2026-01-02"].write_text('{"format": "andon.profile/1", "rows": 1, "columns": 7}')
        fresh = live.service.drift.report("features", "2026-01-02")
        assert fresh.error == "" or "'columns' is not a list" in fresh.error
    finally:
        live.close()


def test_without_numpy_a_declared_profile_says_how_to_install_it(
        make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = drift_project(make_project)
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now raises ImportError
    with pytest.raises(DefinitionError, match="needs numpy") as caught:
        load_project(root)
    assert "andon[drift]" in caught.value.hint and "pipelines.py:" in caught.value.where
    only_auto = drift_project(make_project, PIPELINES.replace(DECLARED, "").replace(
        'andon.profile("recent", columns=["spend"], reference="window:2")', ""))
    assert load_project(only_auto).graph.profiled == {}  # automatic ones: quietly none
