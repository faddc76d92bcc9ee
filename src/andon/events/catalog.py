"""The catalog's events: entries declared (or removed) through the API, and an entry seen
deprecated. Entries of the definitions and of ``catalog.toml`` are not events: they are read
from the project's files (``andon.registry``), which are versioned with the project; that one of
them is deprecated is, once, so that its consumers are told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from andon.events import Event


@dataclass(frozen=True)
class Link:
    """One link of an entry: its label (code, docs, dashboard...) and URL."""

    label: str
    url: str


@dataclass(frozen=True, kw_only=True)
class CatalogEntryDeclared(Event):
    """An entry of the catalog declared through the API (``POST /api/v1/catalog/entries``,
    ``andon catalog declare``), checked as a ``catalog.toml`` table is. Declaring ``kind``
    ``entry`` again replaces it. ``since``: the ISO date its ``lifecycle`` took effect ("" for
    none); ``by``: who declared it."""

    name: ClassVar[str] = "catalog.entry_declared"
    kind: str
    entry: str
    owner: str
    description: str = ""
    tags: tuple[str, ...] = ()
    team: str = ""
    links: tuple[Link, ...] = ()
    lifecycle: str = "active"
    since: str = ""
    access: str = ""  # how to get access: the declaration's JSON (link, note, form), "" for none
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class CatalogEntryRemoved(Event):
    """An entry declared through the API is taken out of the catalog (``POST
    /api/v1/catalog/entries/{kind}/{name}/remove``)."""

    name: ClassVar[str] = "catalog.entry_removed"
    kind: str
    entry: str
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class CatalogEntryDeprecated(Event):
    """andon saw entry ``kind`` ``entry`` deprecated, to be retired on ``since`` (an ISO date),
    in the project's files or through the API: recorded once per entry and date (its id is
    derived from them), and told to its ``owner`` and, for a data set, to those who hear of it
    (its owners, subscribers and registered consumers)."""

    name: ClassVar[str] = "catalog.entry_deprecated"
    kind: str
    entry: str
    since: str
    owner: str = ""


CATALOG_EVENTS = (CatalogEntryDeclared, CatalogEntryRemoved)
