"""The page of one entry of the catalog, as its readers get it (``GET /api/v1/catalog/{kind}/
{name}``, the board's ``/catalog/{kind}/{name}`` and ``/assets/{name}``): the entry's fields and
the relations andon knows, each a frozen view (``andon.model.views.View``) with its JSON in one
place. Times are in the log's text form (UTC)."""

from __future__ import annotations

from dataclasses import dataclass

from andon.model.access import Access
from andon.model.views import Json, View
from andon.registry.entries import Gate
from andon.store.models import Held, Promotion
from andon.store.relations import ModelVersion, ObservedRead
from andon.store.views import RunView

STALE_DAYS = 30  # a declared consumer that has not read for this long is marked stale


@dataclass(frozen=True, slots=True, eq=False)
class DeclaredConsumer(View):
    """A pipeline the graph says reads the data set: when one of its runs last read it (None:
    never) and whether it is ``stale``: no read for STALE_DAYS days by the service's clock,
    counted from its last read, or from when the data set first had data if it never read."""

    pipeline: str
    last_read_at: str | None
    stale: bool


@dataclass(frozen=True, slots=True, eq=False)
class Consumers(View):
    """Who reads a data set, shown apart: ``declared`` (the graph's), ``observed`` (the pipelines
    whose runs really read a partition, with the last read) and ``external`` (consumers
    registered by an approved access request or ``andon subscribe``)."""

    declared: list[DeclaredConsumer]
    observed: list[ObservedRead]
    external: list[Json]
    stale_after_days: int = STALE_DAYS


@dataclass(frozen=True, slots=True, eq=False)
class Freshness(View):
    """How fresh a data set of the definitions is: its newest partition and when it was made;
    for a pipeline's output the next deliverable of its producer from the plan (partition, due
    time, predicted finish, at risk and why); for a source its usual arrival after a
    partition's end (``expected_arrival``, e.g. ``2h``)."""

    newest: str | None
    made_at: str | None
    next: str | None
    due: str | None
    predicted: str | None
    at_risk: bool
    reason: str
    expected_arrival: str


@dataclass(frozen=True, slots=True, eq=False)
class EntryView(View):
    """One entry with what andon knows about it. Every kind: its fields (``links``: label ->
    URL; ``since``: the date its lifecycle took effect), ``producer``, ``upstream`` and
    ``downstream`` (``andon.registry.entries.Entry``). A pipeline: the services and libraries it
    ``uses``, the ``models`` it makes and its newest ``runs``. A service or library: the
    pipelines that use it (``used_by``). A model: its ``versions`` (newest first;
    ``version_count`` of them in all), its ``deploy`` policy, the version ``serving`` (0: none;
    None for other kinds) and its ``promotions`` (oldest first); with a gate, its ``gate`` and
    the times a candidate was ``held`` back (newest first, only versions never promoted). A data
    set: its ``consumers`` and, from the definitions, its ``freshness``."""

    kind: str
    name: str
    owner: str
    team: str
    description: str
    tags: list[str]
    links: dict[str, str]
    lifecycle: str
    since: str | None
    access: Access | None
    url: str
    producer: str
    upstream: list[str]
    downstream: list[str]
    uses: list[str]
    models: list[str]
    used_by: list[str]
    consumers: Consumers | None = None
    freshness: Freshness | None = None
    versions: list[ModelVersion] | None = None
    version_count: int = 0
    runs: list[RunView] | None = None
    deploy: str | None = None
    serving: int | None = None
    promotions: list[Promotion] | None = None
    gate: Gate | None = None
    held: list[Held] | None = None
