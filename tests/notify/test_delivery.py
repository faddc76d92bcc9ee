"""Delivery to a real local HTTP server and a real local SMTP server: content, retries with
back-off, giving up, and no secret in logs or events."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from andon.events import CordPulled, Event, NotificationFailed, NotificationSent
from andon.events.codec import to_dict
from andon.notify.config import NotifyConfig, SmtpConfig
from andon.notify.message import Recipient
from andon.notify.notifier import Notifier, deliverer
from andon.notify.sender import Sender
from tests.notify.graphs import AT, TOKEN, graph
from tests.notify.servers import GUARD, MailHandler, hook_server, smtp_server


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def of(self, cls: type) -> list[Event]:
        return [e for e in self.events if isinstance(e, cls)]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@contextmanager
def notifier(config: NotifyConfig, record: Recorder, workers: int = 1) -> Iterator[Notifier]:
    sender = Sender(deliverer(config), record, lambda: AT, config.attempts, config.retry_delay,
                    workers)
    sender.start()
    try:
        yield Notifier(graph(), config, sender)
    finally:
        sender.stop()


def pull(reason: str = "row count 0") -> CordPulled:
    return CordPulled(id="pull:c1", at=AT, cord_id="c1", asset="raw", partition="2026-01-05",
                      reason=reason, by="check:row_count")


def test_a_cord_reaches_a_webhook_with_reason_by_and_downstream(recorder: Recorder) -> None:
    with hook_server() as hook:
        config = NotifyConfig(webhooks={"alerts": f"{hook.url}/T0/B0/{TOKEN}"}, project="shop")
        with notifier(config, recorder) as n:
            n.on_events([pull()])
            assert n.sender.idle(GUARD)
        (body,) = hook.bodies
        assert hook.paths == [f"/T0/B0/{TOKEN}"]
    assert body["text"].startswith("[shop] andon cord pulled on raw 2026-01-05: row count 0")
    assert "Pulled by: check:row_count" in body["text"]
    assert "  - clean 2026-01-05" in body["text"] and "  - weekly 2026-01-11" in body["text"]
    assert "Expected delay: unknown" in body["text"]
    assert body["event"] == "cord.pulled" and body["cord_id"] == "c1"
    assert body["reason"] == "row count 0" and body["by"] == "check:row_count"
    assert body["affected_count"] == 8  # clean that day, weekly for the 7 days that read it
    assert {"asset": "weekly", "partition": "2026-01-05"} in body["affected"]
    (sent,) = recorder.events
    assert isinstance(sent, NotificationSent)
    assert (sent.about, sent.about_id, sent.channel, sent.recipient, sent.attempt) == (
        "cord.pulled", "pull:c1", "webhook", "alerts", 1)


def test_a_receiver_that_fails_twice_gets_it_on_the_third_attempt(recorder: Recorder) -> None:
    with hook_server(["fail", "fail"]) as hook:
        config = NotifyConfig(webhooks={"alerts": hook.url}, attempts=5, retry_delay=0.05)
        with notifier(config, recorder) as n:
            n.on_events([pull()])
            assert n.sender.idle(GUARD)
        assert hook.requests == 3 and len(hook.bodies) == 1
    first, second, sent = recorder.events
    assert isinstance(first, NotificationFailed) and isinstance(second, NotificationFailed)
    assert (first.attempt, first.retry_in_seconds) == (1, 0.05)
    assert (second.attempt, second.retry_in_seconds) == (2, 0.1)  # the back-off doubles
    assert first.error == "webhook alerts answered HTTP 500"
    assert isinstance(sent, NotificationSent) and sent.attempt == 3


def test_andon_gives_up_after_the_last_attempt(recorder: Recorder) -> None:
    with hook_server(["fail"] * 5) as hook:
        config = NotifyConfig(webhooks={"alerts": hook.url}, attempts=2, retry_delay=0.01)
        with notifier(config, recorder) as n:
            n.on_events([pull()])
            assert n.sender.idle(GUARD)
        assert hook.requests == 2
    assert [(e.attempt, e.retry_in_seconds) for e in recorder.of(NotificationFailed)] == [
        (1, 0.01), (2, None)]
    assert not recorder.of(NotificationSent)


def test_e_mail_over_smtp_with_a_retry(recorder: Recorder) -> None:
    handler = MailHandler(fail=2)
    with smtp_server(handler) as port:
        config = NotifyConfig(smtp=SmtpConfig("127.0.0.1", port, sender="andon@shop.test"),
                              retry_delay=0.05, project="shop")
        with notifier(config, recorder) as n:
            n.on_events([pull("nulls in id")])
            assert n.sender.idle(GUARD)
    # owners and subscribers of raw and everything downstream that have an address
    recipients = sorted(to[0] for to, _ in handler.messages)
    assert recipients == ["ana@example.com", "bo@example.com"]
    _, text = handler.messages[0]
    assert "Subject: [andon/shop] andon cord pulled on raw 2026-01-05: nulls in id" in text
    assert "From: andon@shop.test" in text and "Reason: nulls in id" in text
    failed = recorder.of(NotificationFailed)
    assert len(failed) == 2 and all("451" in e.error for e in failed)  # type: ignore[attr-defined]
    assert len(recorder.of(NotificationSent)) == 2


def test_no_secret_reaches_the_log_or_the_events(recorder: Recorder,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    password = "pa55-w0rd-xyz"
    handler = MailHandler()

    def authenticate(server: object, session: object, envelope: object, mechanism: str,
                     auth_data: object) -> object:
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=False, handled=False)

    caplog.set_level(logging.DEBUG)
    with hook_server(["fail"] * 5) as hook, \
            smtp_server(handler, authenticator=authenticate, auth_require_tls=False) as port:
        config = NotifyConfig(webhooks={"alerts": f"{hook.url}/T0/B0/{TOKEN}"},
                              smtp=SmtpConfig("127.0.0.1", port, user="andon", password=password),
                              attempts=2, retry_delay=0.01)
        with notifier(config, recorder, workers=2) as n:
            n.on_events([pull()])
            assert n.sender.idle(GUARD)
    failed = recorder.of(NotificationFailed)
    assert {e.channel for e in failed} == {"webhook", "email"}  # type: ignore[attr-defined]
    assert any("SMTP login as andon refused (535)" in e.error for e in failed)  # type: ignore[attr-defined]
    everything = caplog.text + repr([to_dict(e) for e in recorder.events]) + repr(config)
    assert TOKEN not in everything and password not in everything
    assert "alerts" in caplog.text


def test_a_hanging_receiver_holds_one_sender_thread_only(recorder: Recorder) -> None:
    with hook_server(["hang"]) as slow, hook_server() as fast:
        config = NotifyConfig(webhooks={"slow": slow.url, "fast": fast.url}, timeout=GUARD)
        with notifier(config, recorder, workers=2) as n:
            message = n.message(pull())
            n.sender.send(message, [Recipient("webhook", "slow", slow.url)])
            slow.wait_for(1)  # the slow receiver holds one worker from now on
            n.sender.send(message, [Recipient("webhook", "fast", fast.url)])
            fast.wait_for(1, "bodies")  # delivered while the slow one still hangs
            assert not slow.bodies
            slow.release.set()
            assert n.sender.idle(GUARD)
        assert len(slow.bodies) == 1
    assert sorted(e.recipient for e in recorder.of(NotificationSent)) == [  # type: ignore[attr-defined]
        "fast", "slow"]
