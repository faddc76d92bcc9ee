"""Profiles written by real runs (both executors), and drift from them: the reference taken from
the serving version's training inputs and from a window, red on a shifted partition and green
on an unshifted one; a partition that cannot be profiled fails its run by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.drift import codec
from andon.events import RunFailed, RunSucceeded
from andon.live.clock import FakeClock
from andon.model.errors import NotFound
from tests.conftest import ProjectFactory, utc
from tests.drift.projects import PIPELINES, drift_project, land
from tests.runner.harness import Live, open_live

T0 = utc(2026, 1, 10, 6)
DAYS = ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]


@pytest.fixture(params=["inprocess", "local"])
def executor(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def _ended(live: Live, n: int) -> None:
    live.wait_for(lambda log: sum(isinstance(e, (RunSucceeded, RunFailed)) for e in log) >= n,
                  f"{n} run(s) ending")


def _run_days(root: Path, executor: str, shifted: str = "2026-01-05") -> Live:
    for day in DAYS:
        land(root, day, mean=3.0 if day == shifted else 0.0)
    live = open_live(root, FakeClock(T0), executor=executor)
    for i, day in enumerate(DAYS):
        live.notify("raw", day)
        _ended(live, 2 * (i + 1))  # make_features, then train
    return live


def test_runs_write_profiles_and_drift_reads_them(make_project: ProjectFactory,
                                                  executor: str) -> None:
    root = drift_project(make_project)
    live = _run_days(root, executor)
    try:
        made = [e for e in live.log if isinstance(e, RunSucceeded)
                and e.pipeline == "make_features"]
        assert len(made) == 4
        entry = made[0].profiles["features"]
        assert (entry["rows"], entry["columns"]) == (2000, 3)
        written = codec.loads((root / entry["path"]).read_text())
        assert written.columns["plan"].kind == "categorical"
        assert written.columns["spend"].kind == "numeric"
        assert (root / ".andon/profiles/features/edges.json").is_file()
        assert not [e for e in live.log if isinstance(e, RunSucceeded)
                    and e.pipeline == "train" and e.profiles]  # the model file: not profiled

        drift = live.service.drift
        # no version serves: the newest version's training partition (2026-01-05, shifted)
        newest = drift.report("features", "2026-01-02")
        assert newest.reference.startswith("training of churn (newest version 4")
        assert newest.reference_partitions == ["2026-01-05"]
        assert newest.red
        # version 1 (trained on 2026-01-02) serves: 01-03 is green, the shifted 01-05 red
        live.submit(live.service.models.promote_event("churn", 1, live.now()))
        green = drift.report("features", "2026-01-03")
        assert green.reference == "training of churn (serving version 1)"
        assert green.reference_partitions == ["2026-01-02"]
        assert not green.red and not green.amber and not green.error
        assert {c.name for c in green.columns} == {"spend", "orders", "plan"}
        red = drift.report("features", "2026-01-05")
        spend = next(c for c in red.columns if c.name == "spend")
        assert red.red and spend.band == "red" and spend.psi > 1 and spend.significant
        assert next(c for c in red.columns if c.name == "orders").band == "green"

        heat = drift.heat("features")
        assert heat["partitions"] == DAYS and heat["columns"] == ["spend", "orders", "plan"]
        bands = {(c["partition"], c["column"]): c["band"] for c in heat["cells"]}
        assert bands[("2026-01-05", "spend")] == "red"
        assert bands[("2026-01-04", "spend")] == "green"

        # a window: the 2 partitions before; the first has none (said, not raised)
        window = drift.heat("recent")
        assert window["reference"] == "window:2"
        assert "2026-01-02" in window["errors"]
        w = {c["partition"]: c["band"] for c in window["cells"]}
        assert w == {"2026-01-03": "green", "2026-01-04": "green", "2026-01-05": "red"}
        assert drift.report("recent", "2026-01-05").reference_partitions == ["2026-01-03",
                                                                             "2026-01-04"]
        with pytest.raises(NotFound, match="not profiled"):
            drift.report("model", "2026-01-02")
        with pytest.raises(NotFound, match="has no profile"):
            drift.report("features", "2026-01-09")
    finally:
        live.close()


BROKEN = PIPELINES.replace('andon.profile("features", columns=["spend", "orders", "plan"])',
                           'andon.profile("features", columns=["spend", "missing"])')


def test_a_declared_column_missing_fails_the_run_by_name(make_project: ProjectFactory,
                                                         executor: str) -> None:
    root = drift_project(make_project, BROKEN)
    land(root, "2026-01-02")
    live = open_live(root, FakeClock(T0), executor=executor)
    try:
        live.notify("raw", "2026-01-02")
        _ended(live, 1)
        (failed,) = [e for e in live.log if isinstance(e, RunFailed)]
        assert failed.error_type == "DriftError"
        assert "'features'" in failed.error_message and "2026-01-02" in failed.error_message
        assert "missing" in failed.error_message
    finally:
        live.close()


def test_an_empty_partition_is_profiled_and_said_not_comparable(
        make_project: ProjectFactory) -> None:
    root = drift_project(make_project)
    land(root, "2026-01-02")
    land(root, "2026-01-03", rows=0)
    live = open_live(root, FakeClock(T0))
    try:
        live.notify("raw", "2026-01-02")
        live.notify("raw", "2026-01-03")
        _ended(live, 4)
        live.submit(live.service.models.promote_event("churn", 1, live.now()))
        empty = live.service.drift.report("features", "2026-01-03")
        assert not empty.columns and "no values in column 'spend'" in empty.error
    finally:
        live.close()


def test_a_models_pipelines_data_sets_are_profiled_automatically(
        make_project: ProjectFactory) -> None:
    from andon.project.load import load_project

    bare = PIPELINES.replace('andon.profile("features", columns=["spend", "orders", "plan"])',
                             "").replace('andon.profile("recent", columns=["spend"], '
                                         'reference="window:2")', "")
    graph = load_project(drift_project(make_project, bare)).graph
    # train (models=) reads features, a CSV a pipeline writes; its output (model) is no CSV;
    # recent is nobody's model input
    assert list(graph.profiled) == ["features"]
    assert graph.profiled["features"].auto and graph.profiled["features"].columns == ()
    declared = load_project(drift_project(make_project)).graph.profiled
    assert declared["features"].columns == ("spend", "orders", "plan")
    assert not declared["features"].auto and declared["recent"].reference == "window:2"
