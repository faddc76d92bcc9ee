"""``andon up``: the scheduler, the executors, the file watcher and the HTTP server, wired."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from andon.checks.runner import CheckRunner
from andon.events import Event
from andon.executors.base import Executor
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.lineage.emitter import LineageEmitter, make_sender
from andon.live.clock import Clock, RealClock
from andon.live.driftkeeper import DriftKeeper
from andon.live.gate import GateKeeper
from andon.live.modelchecks import ModelChecks, drift_reader, measurements
from andon.live.models import AutoPromoter
from andon.live.runner import Runner
from andon.live.service import Service
from andon.manual.rules import load_rules
from andon.model.errors import ConfigError
from andon.model.graph import Graph
from andon.model.tokens import digest, new_token
from andon.notify.config import notify_config
from andon.notify.notifier import Notifier, start_notifier
from andon.planner.live import make_planner
from andon.project.load import Project
from andon.project.settings import Settings
from andon.registry.declared import load_declared
from andon.serve.address import folder_lock
from andon.store.leader import Lead, read_lease
from andon.store.lock import FileLock, SchedulerLock, lock_scheduler
from andon.store.sql import Store

log = logging.getLogger("andon.serve.up")


def make_executor(settings: Settings, project: Project) -> Executor:
    """The executor of ``settings``. Runs' environments are built from this process's (the
    edge's) environment: the base variables and what each pipeline declares, never andon's own
    (docs/settings.md, "The environment of a run")."""
    if settings.executor == "dask":  # distributed is imported only then
        from andon.executors.daskcluster import make_dask_executor

        return make_dask_executor(settings, project)
    if settings.executor == "inprocess":
        def resolve(name: str) -> Any:
            return project.graph.pipelines[name].fn
        return InProcessExecutor(resolve, os.environ, settings.max_log_bytes)
    declared = sorted({n for p in project.graph.pipelines.values() for n in p.env})
    executor = LocalProcessExecutor(kill_grace=settings.kill_grace, environ=os.environ,
                                    max_log_bytes=settings.max_log_bytes, server_names=declared)
    executor.warm(str(project.root))  # the fork server loads the project while andon starts
    return executor


def ensure_local_token(settings: Settings, store: Store) -> str:
    """The project's local admin token (STATE_DIR/token, mode 600), created on first use."""
    path = settings.state_dir / "token"
    if path.exists():
        token = path.read_text().strip()
        if store.token_role(digest(token)):
            return token
    token = new_token()
    store.add_token(digest(token), "admin", "local", datetime.now(UTC))
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


@dataclass
class Line:
    """A running andon: runner, service and (once serving) the HTTP address."""

    project: Project
    settings: Settings
    store: Store
    runner: Runner
    service: Service
    clock: Clock
    url: str = ""
    stop_event: threading.Event = field(default_factory=threading.Event)
    lock: SchedulerLock | None = None  # the store's scheduler lock (andon.store.lock)
    folder_lock: SchedulerLock | None = None  # STATE_DIR/scheduler.lock
    checks: CheckRunner | None = None
    model_checks: ModelChecks | None = None
    promoter: AutoPromoter | None = None
    drift_keeper: DriftKeeper | None = None
    notifier: Notifier | None = None
    lineage: LineageEmitter | None = None

    def announce(self, asset: str, partition: str, origin: str = "file") -> None:
        self.runner.submit(self.service.notify(asset, partition, self.clock.now(), origin))

    def close(self) -> None:
        """Stop the runner (runs executing in their own processes go on), close the store and
        let the next scheduler in."""
        self.stop_event.set()
        self.runner.stop()
        if self.checks is not None:
            self.checks.shutdown(wait=False)
        if self.model_checks is not None:
            self.model_checks.shutdown(wait=False)
        if self.promoter is not None:
            self.promoter.shutdown(wait=False)
        if self.drift_keeper is not None:
            self.drift_keeper.shutdown(wait=False)
        if self.notifier is not None:  # a moment for what the last turn announced
            self.notifier.sender.idle(1.0)
            self.notifier.sender.stop()
        if self.lineage is not None:
            self.lineage.close()
        close = getattr(self.runner.executor, "close", None)
        if close is not None:  # a fork server (its runs go on)
            close()
        self.service.catalog.wait()  # a build on the store being closed would crash SQLite
        self.store.close()
        _unlock(self.folder_lock, self.lock)
        self.lock = self.folder_lock = None


def _lock_scheduler(settings: Settings, lead: Lead | None = None
                    ) -> tuple[SchedulerLock, SchedulerLock]:
    """Take the store's scheduler lock (``andon.store.lock``: two schedulers on one store would
    both start every run, wherever their state folders are), then the state folder's (its token,
    server.json and run logs have one owner), or fail naming the holder. The kernel and
    PostgreSQL drop both locks when their holder dies, even by ``kill -9``. ``lead``: the store's
    lock already taken (a team's standby that took over, ``andon.serve.team``)."""
    store_lock = lead if lead is not None else lock_scheduler(settings.database_url,
                                                              holder_of(settings))
    try:
        return store_lock, state_folder_lock(settings, "stop it first, or give this one its own "
                                                       "state folder (ANDON_STATE_DIR / state_dir)")
    except BaseException:
        store_lock.release()
        raise


def state_folder_lock(settings: Settings, hint: str) -> FileLock:
    """The state folder's lock (its token, server.json and run logs have one owner), or a
    ConfigError naming the process that holds it, with ``hint`` as the fix."""
    path = folder_lock(settings.state_dir)

    def refused(holder: str) -> ConfigError:
        return ConfigError(f"another andon scheduler ({holder}) is already running from this "
                           f"state folder", where=str(settings.state_dir), hint=hint)

    def cannot_open(exc: OSError) -> ConfigError:
        return ConfigError(f"cannot create the state folder's lock: {exc.strerror}",
                           where=str(path), hint="check the state folder's permissions")

    return FileLock(path, holder_of(settings), refused, cannot_open)


def holder_of(settings: Settings) -> str:
    """How this process names itself to other schedulers (locks, the lease)."""
    return f"pid {os.getpid()} on {socket.gethostname()}, state folder {settings.state_dir}"


def _unlock(*locks: SchedulerLock | None) -> None:
    for lock in locks:
        if lock is not None:
            lock.release()


def open_line(project: Project, settings: Settings, clock: Clock | None = None,
              executor: Executor | None = None, lead: Lead | None = None) -> Line:
    """Take the scheduler lock (or use ``lead``, taken already), open the store, recover the
    state from the log and start the runner thread. On PostgreSQL the lock is a team's lead
    (``andon.store.leader``): the store's writes are fenced with its token, and a lost lead
    stops this ``andon up``."""
    clock = clock or RealClock()
    notify = notify_config(project.config, settings, project.graph, project.name)  # fail early
    # catalog.toml, read once: a wrong one refuses the start, as `andon validate` refuses it,
    # and the catalog's first build takes the entries read here
    declared = load_declared(project.root, project.graph)
    rules = load_rules(project.config, project.root, project.graph.pipelines)  # likewise
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    lock, folder_lock = _lock_scheduler(settings, lead)
    stop_event = threading.Event()
    lineage_sender = None
    made = None
    try:  # the OpenLineage sender first: a missing extra stops the start before any work
        lineage_sender = make_sender(settings.openlineage_transport, settings.openlineage_url,
                                     settings.notify_timeout)
        if executor is None:  # its fork server loads the project while the store is made
            executor = made = make_executor(settings, project)
        store = Store(settings.database_url)
        if isinstance(lock, Lead):  # the next fencing token; writes check it from now on
            lock.bump()
            store.fence = lock.fence(stop_event.set)
            store.identity.guard(store.fence.problem)
        # a state folder deleted or replaced under the scheduler stops its writes too: its run
        # logs, token and quarantine would otherwise go to a folder nobody sees
        store.watch(settings.state_dir, "state folder")
        if lock.path is not None:  # a new lock file would let a second scheduler in
            store.watch(lock.path, "scheduler lock file")
        runner = Runner(project.graph, store, executor,
                        project.root, settings.state_dir / "runs", clock,
                        make_planner(settings.policy, project.graph), advise=settings.plan_worker)
        made = None  # the runner's from here: runs it adopts outlive a failed start
        runner.keeper.every = settings.snapshot_every  # then a snapshot after each N events
        runner.keeper.freeze = True  # the loaded state out of the collector's way (live.snapshots)
        runner.subscribe(lambda events: runner.keeper.committed(runner.state, events, clock.now()))
        found = runner.recover()
    except BaseException:
        _unlock(folder_lock, lock)
        if lineage_sender is not None:
            lineage_sender.close()
        if made is not None:  # made for this start, no run in it: its fork server goes
            made.shutdown()
        raise
    if found:
        log.warning("recovered %d run(s) that were executing when andon last stopped", found)
    # the replayed state lives as long as the scheduler: keep it out of the collector's full
    # passes, which otherwise walk all of it every few hundred milliseconds on a busy server
    gc.collect()
    gc.freeze()
    # checks read data and notifications wait on receivers: both work on their own threads and
    # come back to the scheduler as events
    checks = CheckRunner(project.graph, project.checks, project.root, runner.submit, clock.now,
                         lambda asset, key: runner.state.version(asset, key),
                         workers=settings.check_workers)
    notifier = start_notifier(project.graph, notify, runner.submit, clock.now,
                              forecast=remake_delay(project.graph, runner.policy.stats.duration),
                              consumers=store.consumers_of)
    runner.subscribe(checks.on_events)
    # versions no listener heard of (announced with no scheduler, or made as the last one died)
    # are checked now, before the runner starts: any later one reaches the listener instead
    owed_checks = 0
    if project.checks:  # the backlog's queries are imported only for a project with checks
        from andon.checks.backlog import owed

        owed_checks = checks.catch_up(owed(store, project.checks))
    if owed_checks:
        log.info("checking %d partition version(s) made while no scheduler ran", owed_checks)
    runner.subscribe(notifier.on_events)
    lineage = None
    if lineage_sender is not None or settings.openlineage_file:
        lineage = LineageEmitter(settings.openlineage_namespace, lineage_sender,
                                 project.root / settings.openlineage_file
                                 if settings.openlineage_file else None)
        runner.subscribe(lineage.on_events)
    service = Service(project.graph, store, project.root, settings.max_backfill,
                      settings.access_max_days, rules)
    service.lifecycle.policy = project.sweep  # [sweep] and the retention of the data sets
    # a failed run's notification tells what the manual knows of its problem (asked on the
    # sender's threads), from the first run on
    notifier.hint = lambda run_id: \
        h.text if (h := service.manual.hints([run_id]).get(run_id)) is not None else None
    # the promotions a deploy = "auto" model owes (the policies are the catalog's): each new
    # version is promoted as its run succeeds, from the first run on (armed once the catalog
    # is built, below, when it also catches up on versions made while andon was down)
    # what measures each model (its performance pipelines, the profiled data it trains on):
    # its checks judge the version serving on each measurement (a blocking breach pulls the
    # cord on that version) and a gated model's candidate is judged on it before promotion
    performance_of, trains_on = measurements(project.graph)
    drift_of = drift_reader(service.drift)
    service.models.gate = GateKeeper(store, performance_of, trains_on, drift_of).verdict
    promoter = AutoPromoter(service.models, runner.submit, clock.now, performance_of)
    runner.subscribe(promoter.on_events)
    model_checks = ModelChecks(project.model_checks, service.models, runner.submit, clock.now,
                               performance_of, trains_on, drift_of)
    runner.subscribe(model_checks.on_events)
    # each profiled partition's drift report is computed as its run succeeds, and kept
    drift_keeper = DriftKeeper(service.drift, trains_on)
    runner.subscribe(drift_keeper.on_events)
    adapt = getattr(runner.executor, "adapt_to", None)
    if adapt is not None:  # an adaptive Dask cluster follows the queue and the forecast
        adapt(runner.state, runner.plan.latest)
        runner.subscribe(lambda _events: adapt(runner.state, runner.plan.latest))
    runner.start()
    service.live_plan = runner.plan.view  # the runner's latest forecast, not a replay of the log
    service.live_workers = runner.workers  # slots busy and the executor's health, from memory
    service.live_problems = runner.problems  # what the replay found inconsistent in the log
    service.live_restore = runner.restore  # a restore's file move on the runner thread
    # the search is built in the background (searches wait for it); then the deprecated entries
    # it found are recorded, each once, so that their consumers are told, and the promoter armed

    def built() -> None:
        for event in service.catalog.deprecations(clock.now()):
            runner.submit(event)
        promoter.arm()

    service.catalog.start(built, declared)
    return Line(project, settings, store, runner, service, clock, stop_event=stop_event, lock=lock,
                folder_lock=folder_lock, checks=checks, model_checks=model_checks, promoter=promoter,
                drift_keeper=drift_keeper,
                notifier=notifier, lineage=lineage)


def remake_delay(graph: Graph, duration: Callable[[str], float]
                 ) -> Callable[[str, str, Sequence[tuple[str, str]]], timedelta | None]:
    """The planner's estimate of a cord's delay: after the fix, the bad partition and everything
    it affected are re-made in dependency order, so the deliverables wait at least the longest
    chain of predicted run times through the affected pipelines."""
    def delay(asset: str, partition: str, affected: Sequence[tuple[str, str]]) -> timedelta | None:
        names = {graph.producer[a] for a, _ in affected if a in graph.producer}
        if asset in graph.producer:
            names.add(graph.producer[asset])
        if not names:
            return None
        longest: dict[str, float] = {}
        for name in graph.order:  # dependency order: upstream first
            if name not in names:
                continue
            before = [longest[graph.producer[i.asset]] for i in graph.pipelines[name].inputs
                      if graph.producer.get(i.asset) in longest]
            longest[name] = max(before, default=0.0) + duration(name)
        return timedelta(seconds=max(longest.values()))
    return delay


def _submitter(runner: Runner) -> Callable[[Sequence[Event]], Any]:
    import asyncio  # the HTTP server's: a run of the line alone never needs the event loop

    async def submit(events: Sequence[Event]) -> list[bool]:
        futures = [runner.submit(e) for e in events]
        return [await asyncio.wrap_future(f) for f in futures]
    return submit


def _with_date(app: Any) -> Any:
    """Add the Date header per response (uvicorn's own one is refreshed by a 0.1 s timer, which
    an idle andon must not run)."""
    from email.utils import formatdate

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_dated(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"date", formatdate(usegmt=True).encode())]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_dated)

    return wrapped


def _server(config: Any, stop: threading.Event, on_stop: Callable[[], None] | None = None) -> Any:
    """A uvicorn server that sleeps until ``stop`` is set (no 0.1 s tick) and, on SIGINT or
    SIGTERM, stops gracefully without re-raising the signal, so the clean-up runs and the exit
    code is 0. A second Ctrl-C forces the exit. ``on_stop`` runs on the server's loop when the
    stop begins."""
    import asyncio

    import uvicorn

    class Server(uvicorn.Server):
        async def main_loop(self) -> None:
            await self.on_tick(0)
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)
            if on_stop is not None:
                on_stop()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True
            stop.set()

    return Server(config)


def serve(line: Line, on_ready: Callable[[Line], None] | None = None) -> None:
    """Serve the HTTP API until interrupted (Ctrl-C, SIGTERM) or ``line.stop_event`` is set.
    On the way out the runner commits what it was handed and stops; runs executing in their own
    processes go on, and the next ``andon up`` adopts them."""
    from andon.live.watcher import start_watcher
    from andon.web.app import create_app
    from andon.web.context import WebContext

    settings = line.settings
    lead = line.lock if isinstance(line.lock, Lead) else None
    ctx = WebContext(line.service, _submitter(line.runner), line.clock.now, line.store.token_role,
                     line.project.name, line.runner.alive, line.runner.subscribe,
                     line.store.token_name, limits_of(settings),
                     line.project.audit,
                     team=None if lead is None else team_view("leader", line.store))
    sock, line.url = bind(settings)
    if lead is not None:  # a team's standbys forward writes there (andon.serve.forward)
        lead.advertise(advertised(settings, line.url))
    app = create_app(ctx)
    server = http_server(settings, app, line.stop_event, app.state.hub.close)
    start_watcher(line.project.graph, line.project.root, line.announce, line.stop_event)
    publish(settings, line.url)
    if on_ready:
        threading.Thread(target=on_ready, args=(line,), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        line.stop_event.set()
        unpublish(settings)
        line.close()
        log.info("andon stopped")


def team_view(role: str, store: Store) -> Callable[[], dict[str, Any]]:
    """What ``/api/v1/status`` says of a team on PostgreSQL: this process's ``role`` ("leader"
    or "standby") and the lease (``andon.store.leader``: holder, API address, fencing token)."""
    def view() -> dict[str, Any]:
        with store.read() as conn:
            lease = read_lease(conn)
        return {"role": role, "leader": None if lease is None else lease.to_json()}
    return view


def limits_of(settings: Settings) -> Any:
    """The request limits of the server (``andon.web.limits.Limits``) from the settings."""
    from andon.web.limits import Limits, allowed_hosts

    return Limits(settings.max_body_bytes, settings.max_json_depth, settings.max_string_bytes,
                  settings.log_page_bytes, allowed_hosts(settings.host, settings.allowed_hosts))


def bind(settings: Settings) -> tuple[socket.socket, str]:
    """The listening socket of the server and its URL (connections queue from now on)."""
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say TCP,
    # and with Nagle on, a response written in two parts waits ~40 ms for the client's delayed ACK
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(2048)  # connections queue from now on, so the address can be published
    port = sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return sock, f"http://{host}:{port}"


def advertised(settings: Settings, url: str) -> str:
    """The address others reach this server at: ``advertise_url``, else the bound one (a
    wildcard host as 127.0.0.1: others on this machine)."""
    if settings.advertise_url:
        return settings.advertise_url.rstrip("/")
    return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//127.0.0.1:")


def http_server(settings: Settings, app: Any, stop: threading.Event,
                on_stop: Callable[[], None] | None = None) -> Any:
    """The uvicorn server of ``app`` (run it with ``.run(sockets=[...])``)."""
    import uvicorn

    from andon.web.conn import guarded_protocol

    # open event streams would keep uvicorn's graceful shutdown waiting: end them as it begins;
    # slow clients are cut off by the header timeout and the per-client cap (andon.web.conn);
    # h11 already answers 400 to headers past 16 KB
    protocol = guarded_protocol(settings.header_timeout, settings.max_client_connections)
    return _server(uvicorn.Config(_with_date(app), log_level="warning", lifespan="off",
                                  access_log=False, date_header=False,
                                  timeout_graceful_shutdown=5, http=protocol), stop, on_stop)


def publish(settings: Settings, url: str) -> None:
    """Write STATE_DIR/server.json (the CLI finds the server there)."""
    info = settings.state_dir / "server.json"
    tmp = info.with_name(f".server.json.{os.getpid()}")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    os.replace(tmp, info)  # readers see all of it or nothing


def unpublish(settings: Settings) -> None:
    """Remove STATE_DIR/server.json if this process wrote it."""
    info = settings.state_dir / "server.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(info.read_text()).get("pid") == os.getpid():
            info.unlink()
