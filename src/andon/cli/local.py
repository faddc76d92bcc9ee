"""The client that works on the project's store, with no ``andon up`` running: requests are
checked and built by ``andon.live.service.Service``, and every write is decided by the engine as
``andon up`` would decide it (``andon.live.offline``), through one door."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from andon.model.views import Json

if TYPE_CHECKING:
    from andon.events import Event
    from andon.project.load import Project
    from andon.project.settings import Settings


class LocalClient:
    """The operations of ``andon.cli.client.Client`` on the store, plus the token commands
    (tokens live in the store's token table, never in the event log, so they are managed here
    with or without a scheduler)."""

    live = False

    def __init__(self, project: Project, settings: Settings) -> None:
        from andon.live.service import Service
        from andon.manual.rules import load_rules
        from andon.store.sql import Store

        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.project, self.settings = project, settings
        self.service = Service(project.graph, Store(settings.database_url), project.root,
                               settings.max_backfill, settings.access_max_days,
                               load_rules(project.config, project.root,
                                          project.graph.pipelines))
        self.service.lifecycle.policy = project.sweep

    def _submit(self, events: Sequence[Event]) -> list[bool]:
        """The one door of the CLI's writes with no server: ``events`` are decided as one turn of
        ``andon up`` with the live policy would decide them, and recorded with what the engine
        decided (``andon.live.offline.submit``). Per event, whether it was new (False: its id was in
        the log already)."""
        from andon.cord.files import file_step
        from andon.live.offline import submit
        from andon.planner.live import make_planner

        graph = self.project.graph
        return submit(graph, self.service.store, events, _now(),
                      make_planner(self.settings.policy, graph),
                      file_step(self.project.root, graph, self.settings.state_dir))

    # -- writes ----------------------------------------------------------------------------------

    def notify(self, asset: str, partition: str, event_id: str | None) -> bool:
        (recorded,) = self._submit([self.service.notify(asset, partition, _now(), "notify",
                                                        event_id)])
        return recorded

    def run(self, pipeline: str, partition: str) -> None:
        self._submit([self.service.run_request(pipeline, partition, _now(), "manual", "cli")])

    def backfill(self, pipeline: str, first: str, last: str) -> int:
        events = self.service.backfill(pipeline, first, last, _now(), "cli")
        self._submit(events)
        return len(events)

    def cancel(self, run_id: str) -> None:
        self._submit([self.service.cancel(run_id, _now(), "cli")])

    def cord_pull(self, asset: str, partition: str, reason: str) -> str:
        event = self.service.cord_pull(asset, partition, reason, _now(), _user())
        self._submit([event])
        return event.cord_id

    def cord_resolve(self, cord_id: str, note: str, manual_fix: bool) -> None:
        self._submit([self.service.cord_resolve(cord_id, note, _now(), _user(), manual_fix)])

    def cord_restore(self, cord_id: str, asset: str, partition: str,
                     version: int | None) -> tuple[int, str]:
        event = self.service.output_restore(cord_id, asset, partition, version, _now(), _user())
        self._submit([event])
        return event.version, event.location

    def access_request(self, asset: str, reason: str, until: str | None, answers: Json,
                       contact: str) -> Json:
        desk = self.service.access
        for skip in range(3):  # a request recorded meanwhile took the id: count on
            event = desk.request(asset, _user(), reason, until, answers, contact, _now(), skip)
            if self._submit([event])[0]:
                break
        return desk.get(event.request_id)

    def access_decide(self, request_id: str, approve: bool, text: str) -> Json:
        desk = self.service.access
        (new,) = self._submit([desk.decide(request_id, approve, text, _now(), _user(), None)])
        if not new:
            desk.decide(request_id, approve, text, _now(), _user(), None)  # says who did
        return desk.get(request_id)

    def subscribe(self, asset: str, until: str | None, as_name: str | None) -> Json:
        desk = self.service.access
        event = desk.subscribe(asset, as_name or _user(), until, _now(), _user(), None)
        self._submit([event])
        return {"asset": event.asset, "consumer": event.consumer, "until": event.until}

    def unsubscribe(self, asset: str, as_name: str | None) -> Json:
        desk = self.service.access
        event = desk.unsubscribe(asset, as_name or _user(), _now(), _user(), None)
        self._submit([event])
        return {"asset": event.asset, "consumer": event.consumer}

    def catalog_declare(self, table: Json) -> Json:
        from andon.live.catalog import answer

        event = self.service.catalog.declare(table, _now(), _user())
        self._submit([event])
        return answer(event)

    def catalog_remove(self, kind: str, name: str) -> Json:
        from andon.live.catalog import answer

        event = self.service.catalog.remove(kind, name, _now(), _user())
        self._submit([event])
        return answer(event)

    def manual_resolve(self, entry_id: str, note: str, link: str, commit: str) -> Json:
        event = self.service.manual.resolve_event(entry_id, note, _now(), link, commit, _user())
        (new,) = self._submit([event])
        return {"entry": event.entry, "id": event.id, "recorded": new}

    def deprecate(self, name: str, delete_after: str, reason: str, replacement: str,
                  kind: str | None) -> Json:
        from andon.live.lifecycle import deprecation_json

        event = self.service.lifecycle.deprecate_event(name, delete_after, reason, _now(),
                                                        replacement or None, kind, _user())
        (recorded,) = self._submit([event])
        return deprecation_json(event, recorded)

    def deprecations(self) -> Json:
        return {"deprecations": [s.to_json() for s in self.service.lifecycle.standings(_now())]}

    def sweep(self, apply: bool) -> Json:
        if apply:
            return self.service.lifecycle.apply(_now(), _user(), self._submit).to_json()
        return self.service.lifecycle.plan(_now()).to_json()

    def model_promote(self, name: str, version: int, reason: str) -> Json:
        from andon.live.models import answer

        event = self.service.models.promote_event(name, version, _now(), reason, _user())
        (new,) = self._submit([event])
        return answer(event, new)

    def model_rollback(self, name: str, reason: str) -> Json:
        from andon.live.models import answer

        event = self.service.models.rollback_event(name, _now(), reason, _user())
        (new,) = self._submit([event])
        return answer(event, new)

    def models(self) -> Json:
        return {"models": [m.to_json() for m in self.service.models.listing()]}

    def model(self, name: str) -> Json:
        return self.service.models.show(name).to_json()

    def drift(self, asset: str, partition: str | None, since: str | None) -> Json:
        if partition is not None:
            return self.service.drift.report(asset, partition).to_json()
        return self.service.drift.heat(asset, since)

    # -- queries ---------------------------------------------------------------------------------

    def access_requests(self, asset: str | None, status: str | None) -> list[Json]:
        return self.service.access.requests(asset, status)

    def access_request_of(self, request_id: str) -> Json:
        desk = self.service.access
        found = desk.get(request_id)
        return {**found, "consumers": desk.consumers(found["asset"])}

    def status(self) -> Json:
        return self.service.status().to_json()

    def plan(self) -> Json:
        return self.service.plan(_now(), self.settings.policy).to_json()

    def runs(self, pipeline: str | None, status: str | None, partition: str | None,
             limit: int) -> list[Json]:
        return [r.to_json() for r in self.service.runs(pipeline, status, partition, limit)]

    def run_of(self, run_id: str) -> Json:
        return self.service.run(run_id).to_json()

    def log_page(self, run_id: str, offset: int) -> tuple[str, int]:
        return self.service.log_page(run_id, offset)

    def log_stream(self, run_id: str, last_event_id: str) -> Iterator[dict[str, str]]:
        return iter(())  # nothing runs without a scheduler: the log is what it is

    def cords(self, everything: bool) -> list[Json]:
        return self.service.cords(everything)

    def cord(self, cord_id: str) -> Json:
        return self.service.cord(cord_id)

    def search(self, query: str, kind: str | None, owner: str | None, limit: int) -> Json:
        return self.service.catalog.search(query, kind, owner, limit).to_json()

    def manual(self, kind: str | None, since: str | None) -> Json:
        from andon.manual.views import entries_json, parse_since

        return entries_json(self.service.manual.entries(_now(), kind, parse_since(since)))

    def manual_entry(self, entry_id: str) -> Json:
        from andon.manual.views import entry_json

        return entry_json(self.service.manual.entry(_now(), entry_id))

    def manual_review(self, days: int) -> Json:
        from andon.manual.views import review_json

        return review_json(self.service.manual.review(_now(), days))

    def audit(self, since: str | None) -> Json:
        from andon.audit.findings import audit
        from andon.audit.views import audit_json
        from andon.manual.views import parse_since

        cfg = self.project.audit
        return audit_json(audit(self.service.store, self.project.graph, cfg, _now(),
                                parse_since(since)), cfg)

    # -- API tokens (andon.live.service.Service keeps them in the store's token table) ---------------

    def tokens(self) -> list[Json]:
        return [t.to_json() for t in self.service.tokens()]

    def token_create(self, role: str, name: str) -> Json:
        return self.service.token_create(role, name, _now()).to_json()

    def token_revoke(self, ident: str) -> Json:
        return self.service.token_revoke(ident, _now()).to_json()


def _now() -> datetime:
    return datetime.now(UTC)


def _user() -> str:
    """Who the events of a write say did it: the CLI's user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container without /etc/passwd entry)
        return "cli"
