"""What notifications say and who gets them (pure: graph and events in, messages out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from andon.events import (
    CheckFailed,
    CordHalted,
    CordPulled,
    DeliverableAtRisk,
    NotificationSent,
    PipelinePartition,
)
from andon.notify.config import NotifyConfig, SmtpConfig
from andon.notify.message import Message, Recipient, cord_message, downstream, recipients
from andon.notify.notifier import Notifier
from andon.notify.sender import Sender
from tests.notify.graphs import AT, graph
from tests.notify.servers import GUARD

SMTP = SmtpConfig("127.0.0.1")


def test_recipients_are_owners_and_subscribers_once_each() -> None:
    config = NotifyConfig(webhooks={"alerts": "https://hooks.example.com/x"},
                          subscribers=("oncall@example.com", "alerts"), smtp=SMTP)
    found = recipients(graph(), config, ["raw", "clean", "weekly", "unknown"])
    assert [(r.channel, r.name) for r in found] == [
        ("webhook", "alerts"), ("email", "ana@example.com"), ("email", "bo@example.com"),
        ("email", "oncall@example.com")]
    without_mail = recipients(graph(), NotifyConfig(webhooks=config.webhooks), ["raw", "clean"])
    assert [r.name for r in without_mail] == ["alerts"]  # e-mail is off without smtp_host
    assert "hooks.example.com/x" not in repr(found)


def test_downstream_follows_windows_and_stops_at_a_limit() -> None:
    nodes, more = downstream(graph(), "raw", "2026-01-05")
    assert nodes[0] == ("clean", "2026-01-05") and len(nodes) == 8 and not more
    assert ("weekly", "2026-01-11") in nodes
    few, cut = downstream(graph(), "raw", "2026-01-05", limit=3)
    assert len(few) == 3 and cut


def test_a_cord_message_uses_the_engines_halt_list_and_the_forecast() -> None:
    pulled = CordPulled(id="p", at=AT, cord_id="raw:2026-01-05:1", asset="raw",
                        partition="2026-01-05", reason="bad file", by="ana")
    halted = CordHalted(id="h", at=AT, cord_id="raw:2026-01-05:1", partitions=(
        PipelinePartition("clean", "2026-01-05"), PipelinePartition("weekly", "2026-01-05")))
    seen = []

    def forecast(asset: str, partition: str, affected: object) -> timedelta:
        seen.append((asset, partition, affected))
        return timedelta(hours=2, minutes=30)

    message = cord_message(pulled, graph(), forecast, halted.partitions)
    assert message.fields["affected"] == [{"asset": "clean", "partition": "2026-01-05"},
                                          {"asset": "weekly", "partition": "2026-01-05"}]
    assert message.fields["expected_delay_seconds"] == 9000
    assert "Expected delay: 2h30m" in message.text
    assert "andon cord resolve raw:2026-01-05:1" in message.text
    assert seen[0][:2] == ("raw", "2026-01-05")
    assert message.assets == ("raw", "clean", "weekly")

    # the notifier pairs the halt list with its pull when both are in one batch
    delivered: list[tuple[Recipient, Message]] = []
    sender = Sender(lambda r, m: delivered.append((r, m)), lambda e: None, lambda: AT)
    sender.start()
    try:
        config = NotifyConfig(webhooks={"alerts": "http://127.0.0.1:9/unused"})
        Notifier(graph(), config, sender).on_events([pulled, halted])
        assert sender.idle(GUARD)
    finally:
        sender.stop()
    ((recipient, sent),) = delivered
    assert recipient.name == "alerts" and sent.fields["affected_count"] == 2


def test_which_events_are_notified() -> None:
    def failed(blocking: bool) -> CheckFailed:
        return CheckFailed(at=AT, asset="raw", partition="2026-01-05", version=2, check="rows",
                           blocking=blocking, numbers={"rows": 0.0}, message="0 rows")

    at_risk = DeliverableAtRisk(at=AT, pipeline="clean", partition="2026-01-05",
                                due=datetime(2026, 1, 6, 6, tzinfo=UTC), reason="raw is late")
    wanted = Notifier.wanted
    assert wanted(failed(False)) and not wanted(failed(True))  # the cord tells about blocking ones
    assert wanted(at_risk) and not wanted(NotificationSent(
        about="x", about_id="y", channel="webhook", recipient="alerts"))
    notifier = Notifier(graph(), NotifyConfig(), Sender(lambda r, m: None, lambda e: None,
                                                        lambda: AT))
    check = notifier.message(failed(False))
    assert check.subject == "check rows failed on raw 2026-01-05: 0 rows"
    assert "Numbers: rows=0" in check.text and check.assets == ("raw",)
    risk = notifier.message(at_risk)
    assert risk.subject == "deadline at risk: clean 2026-01-05: raw is late"
    assert risk.assets == ("clean",) and risk.fields["due"] == "2026-01-06T06:00:00.000000Z"
