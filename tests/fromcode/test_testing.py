"""``andon.testing``: one pipeline called with a real Context, and the project fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.model.errors import BadRequest, NotFound
from andon.testing import CallFailed, call
from andon.testing.fixtures import ProjectCopy, copy_project
from tests.conftest import ProjectFactory
from tests.fromcode.projects import BOOM, GOOD, PIPELINES


def test_call_returns_outputs_rows_metrics_params_and_log(make_project: ProjectFactory,
                                                          tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    raw = tmp_path / "raw.csv"
    raw.write_text(GOOD)
    out = tmp_path / "out"
    result = call("clean", {"raw": raw}, "2026-01-05", tmp_path=out, project=root)
    assert result.ok and result.outputs == {"clean": out / "data/clean/2026-01-05.csv"}
    assert result.outputs["clean"].read_text() == GOOD
    assert result.rows == {"clean": 2}
    assert result.metrics == {"chars": float(len(GOOD))} and result.params == {"source": "raw"}
    assert result.log == "cleaning 2026-01-05\n"
    assert not (root / "data").exists()  # nothing written into the project


def test_call_by_function_and_failures(make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    from andon.project.load import load_project

    project = load_project(root)
    fn = project.graph.pipelines["clean"].fn
    assert fn is not None
    bad = tmp_path / "bad.csv"
    bad.write_text(BOOM)
    with pytest.raises(CallFailed, match="boom in the data") as caught:
        call(fn, {"raw": bad}, "2026-01-05", tmp_path=tmp_path, project=project)
    assert "Traceback" in caught.value.result.log and caught.value.exit_code == 1
    kept = call(fn, {"raw": bad}, "2026-01-05", tmp_path=tmp_path, project=project,
                raise_on_failure=False)
    assert (kept.ok, kept.error_type) == (False, "ValueError")
    with pytest.raises(BadRequest, match="no file given for input.s. raw"):
        call("clean", {}, "2026-01-05", project=project)
    with pytest.raises(BadRequest, match="'nope' is not an input"):
        call("clean", {"raw": bad, "nope": bad}, "2026-01-05", project=project)
    with pytest.raises(NotFound, match="did you mean 'clean'"):
        call("claen", {"raw": bad}, "2026-01-05", project=project)
    with pytest.raises(BadRequest, match="partition keys look like"):
        call("clean", {"raw": bad}, "Monday", project=project)


def test_the_fixture_copies_a_project_and_materialises_there(
        andon_project: object, make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    (root / "data").mkdir()
    (root / "data/stale.csv").write_text("not copied")
    copy = andon_project(root)  # type: ignore[operator]
    assert isinstance(copy, ProjectCopy) and copy.root != root
    assert not (copy.root / "data").exists()
    raw = tmp_path / "raw.csv"
    raw.write_text(GOOD)
    result = copy.materialize(["2026-01-05"], sources={"raw": raw})
    assert result.ok and result.output("report", "2026-01-05").is_relative_to(copy.root)
    minimal = andon_project("minimal")  # type: ignore[operator]
    assert (minimal.root / "andon.toml").is_file()
    with pytest.raises(Exception, match="holds no andon.toml"):
        copy_project(tmp_path / "nowhere", tmp_path / "copy")
