"""Listen to committed events and notify people about the ones that need them: a cord pulled, a
warning check failed, a deliverable at risk, a run failed for good (with what the operations
manual knows of its problem), a model's new version held back by its gate.

``on_events`` runs on the scheduler's thread, so it only picks the events out and hands them to
the sender; composing (walking the lineage, asking the forecast) and delivering happen on the
sender's threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from andon.events import (
    CheckFailed,
    CordHalted,
    CordPulled,
    DeliverableAtRisk,
    DeliverableRecovered,
    Event,
    RunFailed,
)
from andon.events.catalog import CatalogEntryDeprecated
from andon.events.models import ModelHeld
from andon.model.graph import Graph
from andon.notify import access
from andon.notify.catalog import deprecation_message
from andon.notify.channels import post_webhook, send_email
from andon.notify.config import NotifyConfig
from andon.notify.lifecycle import NOTICES as LIFECYCLE_NOTICES
from andon.notify.lifecycle import lifecycle_message
from andon.notify.message import (
    DelayForecast,
    Message,
    Recipient,
    at_risk_message,
    check_message,
    cord_message,
    failure_message,
    recipients,
)
from andon.notify.models import held_message
from andon.notify.sender import Deliver, Record, Sender

log = logging.getLogger("andon.notify")

# the registered consumers of data sets: data set -> names (an address or a webhook's name)
Consumers = Callable[[Sequence[str]], Mapping[str, Sequence[str]]]
# what the operations manual knows of a failed run's problem: run id -> its hint's text, or None
Hint = Callable[[str], str | None]


class Notifier:
    """Subscribe ``on_events`` to the runner. ``forecast`` (optional) gives the expected delay
    of a cord's downstream, from the planner; ``consumers`` (optional) the registered consumers
    of data sets (data set -> names, read from the store on the sender's threads), who hear
    what the data sets' owners hear; ``hint`` (optional, settable later) what the operations
    manual knows of a failed run's problem, asked on the sender's threads."""

    def __init__(self, graph: Graph, config: NotifyConfig, sender: Sender,
                 forecast: DelayForecast | None = None,
                 consumers: Consumers | None = None, hint: Hint | None = None) -> None:
        self.graph = graph
        self.config = config
        self.sender = sender
        self.forecast = forecast
        self.consumers = consumers
        self.hint = hint

    def on_events(self, events: Sequence[Event]) -> None:
        if not self.config.webhooks and self.config.smtp is None:
            return  # no channel configured: nobody can be told
        picked = [e for e in events
                  if self.wanted(e) or self.gave_up(e) or access.wanted(e, events)]
        if picked:
            # the engine derives what a cord halts in the same turn as the pull
            halted = {e.cord_id: e.partitions for e in events if isinstance(e, CordHalted)}
            self.sender.post(lambda: self.compose(picked, halted))

    @staticmethod
    def wanted(event: Event) -> bool:
        if isinstance(event, CheckFailed):
            return not event.blocking  # a blocking one pulls the cord, whose message says it all
        return isinstance(event, (CordPulled, DeliverableAtRisk, DeliverableRecovered,
                                  CatalogEntryDeprecated, ModelHeld, *LIFECYCLE_NOTICES))

    def gave_up(self, event: Event) -> bool:
        """Whether ``event`` is a run that failed for good: no retry is coming (a failure that
        will be retried is no one's business yet)."""
        return isinstance(event, RunFailed) and self.graph.final_attempt(event.pipeline,
                                                                         event.attempt)

    def known_problem(self, run_id: str) -> str | None:
        """The manual's hint for ``run_id``; None when there is none or it cannot be had (the
        notification goes out without it)."""
        if self.hint is None:
            return None
        try:
            return self.hint(run_id) or None
        except Exception:
            log.exception("could not read the manual's hint for run %s", run_id)
            return None

    def message(self, event: Event, halted: Mapping[str, Sequence[Any]] | None = None) -> Message:
        if isinstance(event, access.ACCESS_NOTICES):
            return access.access_message(event)
        if isinstance(event, CatalogEntryDeprecated):
            return deprecation_message(event)
        if isinstance(event, ModelHeld):
            return held_message(event)
        if isinstance(event, LIFECYCLE_NOTICES):
            return lifecycle_message(event, self.graph)
        if isinstance(event, CheckFailed):
            return check_message(event)
        if isinstance(event, RunFailed):
            return failure_message(event, self.graph, self.known_problem(event.run_id))
        if isinstance(event, CordPulled):
            return cord_message(event, self.graph, self.forecast,
                                (halted or {}).get(event.cord_id))
        return at_risk_message(event, self.graph)

    def compose(self, events: Iterable[Event], halted: Mapping[str, Sequence[Any]] | None = None
                ) -> list[tuple[Message, Recipient]]:
        out: list[tuple[Message, Recipient]] = []
        messages = [self.message(event, halted) for event in events]
        wanted = sorted({a for m in messages for a in m.assets})
        consumers = self.consumers(wanted) if self.consumers is not None and wanted else {}
        for message in messages:
            out.extend((message, r) for r in recipients(self.graph, self.config, message.assets,
                                                        consumers, message.to))
        return out



def deliverer(config: NotifyConfig) -> Deliver:
    """Deliver one message to one recipient over its channel, with the configured timeout."""
    def deliver(recipient: Recipient, message: Message) -> None:
        if recipient.channel == "webhook":
            post_webhook(recipient, message, config.timeout, config.project)
        elif config.smtp is not None:
            send_email(config.smtp, recipient, message, config.timeout, config.project)
    return deliver


def start_notifier(graph: Graph, config: NotifyConfig, record: Record, now: Callable[[], datetime],
                   forecast: DelayForecast | None = None, workers: int = 2,
                   consumers: Consumers | None = None, hint: Hint | None = None) -> Notifier:
    """A Notifier whose sender threads are running (stop them with ``notifier.sender.stop()``)."""
    sender = Sender(deliverer(config), record, now, config.attempts, config.retry_delay, workers)
    sender.start()
    return Notifier(graph, config, sender, forecast, consumers, hint)
