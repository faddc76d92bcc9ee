"""An entry as the store keeps it (a row of ``andon.store.catalog``) and as the API declares it
(``catalog.entry_declared``), and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from andon.events.catalog import CatalogEntryDeclared, Link
from andon.model.access import Access, parse_access
from andon.registry.entries import Entry
from andon.store.catalog import API, DEFINITIONS, FILE


def row_of(entry: Entry) -> dict[str, Any]:
    """The store's row of one of the project files' entries (``andon.store.catalog.sync``)."""
    return dict(kind=entry.kind, name=entry.name, origin=FILE if entry.declared else DEFINITIONS,
                owner=entry.owner, team=entry.team, description=entry.description,
                tags=list(entry.tags), links=[list(link) for link in entry.links],
                lifecycle=entry.lifecycle, since=entry.since.isoformat() if entry.since else "",
                access=access_text(entry.access), producer=entry.producer, upstream=list(entry.upstream),
                downstream=list(entry.downstream), defined_in=entry.where)


def entry_of_row(row: Mapping[Any, Any]) -> Entry:
    """The entry a row of the store's catalog holds."""
    return Entry(row["kind"], row["name"], row["owner"], row["description"],
                 tuple(json.loads(row["tags"])), row["team"],
                 tuple((label, url) for label, url in json.loads(row["links"])),
                 row["lifecycle"], date.fromisoformat(row["since"]) if row["since"] else None,
                 access_of(row["access"]), row["producer"], tuple(json.loads(row["upstream"])),
                 tuple(json.loads(row["downstream"])), where=row["defined_in"],
                 declared=row["origin"] != DEFINITIONS)


def declared_event(entry: Entry, now: datetime, by: str) -> CatalogEntryDeclared:
    """The event recording ``entry`` (checked by ``andon.registry.declared.entry_of``) as
    declared through the API."""
    return CatalogEntryDeclared(
        at=now, kind=entry.kind, entry=entry.name, owner=entry.owner,
        description=entry.description, tags=entry.tags, team=entry.team,
        links=tuple(Link(label, url) for label, url in entry.links), lifecycle=entry.lifecycle,
        since=entry.since.isoformat() if entry.since else "",
        access=access_text(entry.access), by=by)


def is_api(row: Mapping[Any, Any]) -> bool:
    return bool(row["origin"] == API)


def access_text(access: Access | None) -> str:
    """How an entry's access declaration is kept in an event and a row: its JSON ("" for
    none)."""
    if access is None:
        return ""
    return json.dumps(access.to_json(), separators=(",", ":"), sort_keys=True)


def access_of(text: str) -> Access | None:
    """The access declaration ``access_text`` kept (checked when it was declared)."""
    if not text:
        return None
    access, _ = parse_access(json.loads(text))
    return access
