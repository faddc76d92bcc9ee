"""The promotion gate of a deploy = "auto" model and the checks on a model, in a live
scheduler with real runs: a candidate waits for partitions scored in shadow by it and the
serving version, is promoted when it scores at least as well (within the tolerance) and held,
with its owner told why, when it scores worse; a failing blocking check on a model pulls the
andon cord on the serving version's artifact, which halts what scored with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from andon.events import CheckFailed, CheckPassed, CordHalted, CordPulled, RunSucceeded
from andon.events.models import ModelHeld, ModelPromoted
from andon.live.clock import FakeClock
from andon.live.gate import GateKeeper, compare
from andon.live.modelchecks import ModelChecks
from andon.live.models import AutoPromoter
from andon.model.errors import ConfigError, DefinitionError
from andon.project.load import load_project
from andon.registry.entries import Gate
from tests.conftest import ProjectFactory, utc
from tests.models.projects import land
from tests.runner.harness import Live, open_live

T0 = utc(2026, 1, 10, 6)

# train makes model churn; measure stands in for the model's performance pipeline: it logs the
# metrics its input names, as andon.performance logs METRIC and METRIC@vN from shadow scores
PROJECT = """
    import json
    import andon

    andon.source("raw")
    andon.source("outcome")

    @andon.pipeline(inputs=["raw"], outputs=["model", andon.model_output("churn")])
    def train(ctx):
        ctx.output("model").write_text(ctx.inputs["raw"].read_text())

    @andon.pipeline(inputs=["outcome"], outputs=["measured"])
    def measure(ctx):
        for name, value in json.loads(ctx.inputs["outcome"].read_text()).items():
            ctx.log_metric(name, value)
        ctx.output("measured").write_text("ok")

    @andon.pipeline(inputs=["raw", "model"], outputs=["scores"])
    def score(ctx):
        ctx.output("scores").write_text(ctx.inputs["model"].read_text())

    andon.check("churn")(andon.checks.performance("accuracy", min=0.7))
"""


def gated_catalog(tolerance: float = 0.0, partitions: int = 2) -> str:
    return ('[[entries]]\nkind = "model"\nname = "churn"\nowner = "ml@example.com"\n'
            f'deploy = "auto"\ngate = {{ metric = "auc", tolerance = {tolerance}, '
            f'partitions = {partitions}, drift = false }}\n')


def outcome(root: Path, day: str, **metrics: float) -> None:
    path = root / "data/outcome" / day
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))


def _live(root: Path, clock: FakeClock) -> tuple[Live, ModelChecks]:
    live = open_live(root, clock)
    measuring = {"churn": ["measure"]}
    keeper = GateKeeper(live.store, measuring, {})
    live.service.models.gate = keeper.verdict
    promoter = AutoPromoter(live.service.models, live.runner.submit, clock.now, measuring)
    checks = ModelChecks(live.project.model_checks, live.service.models, live.runner.submit,
                         clock.now, measuring, {})
    live.runner.subscribe(promoter.on_events)
    live.runner.subscribe(checks.on_events)
    promoter.arm()
    return live, checks


def test_compare_waits_then_judges_against_the_tolerance() -> None:
    gate = Gate("auc", tolerance=0.02, partitions=2)
    only_one = [("2026-01-03", {"auc@v2": 0.9, "auc@v1": 0.8}), ("2026-01-02", {"auc@v1": 0.8})]
    waiting = compare(gate, 2, 1, only_one)
    assert (waiting.passed, waiting.kind) == (False, "waiting")
    assert "1 of 2 partition(s)" in waiting.reason
    close = [("2026-01-04", {"auc@v2": 0.79, "auc@v1": 0.8}),
             ("2026-01-03", {"auc@v2": 0.8, "auc@v1": 0.8}),
             ("2026-01-02", {"auc@v2": 0.1, "auc@v1": 0.9})]  # older than the newest two
    passed = compare(gate, 2, 1, close)
    assert passed.passed and passed.numbers == {"auc@v2": pytest.approx(0.795),
                                                "auc@v1": pytest.approx(0.8)}
    worse = compare(Gate("auc", 0.0, 2), 2, 1, close)
    assert (worse.passed, worse.kind) == (False, "worse")
    assert "0.795 for version 2 against 0.8 for version 1" in worse.reason
    errors = compare(Gate("rmse", 0.0, 1), 2, 1, [("d", {"rmse@v2": 1.0, "rmse@v1": 2.0})])
    assert errors.passed  # a smaller error is better


def test_a_gated_candidate_waits_for_shadow_scores_and_is_promoted_or_held(
        make_project: ProjectFactory) -> None:
    clock = FakeClock(T0)
    root = make_project(PROJECT)
    (root / "catalog.toml").write_text(gated_catalog(partitions=2))
    for day in ("2026-01-02", "2026-01-03", "2026-01-04"):
        land(root, day, made=day)
    live, _ = _live(root, clock)
    try:
        live.notify("raw", "2026-01-02")  # version 1: nothing serves, so nothing to compare
        live.wait_for(lambda log: any(isinstance(e, ModelPromoted) for e in log), "version 1")
        live.notify("raw", "2026-01-03")  # version 2 waits for shadow scores
        live.wait_for(lambda log: any(isinstance(e, ModelHeld) for e in log), "held")
        (held,) = [e for e in live.log if isinstance(e, ModelHeld)]
        assert (held.id, held.version, held.serving, held.kind) == (
            "held:churn:2:waiting", 2, 1, "waiting")
        assert "0 of 2 partition(s) scored in shadow" in held.reason
        for day, auc2 in (("2026-01-05", 0.84), ("2026-01-06", 0.86)):
            outcome(root, day, **{"auc@v1": 0.8, "auc@v2": auc2})
            live.notify("outcome", day)
        live.wait_for(lambda log: sum(isinstance(e, ModelPromoted) for e in log) == 2,
                      "version 2 promoted once measured")
        promoted = [e for e in live.log if isinstance(e, ModelPromoted)][-1]
        assert (promoted.version, promoted.previous) == (2, 1)
        assert live.service.models.show("churn").serving == 2

        live.notify("raw", "2026-01-04")  # version 3 scores worse in shadow: held, told why
        for day in ("2026-01-07", "2026-01-08"):
            outcome(root, day, **{"auc@v2": 0.85, "auc@v3": 0.7})
            live.notify("outcome", day)
        live.wait_for(lambda log: any(isinstance(e, ModelHeld) and e.kind == "worse"
                                      for e in log), "version 3 held as worse")
        worse = next(e for e in live.log if isinstance(e, ModelHeld) and e.kind == "worse")
        assert worse.id == "held:churn:3:worse" and "0.7 for version 3" in worse.reason
        shown = live.service.models.show("churn")
        assert shown.serving == 2 and shown.gate is not None and shown.gate.partitions == 2
        assert [(h.version, h.kind) for h in shown.held or []] == [(3, "worse"), (3, "waiting")]
        page = live.service.catalog.view("model", "churn", clock.now())
        assert page.gate == shown.gate and page.held == shown.held  # 2 was promoted: not shown
    finally:
        live.close()


def test_a_failing_blocking_check_on_a_model_pulls_the_cord_on_its_serving_version(
        make_project: ProjectFactory) -> None:
    clock = FakeClock(T0)
    root = make_project(PROJECT)
    (root / "catalog.toml").write_text(
        '[[entries]]\nkind = "model"\nname = "churn"\nowner = "ml@example.com"\n'
        'deploy = "auto"\n')
    land(root, "2026-01-02", made="2026-01-02")
    live, checks = _live(root, clock)
    assert [c.name for c in live.project.model_checks] == ["performance_accuracy"]
    assert live.project.checks == ()  # a check on a model gates no data set's reads
    try:
        live.notify("raw", "2026-01-02")
        live.wait_for(lambda log: sum(isinstance(e, RunSucceeded) for e in log) == 2,
                      "train and score")
        live.wait_for(lambda log: any(isinstance(e, ModelPromoted) for e in log), "serving")
        outcome(root, "2026-01-03", accuracy=0.9)
        live.notify("outcome", "2026-01-03")
        live.wait_for(lambda log: any(isinstance(e, CheckPassed) for e in log), "a pass")
        passed = next(e for e in live.log if isinstance(e, CheckPassed))
        assert (passed.asset, passed.partition, passed.check) == (
            "model", "2026-01-02", "churn.performance_accuracy")
        outcome(root, "2026-01-04", accuracy=0.5)
        live.notify("outcome", "2026-01-04")
        live.wait_for(lambda log: any(isinstance(e, CordHalted) for e in log), "the halt")
        failed = next(e for e in live.log if isinstance(e, CheckFailed))
        assert "model churn version 1: accuracy 0.5 on measure 2026-01-04" in failed.message
        pulled = next(e for e in live.log if isinstance(e, CordPulled))
        assert (pulled.asset, pulled.partition, pulled.by) == (
            "model", "2026-01-02", "check:churn.performance_accuracy")
        halted = next(e for e in live.log if isinstance(e, CordHalted))
        assert ("score", "2026-01-02") in [(p.pipeline, p.partition) for p in halted.partitions]
        assert checks.wait(5)
    finally:
        live.close()


def test_model_and_model_output_declare_a_model(make_project: ProjectFactory) -> None:
    root = make_project("""
        import andon
        andon.source("raw")
        andon.model("churn", owner="ml@example.com", deploy="auto",
                    gate={"metric": "auc", "partitions": 2})

        @andon.pipeline(inputs=["raw"], outputs=["weights", andon.model_output("churn")])
        def train(ctx):
            pass
    """)
    project = load_project(root)
    assert project.graph.pipelines["train"].outputs == ("weights",)
    assert project.graph.pipelines["train"].models == ("churn",)
    (decl,) = project.graph.declared
    assert decl.where.endswith(":4") and decl.table["gate"] == {"metric": "auc", "partitions": 2}


def test_a_check_on_something_that_is_neither_a_data_set_nor_a_model_fails_at_load(
        make_project: ProjectFactory) -> None:
    root = make_project("""
        import andon
        andon.source("raw")
        andon.check("chrun")(andon.checks.performance("auc", min=0.7))
    """)
    with pytest.raises(DefinitionError, match="not a declared data set or model"):
        load_project(root)
    with pytest.raises(ValueError, match="needs min= or max="):
        import andon
        andon.checks.performance("auc")


@pytest.mark.parametrize(("gate", "message"), [
    ('{ metric = "auc" }\ndeploy = "manual"', 'only a model with deploy = "auto"'),
    ('{ metric = "a uc" }', "is not a metric's name"),
    ('{ metric = "auc", tolerance = -1 }', "is not a number >= 0"),
    ('{ metric = "auc", partitions = 0 }', "whole number from 1 to 100"),
    ('{ metric = "auc", drift = "yes" }', "is not true or false"),
    ('{ metric = "auc", shadow = 3 }', "is not a table of metric"),
])
def test_a_bad_gate_fails_where_the_catalog_loads(make_project: ProjectFactory, gate: str,
                                                  message: str) -> None:
    from andon.registry.declared import load_declared

    root = make_project("import andon\n")
    deploy = "" if "deploy" in gate else 'deploy = "auto"\n'
    (root / "catalog.toml").write_text(
        '[[entries]]\nkind = "model"\nname = "churn"\nowner = "ml@example.com"\n'
        f'{deploy}gate = {gate}\n')
    with pytest.raises(ConfigError, match="gate") as bad:
        load_declared(root, load_project(root).graph)
    assert message in str(bad.value) + str(getattr(bad.value, "hint", ""))


SHADOW = """
    import json
    import andon

    andon.source("raw")
    andon.source("requests")
    andon.source("labels")

    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx):
        ctx.output("model").write_text(ctx.inputs["raw"].read_text())  # {"skill": s}

    def _scores(skill, version):
        # ids 0..19, label id % 2: a skilled model ranks the positives first
        return [f"{i},{skill * (i % 2) + (1 - skill) * 0.5 + i / 1000:.4f},{version}"
                for i in range(20)]

    @andon.pipeline(inputs=["requests", andon.serving("churn")], outputs=["scores"])
    def score(ctx):
        rows = _scores(json.loads(ctx.inputs["churn"].read_text())["skill"], ctx.models["churn"])
        for name, (version, path) in ctx.candidates.items():  # shadow: the held candidate
            rows += _scores(json.loads(path.read_text())["skill"], version)
        ctx.output("scores").write_text("id,score,model_version\\n" + "\\n".join(rows) + "\\n")

    andon.performance("churn", predictions="scores", labels="labels", metric="auc", key="id",
                      prediction="score", label="label")
"""


def _labels(root: Path, day: str) -> None:
    path = root / "data/labels" / day
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))


def test_shadow_scores_of_a_real_performance_pipeline_let_a_better_candidate_through(
        make_project: ProjectFactory) -> None:
    from andon.live.modelchecks import measurements

    clock = FakeClock(T0)
    root = make_project(SHADOW)
    (root / "catalog.toml").write_text(gated_catalog(partitions=1))
    land(root, "2026-01-02", skill=0.0)  # version 1: no skill at all
    land(root, "2026-01-03", skill=0.9)  # version 2: a good one
    live = open_live(root, clock)
    performance_of, trains_on = measurements(live.project.graph)
    assert performance_of == {"churn": ["churn_performance"]} and trains_on == {"churn": []}
    live.service.models.gate = GateKeeper(live.store, performance_of, trains_on).verdict
    promoter = AutoPromoter(live.service.models, live.runner.submit, clock.now, performance_of)
    live.runner.subscribe(promoter.on_events)
    promoter.arm()
    try:
        live.notify("raw", "2026-01-02")
        live.wait_for(lambda log: any(isinstance(e, ModelPromoted) for e in log), "version 1")
        live.notify("raw", "2026-01-03")  # train v2: held, no shadow scores yet
        live.wait_for(lambda log: any(isinstance(e, ModelHeld) for e in log), "held")
        (root / "data/requests").mkdir(parents=True, exist_ok=True)
        (root / "data/requests/2026-01-03").write_text("score these")
        live.notify("requests", "2026-01-03")  # scored by v1, and by v2 in shadow
        live.wait_for(lambda log: any(isinstance(e, RunSucceeded) and e.pipeline == "score"
                                      and e.partition == "2026-01-03" for e in log), "scores")
        scores = (root / "data/scores/2026-01-03").read_text().splitlines()
        assert {line.rsplit(",", 1)[1] for line in scores[1:]} == {"1", "2"}  # shadow rows
        _labels(root, "2026-01-03")
        live.notify("labels", "2026-01-03")
        live.wait_for(lambda log: sum(isinstance(e, ModelPromoted) for e in log) == 2,
                      "version 2 promoted on its shadow AUC")
        measured = next(e for e in live.log if isinstance(e, RunSucceeded)
                        and e.pipeline == "churn_performance")
        assert measured.metrics["auc@v2"] == 1.0 and measured.metrics["auc@v1"] < 0.6
        assert live.service.models.show("churn").serving == 2
    finally:
        live.close()
