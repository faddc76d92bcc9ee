"""Access requests are told to both sides through the notifier, and registered consumers hear
what a data set's owners hear (a cord pulled on it) until they are dropped, and are told then."""

from __future__ import annotations

from andon.events import CordPulled, Event
from andon.events.access import (
    AccessApproved,
    AccessExpired,
    AccessRejected,
    AccessRequested,
    ConsumerUnsubscribed,
)
from andon.notify import access
from andon.notify.config import NotifyConfig
from andon.notify.notifier import Notifier
from andon.notify.sender import Sender
from tests.notify.graphs import AT, graph

HOOKS = {name: "http://127.0.0.1:9/unused" for name in ("alerts", "crm-owners", "ana", "bi")}


def told(events: list[Event], consumers: dict[str, list[str]] | None = None
         ) -> list[tuple[str, str]]:
    """(recipient, subject) of every message the batch ``events`` makes, as the notifier picks
    them."""
    sender = Sender(lambda r, m: None, lambda e: None, lambda: AT)
    notifier = Notifier(graph(), NotifyConfig(webhooks=HOOKS), sender,
                        consumers=lambda assets: {a: v for a, v in (consumers or {}).items()
                                                  if a in assets})
    batch = [e for e in events if notifier.wanted(e) or access.wanted(e, events)]
    return [(r.name, m.subject) for m, r in notifier.compose(batch)]


def test_a_request_tells_the_owners_and_a_decision_the_requester() -> None:
    asked = AccessRequested(at=AT, request_id="crm:1", asset="crm", requester="ana",
                            reason="mailing", until="2026-02-01", answers={"purpose": "news"},
                            owners=("crm-owners", "nobody in particular"))
    assert told([asked]) == [("crm-owners", "access requested to crm by ana")]
    approved = AccessApproved(at=AT, request_id="crm:1", asset="crm", requester="ana",
                              by="crm-owners", until="2026-02-01", contact="bi")
    assert told([approved]) == [("ana", "access to crm approved"), ("bi", "access to crm approved")]
    rejected = AccessRejected(at=AT, request_id="crm:2", asset="crm", requester="someone",
                              by="ops", reason="no consent")
    assert told([rejected]) == []  # neither an address nor a known webhook: nobody to tell


def test_consumers_hear_of_cords_until_dropped_and_are_told_once() -> None:
    pulled = CordPulled(at=AT, cord_id="raw:2026-01-05:1", asset="raw", partition="2026-01-05",
                        reason="bad", by="ops")
    names = [name for name, _ in told([pulled], {"raw": ["bi"]})]
    assert names == ["alerts", "bi"]
    assert [name for name, _ in told([pulled])] == ["alerts"]
    expired = AccessExpired(at=AT, request_id="raw:1", asset="raw", requester="bi",
                            until="2026-01-05")
    dropped = ConsumerUnsubscribed(at=AT, asset="raw", consumer="bi", reason="expired")
    assert told([expired, dropped]) == [("bi", "access to raw expired")]
    assert told([dropped]) == [("bi", "no longer a consumer of raw")]


def test_a_deprecated_data_set_tells_its_owner_and_consumers_a_model_its_owner() -> None:
    from andon.events.catalog import CatalogEntryDeprecated

    crm = CatalogEntryDeprecated(at=AT, kind="dataset", entry="crm", since="2027-06-30",
                                 owner="crm-owners, nobody in particular")
    assert told([crm], {"crm": ["bi"]}) == [
        (name, "data set crm is deprecated: retired on 2027-06-30")
        for name in ("crm-owners", "bi")]  # not "nobody in particular": no address
    model = CatalogEntryDeprecated(at=AT, kind="model", entry="churn", since="2027-01-31",
                                   owner="ana")
    assert told([model], {"churn": ["bi"]}) == [
        ("ana", "model churn is deprecated: retired on 2027-01-31")]  # a model has no consumers


def test_a_held_candidate_tells_its_model_owner_why() -> None:
    from andon.events.models import ModelHeld

    held = ModelHeld(id="held:churn:3:worse", at=AT, model="churn", version=3, serving=2,
                     kind="worse", reason="auc 0.7 for version 3 against 0.85 for version 2",
                     owner="ana, not an address")
    assert told([held]) == [("ana", "model churn: version 3 not promoted (worse), version 2 "
                                    "serves")]
