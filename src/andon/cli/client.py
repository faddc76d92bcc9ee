"""One interface for what the commands ask of andon, whether a scheduler is running or not.

``HttpClient`` (``andon.cli.http``) talks to the project's running ``andon up`` over its API;
``LocalClient`` (``andon.cli.local``) works on the store through ``andon.live.service.Service`` and
records a write as one turn of ``andon up`` would. ``open_client`` picks one: a command parses
its arguments, makes one call and prints the answer, the same whichever client answered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from andon.model.errors import AndonError, ConfigError
from andon.model.views import Json  # an answer as the API sends it (the read side's views' JSON)

if TYPE_CHECKING:
    from andon.project.load import Project
    from andon.project.settings import Settings


class Client(Protocol):
    """The operations of the commands. Refusals raise AndonError (exit code 2) with the same
    message and hint from either client."""

    live: bool  # a scheduler is running: it decides and starts at once

    def notify(self, asset: str, partition: str, event_id: str | None) -> bool:
        """Announce a source partition; whether it was recorded (False: already)."""
        ...

    def run(self, pipeline: str, partition: str) -> None:
        """Request a manual run of one partition."""
        ...

    def backfill(self, pipeline: str, first: str, last: str) -> int:
        """Request the partitions ``first`` to ``last``; how many were requested."""
        ...

    def cancel(self, run_id: str) -> None: ...

    def cord_pull(self, asset: str, partition: str, reason: str) -> str:
        """Pull the cord on a partition; its id."""
        ...

    def cord_resolve(self, cord_id: str, note: str, manual_fix: bool) -> None: ...

    def cord_restore(self, cord_id: str, asset: str, partition: str,
                     version: int | None) -> tuple[int, str]:
        """Move a quarantined output back; the version restored and its location."""
        ...

    def deprecate(self, name: str, delete_after: str, reason: str, replacement: str,
                  kind: str | None) -> Json:
        """Deprecate a data set or pipeline; the deprecation as recorded (``recorded``: new)."""
        ...

    def deprecations(self) -> Json:
        """``{"deprecations": [...]}``: each deprecated object and its state."""
        ...

    def sweep(self, apply: bool) -> Json:
        """The sweep's plan (a dry run), or with ``apply`` what applying it did."""
        ...

    def status(self) -> Json: ...

    def plan(self) -> Json: ...

    def runs(self, pipeline: str | None, status: str | None, partition: str | None,
             limit: int) -> list[Json]: ...

    def run_of(self, run_id: str) -> Json:
        """One run (with its known-fix ``hint``, null or absent when none); NotFound."""
        ...

    def log_page(self, run_id: str, offset: int) -> tuple[str, int]:
        """One page of a run's log from byte ``offset``, and where the next page starts."""
        ...

    def log_stream(self, run_id: str, last_event_id: str) -> Iterator[dict[str, str]]:
        """A running run's log as server-sent events (their fields), after ``last_event_id``,
        until the stream ends; nothing with no scheduler running (nothing writes to a log)."""
        ...

    def cords(self, everything: bool) -> list[Json]: ...

    def cord(self, cord_id: str) -> Json: ...

    def access_request(self, asset: str, reason: str, until: str | None, answers: Json,
                       contact: str) -> Json:
        """Ask for access to a data set; the request as recorded (``request_id``...)."""
        ...

    def access_decide(self, request_id: str, approve: bool, text: str) -> Json:
        """Approve (``text``: a note) or reject (``text``: why) a request."""
        ...

    def access_requests(self, asset: str | None, status: str | None) -> list[Json]: ...

    def access_request_of(self, request_id: str) -> Json:
        """One request, with the data set's registered ``consumers``."""
        ...

    def subscribe(self, asset: str, until: str | None, as_name: str | None) -> Json:
        """Register a consumer of a data set (``as_name``; None: the caller)."""
        ...

    def unsubscribe(self, asset: str, as_name: str | None) -> Json: ...

    def search(self, query: str, kind: str | None, owner: str | None, limit: int) -> Json:
        """The catalog's best entries for ``query``: ``{"results": [...], "suggestion"}``
        (``andon.registry.search``)."""
        ...

    def catalog_declare(self, table: Json) -> Json:
        """Declare an entry of the catalog (the fields of a ``catalog.toml`` table):
        ``{"kind", "name", "id", "url"}``."""
        ...

    def catalog_remove(self, kind: str, name: str) -> Json:
        """Take an entry declared through the API out of the catalog."""
        ...

    def manual(self, kind: str | None, since: str | None) -> Json:
        """The operations manual: ``{"entries": [...]}`` (``andon.manual.views``) of ``kind``,
        seen at or after ``since`` (a date or ISO time), newest first."""
        ...

    def manual_entry(self, entry_id: str) -> Json:
        """One entry of the manual; NotFound with the closest ids."""
        ...

    def manual_resolve(self, entry_id: str, note: str, link: str, commit: str) -> Json:
        """Write down how entry ``entry_id`` was fixed: ``{"entry", "id", "recorded"}``."""
        ...

    def manual_review(self, days: int) -> Json:
        """The review of the last ``days`` days (``andon.manual.views.review_json``)."""
        ...

    def audit(self, since: str | None) -> Json:
        """The waste audit: ``{"findings": [...], ...}`` (``andon.audit.views.audit_json``),
        judging the log from ``since`` (a date or ISO time) when given."""
        ...

    def models(self) -> Json:
        """``{"models": [...]}`` (``andon.live.models.ModelSummary``), by name."""
        ...

    def model(self, name: str) -> Json:
        """One model (``andon.live.models.ModelDetail``); NotFound with the closest name."""
        ...

    def model_promote(self, name: str, version: int, reason: str) -> Json:
        """Put version ``version`` of model ``name`` into service (``andon.live.models.answer``)."""
        ...

    def model_rollback(self, name: str, reason: str) -> Json:
        """Put back the version that served before the current one (as ``model_promote``)."""
        ...

    def drift(self, asset: str, partition: str | None, since: str | None) -> Json:
        """A profiled data set's drift heat map from ``since``, or one ``partition``'s report
        (``andon.live.drift``); NotFound when it is not profiled."""
        ...


def _team_leader(settings: Settings) -> str:
    """On PostgreSQL, the API of a team's leader running elsewhere (``andon.serve.team``): the
    store is its to write. Its address comes from the database, so the token goes only where a
    standby would forward it (loopback or ``forward_hosts``, ``andon.serve.forward``)."""
    if not settings.database_url.startswith("postgresql"):
        return ""
    from andon.serve.forward import leader_address
    from andon.store.leader import live_lease

    lease = live_lease(settings.database_url)
    if lease is None:
        return ""
    hosts = {h.strip().lower() for h in settings.forward_hosts.split(",") if h.strip()}
    try:
        host, port = leader_address(lease, hosts)
    except AndonError as exc:
        raise ConfigError(f"an andon up leads this store ({lease.holder}) but the CLI cannot "
                          f"reach it: {exc.message.split(': ', 1)[-1]}",
                          hint="set ANDON_SERVER_URL to its address, or name its host in "
                               "forward_hosts (ANDON_FORWARD_HOSTS)") from None
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def open_client(project: Project, settings: Settings) -> Client:
    """The project's running ``andon up`` (``server_url``, or the one ``andon.serve.address.server_url``
    finds alive), with the token of ``api_token`` or the local one; else its store."""
    from andon.serve.address import server_url

    url = settings.server_url or server_url(settings.state_dir) or _team_leader(settings)
    if not url:
        from andon.cli.local import LocalClient

        return LocalClient(project, settings)
    from andon.cli.http import HttpClient

    token = settings.api_token
    if not token and (settings.state_dir / "token").exists():
        token = (settings.state_dir / "token").read_text().strip()
    return HttpClient(url, token)
