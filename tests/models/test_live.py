"""Models in a live scheduler, through both real executors: a training run's metrics and
parameters on its ``run.succeeded`` and on the model's versions, a bad metric failing only that
run, the deploy policy's automatic promotions (once, whatever restarts), promotion and rollback
recorded through the engine, and the model's entry page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.events import RunFailed, RunSucceeded
from andon.events.models import ModelPromoted
from andon.live.clock import FakeClock
from andon.live.models import AutoPromoter
from andon.model.errors import Conflict, NotFound
from tests.conftest import ProjectFactory, utc
from tests.models.projects import land, training_project
from tests.runner.harness import Live, open_live

T0 = utc(2026, 1, 10, 6)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def _live(root: Path, clock: FakeClock, executor: str) -> Live:
    live = open_live(root, clock, executor=executor)
    promoter = AutoPromoter(live.service.models, live.runner.submit, clock.now)
    live.runner.subscribe(promoter.on_events)
    promoter.arm()
    return live


@pytest.fixture(params=["inprocess", "local"])
def executor(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def _ended(live: Live, n: int) -> None:
    live.wait_for(lambda log: sum(isinstance(e, (RunSucceeded, RunFailed)) for e in log) >= n,
                  f"{n} run(s) ending")


def test_metrics_and_params_reach_the_versions(make_project: ProjectFactory, clock: FakeClock,
                                               executor: str) -> None:
    root = training_project(make_project)
    land(root, "2026-01-02", alpha=0.3, metrics={"auc": 0.81, "log_loss": 0.42})
    land(root, "2026-01-03", metrics={"auc": 0.85})
    live = _live(root, clock, executor)
    try:
        live.notify("raw", "2026-01-02")
        _ended(live, 1)
        live.notify("raw", "2026-01-03")
        _ended(live, 2)
        (first, second) = [e for e in live.log if isinstance(e, RunSucceeded)]
        assert first.metrics == {"auc": 0.81, "log_loss": 0.42}
        assert first.params == {"alpha": "0.3", "solver": "lbfgs", "days": "7"}
        assert second.metrics == {"auc": 0.85} and second.params["alpha"] == "0.1"

        shown = live.service.models.show("churn")
        assert shown.deploy == "manual" and shown.version_count == 2 and shown.serving == 0
        newest, oldest = shown.versions
        assert (newest.number, newest.partition, newest.metrics) == (2, "2026-01-03",
                                                                     {"auc": 0.85})
        assert oldest.params["alpha"] == "0.3"
        assert [(i["asset"], i["partition"]) for i in oldest.inputs] == [("raw", "2026-01-02")]
        assert not any(isinstance(e, ModelPromoted) for e in live.log)  # manual: nothing

        # promote, promote, roll back: through the engine, into the read model
        live.submit(live.service.models.promote_event("churn", 1, clock.now(), "first", "me"))
        live.submit(live.service.models.promote_event("churn", 2, clock.now(), "", "me"))
        with pytest.raises(Conflict, match="serves already"):
            live.service.models.promote_event("churn", 2, clock.now())
        back = live.service.models.rollback_event("churn", clock.now(), "auc fell", "me")
        assert (back.version, back.previous, back.rollback) == (1, 2, True)
        live.submit(back)
        shown = live.service.models.show("churn")
        assert shown.serving == 1 and shown.rollback_to == 0
        assert [(p.version, p.previous, p.rollback) for p in shown.promotions] == [
            (1, 0, False), (2, 1, False), (1, 2, True)]
        with pytest.raises(Conflict, match="no version to roll back to"):
            live.service.models.rollback_event("churn", clock.now())
        with pytest.raises(NotFound, match="no version 3") as bad:
            live.service.models.promote_event("churn", 3, clock.now())
        assert "1 to 2" in bad.value.hint
        with pytest.raises(NotFound) as unknown:
            live.service.models.show("chrun")
        assert "did you mean 'churn'" in unknown.value.hint

        page = live.service.catalog.view("model", "churn", clock.now())
        assert page.serving == 1 and page.deploy == "manual" and len(page.promotions or []) == 3
        assert page.versions and page.versions[0].metrics == {"auc": 0.85}
        listing = live.service.models.listing()
        assert [(m.name, m.versions, m.latest, m.serving) for m in listing] == [
            ("churn", 2, 2, 1)]
    finally:
        live.close()


def test_a_bad_metric_fails_that_run_only(make_project: ProjectFactory, clock: FakeClock,
                                          executor: str) -> None:
    root = training_project(make_project)
    land(root, "2026-01-02", metrics={"auc": float("nan")})
    land(root, "2026-01-03", metrics={"auc": 0.7})
    live = _live(root, clock, executor)
    try:
        live.notify("raw", "2026-01-02")
        live.notify("raw", "2026-01-03")
        live.wait_for(lambda log: any(isinstance(e, RunSucceeded) for e in log), "the good run")
        live.wait_for(lambda log: any(isinstance(e, RunFailed) and e.attempt >= 1 for e in log),
                      "the bad run")
        failed = next(e for e in live.log if isinstance(e, RunFailed))
        assert failed.partition == "2026-01-02" and failed.error_type == "MetricProblem"
        assert "metric 'auc' is nan" in failed.error_message
        assert live.runner.alive()
        assert live.service.models.show("churn").version_count == 1
    finally:
        live.close()


def test_auto_deploy_promotes_each_new_version_once(make_project: ProjectFactory,
                                                    clock: FakeClock) -> None:
    root = training_project(make_project, deploy="auto")
    land(root, "2026-01-02", metrics={"auc": 0.8})
    live = _live(root, clock, "inprocess")
    try:
        live.notify("raw", "2026-01-02")
        live.wait_for(lambda log: any(isinstance(e, ModelPromoted) for e in log), "a promotion")
        (auto,) = [e for e in live.log if isinstance(e, ModelPromoted)]
        assert (auto.id, auto.version, auto.by, auto.reason, auto.previous) == (
            "promoted:churn:1", 1, "andon", "auto", 0)
        land(root, "2026-01-03", metrics={"auc": 0.9})
        live.notify("raw", "2026-01-03")
        live.wait_for(lambda log: sum(isinstance(e, ModelPromoted) for e in log) == 2,
                      "the second promotion")
        assert live.service.models.show("churn").serving == 2
        # a person rolls back from the automatic promotion: andon does not promote it again
        live.submit(live.service.models.rollback_event("churn", clock.now(), "drift", "me"))
    finally:
        live.close()
    again = _live(root, clock, "inprocess")  # a restart catches up: nothing is owed
    try:
        assert again.runner.quiet()
        assert not any(isinstance(e, ModelPromoted) for e in again.log)
        shown = again.service.models.show("churn")
        assert shown.serving == 1 and len(shown.promotions) == 3
        assert again.service.models.auto_events(clock.now()) == []
    finally:
        again.close()


def test_a_version_that_ended_while_andon_was_down_is_promoted_at_the_next_start(
        make_project: ProjectFactory, clock: FakeClock) -> None:
    root = training_project(make_project, deploy="auto")
    land(root, "2026-01-02", metrics={"auc": 0.8})
    live = open_live(root, clock)  # no promoter: as if andon stopped before it acted
    try:
        live.notify("raw", "2026-01-02")
        _ended(live, 1)
        assert not any(isinstance(e, ModelPromoted) for e in live.log)
    finally:
        live.close()
    again = _live(root, clock, "inprocess")
    try:
        again.wait_for(lambda log: any(isinstance(e, ModelPromoted) for e in log), "catch-up")
        assert again.service.models.show("churn").serving == 1
    finally:
        again.close()
