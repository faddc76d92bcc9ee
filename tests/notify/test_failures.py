"""A run that failed for good is notified, with what the operations manual knows of its problem
(the hint: "seen N times since DATE; last fixed by: NOTE (LINK)"); one that will be retried is
not. Real webhook receivers, a real notifier; in the live shell, a real store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from andon.events import Event, NotificationSent, RunFailed, RunStarted
from andon.notify.config import NotifyConfig
from andon.notify.notifier import Hint, Notifier, deliverer
from andon.notify.sender import Sender
from tests.checks.helpers import announce, open_logged
from tests.conftest import ProjectFactory
from tests.notify.graphs import AT, graph
from tests.notify.servers import GUARD, hook_server

FIXED = "seen 3 times since 2026-01-02; last fixed by: re-ran the export (https://wiki/x)"


def failed(attempt: int = 1, run_id: str = "clean:2026-01-05:1") -> RunFailed:
    return RunFailed(id=f"ended:{run_id}", at=AT, run_id=run_id, pipeline="clean",
                     partition="2026-01-05", attempt=attempt, exit_code=1,
                     error_type="ConnectionError", error_message="export 1234 timed out")


@contextmanager
def notifier(url: str, hint: Hint | None) -> Iterator[tuple[Notifier, list[Event]]]:
    recorded: list[Event] = []
    config = NotifyConfig(webhooks={"alerts": url}, subscribers=("alerts",), project="shop")
    sender = Sender(deliverer(config), recorded.append, lambda: AT, config.attempts,
                    config.retry_delay, 1)
    sender.start()
    try:
        yield Notifier(graph(), config, sender, hint=hint), recorded
    finally:
        sender.stop()


def test_a_failed_run_s_notification_carries_the_manual_s_hint() -> None:
    asked: list[str] = []

    def hint(run_id: str) -> str | None:
        asked.append(run_id)
        return FIXED

    with hook_server() as hook, notifier(hook.url, hint) as (n, recorded):
        n.on_events([failed()])
        assert n.sender.idle(GUARD)
        (body,) = hook.bodies
    assert asked == ["clean:2026-01-05:1"]
    assert body["event"] == "run.failed" and body["event_id"] == "ended:clean:2026-01-05:1"
    assert body["text"].startswith(
        "[shop] run failed: clean 2026-01-05: ConnectionError: export 1234 timed out")
    assert f"Known problem: {FIXED}" in body["text"]
    assert "andon logs clean:2026-01-05:1" in body["text"]
    assert body["hint"] == FIXED and body["run_id"] == "clean:2026-01-05:1"
    assert body["error_type"] == "ConnectionError" and body["exit_code"] == 1
    (sent,) = recorded
    assert isinstance(sent, NotificationSent) and sent.about == "run.failed"


@pytest.mark.parametrize("hint", [None, lambda run_id: None, lambda run_id: 1 // 0],
                         ids=["no manual", "nothing known", "the manual fails"])
def test_without_a_hint_the_failure_is_told_all_the_same(hint: Hint | None) -> None:
    with hook_server() as hook, notifier(hook.url, hint) as (n, _):
        n.on_events([failed()])
        assert n.sender.idle(GUARD)
        (body,) = hook.bodies
    assert body["event"] == "run.failed" and body["hint"] is None
    assert "Known problem" not in body["text"]


def test_only_a_failure_with_no_retry_left_is_notified() -> None:
    retried = graph()
    retried.pipelines["clean"] = replace(retried.pipelines["clean"], retries=2)
    notifier = Notifier(retried, NotifyConfig(), Sender(lambda r, m: None, lambda e: None,
                                                        lambda: AT))
    assert not notifier.gave_up(failed(1)) and not notifier.gave_up(failed(2))
    assert notifier.gave_up(failed(3))
    assert Notifier(graph(), NotifyConfig(), notifier.sender).gave_up(failed(1))  # no retries


PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["clean"], retries=1, retry_delay="0s", owner="alerts")
def clean(ctx):
    raise ConnectionError("export 1234 timed out")
"""


def test_the_live_shell_tells_of_a_run_that_failed_for_good_with_its_hint(
        make_project: ProjectFactory) -> None:
    with hook_server() as hook:
        root = make_project(PIPELINES, extra=f'[notify.webhooks]\nalerts = "{hook.url}"\n')
        line, log = open_logged(root, datetime(2026, 1, 9, tzinfo=UTC))
        try:
            assert line.notifier is not None

            def hint(run_id: str) -> str | None:
                # read from the real store, on the sender's thread: the failures so far
                seen = [e for e in line.store.iter_events() if isinstance(e, RunFailed)]
                return f"seen {len(seen)} times since {seen[0].at:%Y-%m-%d}" if seen else None

            line.notifier.hint = hint
            announce(line, "2026-01-05", "id\n1\n")
            log.wait_for(lambda ev: any(isinstance(e, NotificationSent) for e in ev),
                         "the failure's notification")
            assert line.notifier.sender.idle(GUARD)
            failures = log.of(RunFailed)
            assert [e.attempt for e in failures] == [1, 2]  # one retry, then for good
            (body,) = hook.bodies  # the first failure was retried: nobody was told
            assert body["event_id"] == failures[-1].id and body["attempt"] == 2
            assert body["hint"] == "seen 2 times since 2026-01-09"
            assert "Known problem: seen 2 times since 2026-01-09" in body["text"]
        finally:
            line.close()


def test_a_resolved_problem_that_comes_back_is_notified_with_its_fix(
        make_project: ProjectFactory) -> None:
    """End to end: ``andon up``'s notifier asks the live manual (wired in serve/up.py)."""
    with hook_server() as hook:
        root = make_project(PIPELINES.replace("retries=1", "retries=0"),
                            extra=f'[notify.webhooks]\nalerts = "{hook.url}"\n')
        line, log = open_logged(root, datetime(2026, 1, 9, tzinfo=UTC))
        try:
            assert line.notifier is not None
            announce(line, "2026-01-05", "id\n1\n")
            hook.wait_for(1, "delivered")
            first = hook.bodies[0]
            assert first["hint"] is None  # a problem seen once, never fixed: nothing to say
            (entry,) = line.service.manual.entries(line.clock.now())
            resolved = line.service.manual.resolve_event(
                entry.id, "re-ran the export after the CRM came back", line.clock.now(),
                link="https://wiki.example.com/crm-export", by="ana")
            assert line.runner.submit(resolved).result(GUARD)
            announce(line, "2026-01-06", "id\n2\n")  # the same failure, another day
            hook.wait_for(2, "delivered")
            again = hook.bodies[1]
            failures = log.of(RunFailed)
            assert again["event_id"] == failures[-1].id and again["partition"] == "2026-01-06"
            # the same code as when the fix was written: it came back, a regression
            fixed = ("seen 2 times since 2026-01-09; last fixed by: re-ran the export after the "
                     "CRM came back (https://wiki.example.com/crm-export) [regression]")
            assert again["hint"] == fixed
            assert f"Known problem: {fixed}" in again["text"]
            started = {(e.code_version, e.commit) for e in log.of(RunStarted)}
            assert started == {(line.project.graph.code_version, "")}  # not a git checkout
            assert len(line.project.graph.code_version) == 12
        finally:
            line.close()
