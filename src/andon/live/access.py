"""Access requests and registered consumers as the CLI and the API ask for them: each request
checked and turned into its event (for the caller to submit through the engine), and the
queries on the read models (``andon.store.access``).

Who may decide a request: an operator or admin token, or a token whose name is one of the data
set's owners; the command line working on the store itself (no scheduler running) is trusted as
an operator, like every other offline write."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from andon.engine.access import STATUSES, RequestStatus
from andon.events.access import (
    AccessApproved,
    AccessRejected,
    AccessRequested,
    ConsumerSubscribed,
    ConsumerUnsubscribed,
    decision_event_id,
    request_event_id,
)
from andon.events.codec import format_time
from andon.model.access import MAX_TEXT, Access, check_answers, expires_at
from andon.model.errors import BadRequest, Conflict, Forbidden, NotFound
from andon.model.graph import Graph
from andon.model.views import Json
from andon.model.words import did_you_mean
from andon.registry.entries import Entry
from andon.store import access as queries
from andon.store.sql import Store

MAX_CONTACT = 200  # characters of a contact or a consumer's name
DECIDERS = ("operator", "admin")  # roles that may decide any request
_CONSUMER = re.compile("[A-Za-z0-9_.:+@-]{1," + str(MAX_CONTACT) + "}")


class AccessDesk:
    """The access requests and consumers of one project's data sets (``datasets``: the
    catalog's, from the definitions, ``catalog.toml`` and the API); ``max_days``: how far ahead
    access may be asked for (the ``access_max_days`` setting)."""

    def __init__(self, graph: Graph, store: Store, datasets: Callable[[], Mapping[str, Entry]],
                 max_days: int) -> None:
        self.graph, self.store = graph, store
        self.datasets = datasets  # every data set of the catalog by name (``live.catalog``)
        self.max_days = max_days

    def dataset(self, name: str) -> Entry:
        """The data set ``name``; NotFound with the closest names."""
        found = self.datasets().get(name)
        if found is None:
            raise NotFound(f"no data set named {name[:200]!r}",
                           hint=did_you_mean(name, self.datasets(), 3)
                           + "search the catalog with `andon search WORDS`")
        return found

    def access(self, name: str) -> Access:
        """How to get access to data set ``name``; Conflict (with what to do) when it declares
        no way to ask through andon."""
        entry = self.dataset(name)
        how = entry.access
        if how is None:
            raise Conflict(f"data set {name!r} declares no access requests",
                           hint=f"ask its owner ({entry.owner or 'unknown'}); an owner enables "
                                "requests with access = {...} in its declaration")
        if how.form is None and not how.note:
            raise Conflict(f"access to {name!r} is granted outside andon",
                           hint=f"request it at {how.link}")
        return how

    # -- requests that become events -----------------------------------------------------------

    def request(self, asset: str, requester: str, reason: str, until: str | None,
                answers: Any, contact: str, now: datetime, skip: int = 0) -> AccessRequested:
        """The event asking for access to ``asset`` (the id's number is the count of requests
        on it plus one plus ``skip``: a caller whose id was taken asks again with ``skip``
        raised). BadRequest naming the field for a bad reason, date, answer or contact."""
        how = self.access(asset)
        reason = _text("reason", reason, required=True)
        day = self.until(until, now)
        stored = check_answers(how.form, answers)
        contact = _name("contact", contact) if contact else ""
        with self.store.read() as conn:
            number = queries.request_count(conn, asset) + 1 + skip
        request_id = f"{asset}:{number}"
        entry = self.dataset(asset)
        owners = tuple(o.strip() for o in entry.owner.split(",") if o.strip())
        return AccessRequested(id=request_event_id(request_id), at=now, request_id=request_id,
                               asset=asset, requester=requester, reason=reason, until=day,
                               answers=stored, contact=contact, owners=owners)

    def decide(self, request_id: str, approve: bool, text: str, now: datetime, by: str,
               role: str | None) -> AccessApproved | AccessRejected:
        """The event approving (``text``: an optional note) or rejecting (``text``: why,
        required) request ``request_id``, decided by ``by`` holding ``role`` (None: the command
        line on the store). NotFound for an unknown id, Conflict for a decided one, Forbidden
        for a caller who is neither an operator nor one of the data set's owners."""
        row = self.get(request_id)
        if row["status"] != RequestStatus.REQUESTED.value:
            raise Conflict(f"access request {request_id} was {row['status']} already (by "
                           f"{row['decided_by'] or 'andon'} at {row['decided_at'] or row['expired_at']})",
                           hint="a request is decided once; ask again for a new one")
        entry = self.datasets().get(row["asset"])
        owners = {o.strip() for o in (entry.owner if entry else "").split(",") if o.strip()}
        if role is not None and role not in DECIDERS and by not in owners:
            raise Forbidden(f"only an operator or an owner of {row['asset']!r} may decide its "
                            "access requests",
                            hint=f"ask {', '.join(sorted(owners)) or 'an operator'}")
        base = dict(id=decision_event_id(request_id), at=now, request_id=request_id,
                    asset=row["asset"], requester=row["requester"], by=by,
                    contact=row["contact"])
        if approve:
            return AccessApproved(**base, until=row["until"],
                                  note=_text("note", text, required=False))
        return AccessRejected(**base, reason=_text("reason", text, required=True))

    def subscribe(self, asset: str, consumer: str, until: str | None, now: datetime, by: str,
                  role: str | None) -> ConsumerSubscribed:
        """The event registering ``consumer`` as a consumer of ``asset`` until ``until``
        (default: as far ahead as allowed). Registering another name than one's own needs an
        operator or an owner (Forbidden)."""
        entry = self.dataset(asset)
        consumer = _name("as", consumer)
        self._may_act_for(entry, consumer, by, role)
        return ConsumerSubscribed(at=now, asset=asset, consumer=consumer,
                                  until=self.until(until, now), by=by)

    def unsubscribe(self, asset: str, consumer: str, now: datetime, by: str,
                    role: str | None) -> ConsumerUnsubscribed:
        """The event dropping ``consumer`` from ``asset``'s consumers; NotFound when it is not
        registered."""
        entry = self.dataset(asset)
        consumer = _name("as", consumer)
        self._may_act_for(entry, consumer, by, role)
        if not any(c["consumer"] == consumer for c in self.consumers(asset)):
            raise NotFound(f"{consumer!r} is not a registered consumer of {asset!r}",
                           hint=f"`andon access list --asset {asset}` shows its consumers")
        return ConsumerUnsubscribed(at=now, asset=asset, consumer=consumer, by=by)

    def until(self, until: str | None, now: datetime) -> str:
        """``until`` checked: a date (YYYY-MM-DD) after today and at most ``max_days`` ahead;
        None: the furthest allowed. BadRequest naming field ``until``."""
        today = now.date()
        last = today + timedelta(days=self.max_days)
        if until is None or until == "":
            return last.isoformat()
        try:
            day = date.fromisoformat(until) if len(until) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise BadRequest(f"field 'until' {until[:40]!r} is not a date", where="until",
                             hint="write it as YYYY-MM-DD, e.g. " + last.isoformat())
        if day <= today or day > last:
            raise BadRequest(f"field 'until' must be after today and at most {self.max_days} "
                             f"days ahead ({last.isoformat()})", where="until",
                             hint="access is asked for a while, then asked for again "
                                  "(the access_max_days setting)")
        return day.isoformat()

    def _may_act_for(self, entry: Entry, consumer: str, by: str, role: str | None) -> None:
        owners = {o.strip() for o in entry.owner.split(",") if o.strip()}
        if role is None or consumer == by or role in DECIDERS or by in owners:
            return
        raise Forbidden(f"only an operator or an owner of {entry.name!r} may register "
                        f"{consumer!r}; you are {by!r}",
                        hint="leave out --as to register yourself")

    # -- queries --------------------------------------------------------------------------------

    def requests(self, asset: str | None = None, status: str | None = None) -> list[Json]:
        """Access requests, newest first, of one data set and one status."""
        if status is not None and status not in STATUSES:
            raise BadRequest(f"field 'status' must be one of {', '.join(STATUSES)}",
                             where="status", hint="leave it out for every request")
        if asset is not None and len(asset) > 200:
            raise BadRequest("field 'asset' is longer than 200 characters", where="asset",
                             hint="name one data set")
        with self.store.read() as conn:
            return queries.request_rows(conn, asset=asset, status=status)

    def get(self, request_id: str) -> Json:
        """One access request; NotFound (with how to list them) for an unknown id."""
        with self.store.read() as conn:
            rows = queries.request_rows(conn, request_id=request_id[:300])
        if not rows:
            raise NotFound(f"no access request with id {request_id[:200]!r}",
                           hint="`andon access list` shows them (ids look like DATASET:N)")
        return rows[0]

    def consumers(self, asset: str | None = None) -> list[Json]:
        """Registered consumers (of ``asset``), with the day their access ends."""
        with self.store.read() as conn:
            rows = queries.consumer_rows(conn, None if asset is None else [asset])
        return [{**r, "ends_at": format_time(expires_at(r["until"]))} for r in rows]


def _text(field: str, value: str, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise BadRequest(f"field {field!r} is required", where=field,
                         hint=f"say why: --{field} \"...\"")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"field {field!r} is longer than {MAX_TEXT} characters", where=field,
                         hint="say it briefly; link to longer documents")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise BadRequest(f"field {field!r} holds control characters", where=field,
                         hint="write plain text")
    return text


def _name(field: str, value: str) -> str:
    """A contact or a consumer: an e-mail address or a name (a webhook's, a token's)."""
    text = value.strip()
    if not _CONSUMER.fullmatch(text):
        raise BadRequest(f"field {field!r} must be an e-mail address or a name (letters, "
                         f"digits, _ . : + @ -), at most {MAX_CONTACT} characters", where=field,
                         hint="e.g. ana@example.com or a webhook's name")
    return text
