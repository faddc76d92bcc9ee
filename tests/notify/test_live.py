"""Notifications in the live shell: a receiver that hangs never holds up the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

from andon.events import CheckFailed, NotificationSent, RunSucceeded
from tests.checks.helpers import announce, open_logged
from tests.conftest import ProjectFactory
from tests.notify.servers import hook_server

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv", owner="alerts")


@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text(ctx.inputs["raw"].read_text())


@andon.pipeline(inputs=["clean"], outputs=["report"])
def report(ctx):
    ctx.output("report").write_text("ok\\n")


andon.check("raw", blocking=False)(andon.checks.value_range("amount", min=0))
"""


def test_the_scheduler_keeps_running_while_a_receiver_hangs(make_project: ProjectFactory) -> None:
    with hook_server(["hang"]) as hook:
        root = make_project(PIPELINES, extra=f'[notify.webhooks]\nalerts = "{hook.url}"\n'
                                             "[settings]\nnotify_timeout = 60\n")
        line, log = open_logged(root, datetime(2026, 1, 9, tzinfo=UTC))
        try:
            announce(line, "2026-01-05", "id,amount\n1,-5\n")  # the warning check fails
            hook.wait_for(1)  # ... and its notification now hangs in the receiver
            for key in ("2026-01-06", "2026-01-07"):
                announce(line, key, "id,amount\n1,5\n")
            log.wait_for(lambda ev: {(e.pipeline, e.partition) for e in ev
                                     if isinstance(e, RunSucceeded)} >= {
                ("report", "2026-01-06"), ("report", "2026-01-07")}, "the later runs")
            assert hook.bodies == [] and not log.of(NotificationSent)  # still hanging
            (warning,) = log.of(CheckFailed)
            hook.release.set()
            log.wait_for(lambda ev: any(isinstance(e, NotificationSent) for e in ev),
                         "the delivery once the receiver answers")
            (body,) = hook.bodies
            assert body["event"] == "check.failed" and body["event_id"] == warning.id
            assert body["check"] == "value_range" and body["numbers"]["out_of_range"] == 1
            assert "warning check value_range failed on raw 2026-01-05" in body["text"]
        finally:
            line.close()
