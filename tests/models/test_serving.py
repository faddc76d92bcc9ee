"""A pipeline that reads ``andon.serving("churn")``, as a user runs it: a real ``andon up`` with
the local executor (a process per run), the CLI's promote, rollback and cord, and a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.test_commands import _wait_for, andon, andon_up
from tests.conftest import ProjectFactory
from tests.models.projects import land, training_project

SCORING = """
    import json
    import andon

    andon.source("raw")

    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx):
        ctx.output("model").write_text("weights-" + ctx.partition)

    @andon.pipeline(inputs=["raw", andon.serving("churn")], outputs=["scores"])
    def score(ctx):
        shadow = ctx.candidates.get("churn")
        ctx.output("scores").write_text(json.dumps({
            "read": ctx.inputs["churn"].read_text(), "version": ctx.models["churn"],
            "candidate": [shadow[0], shadow[1].read_text()] if shadow else None}))

    @andon.pipeline(inputs=["scores", andon.serving("churn")], outputs=["report"])
    def report(ctx):
        scores = json.loads(ctx.inputs["scores"].read_text())
        ctx.output("report").write_text(json.dumps({
            "scored_with": scores["read"], "quality_of": ctx.inputs["churn"].read_text()}))
"""
D2, D3, D4, D5 = "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"


def _read(root: Path, asset: str, day: str) -> Any:
    path = root / "data" / asset / day
    return json.loads(path.read_text()) if path.exists() else None


def _runs(root: Path, pipeline: str) -> list[dict[str, Any]]:
    out = json.loads(andon(root, "runs", "--json", "--pipeline", pipeline, "--limit",
                           "100").stdout)
    return list(out["runs"] if isinstance(out, dict) else out)


def _ok(root: Path, pipeline: str, day: str) -> int:
    return sum(r["partition"] == day and r["status"] == "succeeded"
               for r in _runs(root, pipeline))


def _versions(root: Path) -> int:
    return int(json.loads(andon(root, "model", "show", "churn", "--json").stdout)[
        "version_count"])


def test_scoring_reads_the_serving_version(make_project: ProjectFactory) -> None:
    root = training_project(make_project, pipelines=SCORING)
    for day in (D2, D3, D4, D5):
        land(root, day)
    with andon_up(root):
        andon(root, "notify", "raw", D2)
        _wait_for(lambda: _versions(root) == 1)
        assert _runs(root, "score") == []  # no version serves: nothing scores
        andon(root, "model", "promote", "churn", "1")
        _wait_for(lambda: _ok(root, "report", D2) == 1)
        assert _read(root, "scores", D2) == {"read": f"weights-{D2}", "version": 1,
                                             "candidate": None}
        andon(root, "notify", "raw", D3)  # version 2 is made; version 1 still serves
        _wait_for(lambda: _ok(root, "report", D3) == 1 and _versions(root) == 2)
        # (score D3 ran beside train D3: no candidate then) scored again, in shadow too
        andon(root, "run", "score", "--partition", D3)
        _wait_for(lambda: _ok(root, "report", D3) == 2)
        assert _read(root, "scores", D3) == {"read": f"weights-{D2}", "version": 1,
                                             "candidate": [2, f"weights-{D3}"]}
        andon(root, "model", "promote", "churn", "2")
        andon(root, "notify", "raw", D4)
        _wait_for(lambda: _ok(root, "report", D4) == 1)
        assert _read(root, "scores", D4)["read"] == f"weights-{D3}"
        # the promotion re-made none of the past scores
        assert [_ok(root, "score", d) for d in (D2, D3)] == [1, 2]

        # a cord on the serving version's artifact halts its readers and holds the next ones
        andon(root, "cord", "pull", "model", D3, "--reason", "version 2 predicts nonsense")
        andon(root, "notify", "raw", D5)
        _wait_for(lambda: _versions(root) == 4)
        listed = json.loads(andon(root, "cord", "list", "--json").stdout)
        assert len(listed["cords"] if isinstance(listed, dict) else listed) == 1
        assert _runs(root, "score")[0]["partition"] != D5  # held: it would read version 2
        # a rollback lets them go: the halted ones re-run with version 1, the held ones run
        andon(root, "model", "rollback", "churn", "--reason", "cord on version 2")
        _wait_for(lambda: _ok(root, "report", D5) == 1 and _ok(root, "report", D4) == 2)
        assert _read(root, "scores", D4)["read"] == f"weights-{D2}"
        assert _read(root, "scores", D5)["read"] == f"weights-{D2}"
        assert _read(root, "report", D4) == {"scored_with": f"weights-{D2}",
                                             "quality_of": f"weights-{D2}"}
        before = {p: _runs(root, p) for p in ("train", "score", "report")}
    # a restart replays the log: the same state, nothing run or recorded twice
    with andon_up(root):
        andon(root, "status")
        assert {p: _runs(root, p) for p in ("train", "score", "report")} == before


def test_auto_deploy_leaves_a_version_under_an_open_cord_a_candidate(
        make_project: ProjectFactory) -> None:
    from andon.engine.cords import next_cord_id
    from andon.events import CordPulled, RunSucceeded
    from andon.events.models import ModelPromoted
    from andon.live.clock import FakeClock
    from andon.live.models import AutoPromoter
    from tests.conftest import utc
    from tests.runner.harness import open_live

    root = training_project(make_project, deploy="auto", pipelines=SCORING)
    land(root, D2)
    land(root, D3)
    clock = FakeClock(utc(2026, 1, 10, 6))
    live = open_live(root, clock, executor="inprocess")  # the promoter arms later
    try:
        live.notify("raw", D2)
        live.notify("raw", D3)
        live.wait_for(lambda log: sum(isinstance(e, RunSucceeded) and e.pipeline == "train"
                                      for e in log) == 2, "two versions")
        assert [e.version for e in live.service.models.auto_events(clock.now())] == [2]
        cord_id = next_cord_id(live.runner.state.cords, "model", D3)
        live.submit(CordPulled(at=clock.now(), cord_id=cord_id, asset="model", partition=D3,
                               reason="known bad", by="test"))
        assert live.service.models.auto_events(clock.now()) == []  # it stays a candidate
        promoter = AutoPromoter(live.service.models, live.runner.submit, clock.now)
        live.runner.subscribe(promoter.on_events)
        promoter.arm()
        assert not any(isinstance(e, ModelPromoted) for e in live.log)
    finally:
        live.close()
