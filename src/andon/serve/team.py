"""``andon up`` in a team on PostgreSQL: lead, or stand by and take over.

Every ``andon up`` on one PostgreSQL database (and schema) tries the lead
(``andon.store.leader``). The one that gets it is a scheduler as on SQLite (``open_line``,
``serve``), its writes fenced with its token. The others stand by: they serve the API and the
board from the store, hear the leader's events through LISTEN/NOTIFY (``andon.store.feed``),
forward API writes to the leader (``andon.serve.forward``), and block in ``pg_advisory_lock``
on a thread. When the leader's session ends (a stop, a crash, ``kill -9``) PostgreSQL grants
the lock to one standby, which stops its standby server, opens the line as any start does
(replaying the log; runs in flight are adopted or recorded lost and retried per ``retries``),
bumps the fencing token and serves again on the same address. SQLite keeps one scheduler per
store: a second one is refused (``andon.store.lock``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from andon.executors.base import Executor, Report, RunSpec
from andon.executors.ended import lost_result
from andon.live.clock import RealClock
from andon.live.service import Service
from andon.manual.rules import load_rules
from andon.project.load import Project
from andon.project.settings import Settings
from andon.registry.declared import load_declared
from andon.serve.up import (
    Line,
    bind,
    ensure_local_token,
    holder_of,
    http_server,
    limits_of,
    make_executor,
    open_line,
    publish,
    serve,
    state_folder_lock,
    team_view,
    unpublish,
)
from andon.store.feed import EventFeed
from andon.store.leader import Lead, Lease, read_lease
from andon.store.sql import Store

log = logging.getLogger("andon.serve.team")


def is_team(settings: Settings) -> bool:
    """Whether ``andon up`` with these settings joins a team (a PostgreSQL store)."""
    return settings.database_url.startswith("postgresql")


def up(project: Project, settings: Settings, on_ready: Callable[[Line], None],
       on_standby: Callable[[str, Lease | None], None]) -> bool:
    """Lead, or stand by until the lead is this one's, then lead; serve until stopped. Returns
    False when the process stopped because it lost the lead (another took over), else True.
    ``on_standby(url, lease)`` is told once the standby serves."""
    lead = Lead(settings.database_url, holder_of(settings))
    standby: Standby | None = None
    try:
        if not lead.try_take():
            standby = Standby(project, settings, lead)
            if not standby.serve(on_standby):
                lead.release()
                return True  # stopped while standing by
            settings = replace(settings, port=standby.port)  # the address clients know
    except BaseException:
        lead.release()
        raise
    stopped = time.monotonic()
    executor = TakenOver(make_executor(settings, project))
    line = open_line(project, settings, executor=executor, lead=lead)
    if standby is not None:  # where a take-over's seconds go (operators, bench_failover)
        log.info("took over: the standby stopped in %.2f s, the line opened in %.2f s",
                 stopped - standby.granted, time.monotonic() - stopped)
    ensure_local_token(settings, line.store)
    serve(line, on_ready)
    return line.store.fence is None or line.store.fence.lost is None


@dataclass
class Standby:
    """A standby's server: reads from the store, live events from the feed, writes forwarded."""

    project: Project
    settings: Settings
    lead: Lead
    stop: threading.Event = field(default_factory=threading.Event)
    promoted: bool = False
    port: int = 0
    granted: float = 0.0  # time.monotonic() when the lead was granted

    def serve(self, on_standby: Callable[[str, Lease | None], None]) -> bool:
        """Serve until the lead is this one's (True) or the server is stopped (False)."""
        from andon.serve.forward import Forward
        from andon.web.app import create_app
        from andon.web.context import WebContext
        from andon.web.limits import guard

        settings, project = self.settings, self.project
        declared = load_declared(project.root, project.graph)  # refused here as at any start
        rules = load_rules(project.config, project.root, project.graph.pipelines)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        folder = state_folder_lock(settings, "give each `andon up` of a team its own state "
                                            "folder (ANDON_STATE_DIR / state_dir)")
        store = Store(settings.database_url)
        feed = EventFeed(store)
        service: Service | None = None
        try:
            ensure_local_token(settings, store)
            service = Service(project.graph, store, project.root, settings.max_backfill,
                              settings.access_max_days, rules)
            service.lifecycle.policy = project.sweep
            service.catalog.start(lambda: None, declared)
            ctx = WebContext(service, _no_submit, RealClock().now, store.token_role, project.name,
                             lambda: False, feed.subscribe, store.token_name,
                             limits_of(settings), project.audit,
                             team=team_view("standby", store))
            app = create_app(ctx)
            forward_hosts = {h.strip() for h in settings.forward_hosts.split(",") if h.strip()}
            # the Host and declared-length checks first, for forwarded writes as for the rest
            outer = guard(Forward(app, lambda: _lease(store), ctx.limits, forward_hosts),
                          ctx.limits)
            sock, url = bind(settings)
            self.port = sock.getsockname()[1]  # the leader serves on it after a take-over
            feed.start()
            server = http_server(settings, outer, self.stop, app.state.hub.close)
            threading.Thread(target=self._wait, name="andon-standby", daemon=True).start()
            publish(settings, url)
            on_standby(url, _lease(store))
            try:
                server.run(sockets=[sock])
            finally:
                unpublish(settings)
            if not self.promoted:
                self.lead.cancel()
            return self.promoted
        finally:
            feed.stop()
            if service is not None:
                service.catalog.wait()  # a build on the store being closed would fail
            store.close()
            folder.release()

    def _wait(self) -> None:
        """Block until PostgreSQL grants the lead (the leader's session ended), then stop the
        standby's server so that ``up`` opens the line."""
        try:
            taken = self.lead.wait()
            self.granted = time.monotonic()
        except Exception:
            log.exception("waiting for the lead failed; this standby stops")
            taken = False
        if taken and not self.stop.is_set():
            log.warning("the leader is gone: taking over")
            self.promoted = True
        self.stop.set()


class TakenOver:
    """A team leader's executor (``andon.executors.base.Executor``): as the one it wraps, but a
    run a former leader launched (a pid is recorded) whose run folder is not in this leader's
    state folder began elsewhere: it is reported lost (``ProcessLost``), and retried per its
    ``retries``, rather than started again as if it never began. Its old process, if it lives
    on, reports to nobody: only this leader records the run's end."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.name = inner.name

    def start(self, spec: RunSpec, report: Report) -> int:
        return self.inner.start(spec, report)

    def cancel(self, run_id: str) -> None:
        self.inner.cancel(run_id)

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        if pid and not Path(spec.run_dir).exists():
            report(lost_result(spec, f"the leader that ran it (pid {pid}) is gone; its run "
                                     f"folder is not this scheduler's"))
            return True
        return self.inner.recover(spec, pid, report)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def __getattr__(self, name: str) -> Any:  # health, close, warm, inline: the wrapped one's
        return getattr(self.inner, name)


def _lease(store: Store) -> Lease | None:
    with store.read() as conn:
        return read_lease(conn)


async def _no_submit(events: Any) -> list[bool]:
    # unreachable through the API (Forward sends every write to the leader); a page's form
    # that records would get this answer rather than a write the leader never sees
    from andon.web.context import HTTPError

    raise HTTPError(503, "this andon is a standby: it records nothing itself",
                    hint="send the change to the leader (see /api/v1/status, leader.api_url)")
