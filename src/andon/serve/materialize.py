"""``andon.materialize``: make partitions from code, a test or a CI job, and hand back what
happened — with the same engine, planner, checks and cord as ``andon up``.

There is no second scheduler here. ``materialize`` opens the line ``andon up`` opens
(``andon.serve.up.open_line``: the runner, the executors, the check runner, the cord's file step)
on a store of its own, announces the source partitions (placing given files at their locations
first), requests the runs asked for, and waits until nothing more can run on the line (the one
test of it, ``andon.serve.rest``: the engine at rest, the runner and the checks and the other
listeners idle, nothing more committed since the last look). A retry whose back-off would keep it
waiting is jumped over (the
line runs on ``andon.live.clock.SkipClock``: real time plus the waits skipped), so it returns as
soon as everything that can run has run. ``settle`` is also what ``andon run --wait`` and
``andon backfill --wait`` use when no scheduler is running.

The store is a temporary SQLite file in a temporary folder (with the run logs), removed when
``materialize`` returns; SQLite's ``:memory:`` cannot be used, because the runner writes from its
own thread while the checks read from theirs, and each connection to ``:memory:`` is a new,
empty database. Give ``store=`` a path to keep the store and its logs.
"""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from andon.events import Event, RunRequested
from andon.live.clock import SkipClock
from andon.live.service import Service
from andon.model.errors import AndonError, BadRequest, ConfigError
from andon.project.load import Project, find_root, load_project
from andon.project.settings import Settings, resolve
from andon.serve.outcome import MaterializeError, MaterializeResult, collect
from andon.serve.rest import Rest, look
from andon.serve.sources import SourceSpec, announcements, check_names, placed
from andon.serve.tally import Ended, Tally
from andon.serve.up import Line, open_line

EXECUTORS = ("inprocess", "local")
MEMORY = ":memory:"
LOOK = 3600.0  # seconds per wait on the runner; a wait that long is looked at again
Progress = Callable[[Tally, Sequence[Ended]], None]  # see andon.serve.tally


class WaitTimeout(AndonError):
    """Waiting for the runs asked for took longer than the caller allowed."""

    exit_code = 3


def materialize(project: Project | Path | str = ".", partitions: Sequence[str] = (),
                pipelines: Sequence[str] | None = None,
                sources: Mapping[str, SourceSpec] | None = None,
                executor: str = "inprocess", store: str | Path = MEMORY,
                raise_on_failure: bool = True, timeout: float | None = None,
                progress: Progress | None = None) -> MaterializeResult:
    """Make ``partitions`` of the project at ``project`` (a folder, or a loaded ``Project``) and
    return every run, output, log, check result and cord event.

    - ``partitions``: partition keys (``"2026-01-05"``); each source whose partitions take the
      key is announced for it (``sources`` says how its file gets there).
    - ``pipelines``: None (default) runs what the announced data triggers, as ``andon up``
      would; a list also requests each of these pipelines for each key (``andon run``) when
      the data did not already make it, and each must then succeed.
    - ``sources``: asset -> a file for every key, ``{key: file}`` per key, or a callable
      ``(key, path)`` that writes a stand-in at ``path``. Files are copied to the asset's
      location; a source not named is announced when its file is already there.
    - ``executor``: ``inprocess`` (default; in this process) or ``local`` (a process per run).
    - ``store``: ``":memory:"`` (a temporary store, removed afterwards) or a SQLite file path.
    - ``timeout``: seconds to wait at most (None: until settled); WaitTimeout after that.
    - ``progress``: called on the runner's thread as runs are queued and end, with the
      ``andon.serve.tally.Tally`` (done, total, failed, ``eta()``) and the runs just ended.

    Notifications and OpenLineage events the project configures go out as from ``andon up``.

    Raises MaterializeError (``.result`` has everything) when a run's last attempt failed or a
    partition asked for never ran, unless ``raise_on_failure`` is False; AndonError (exit 2)
    for a wrong argument, before anything runs. Outputs are written where the project's
    locations say (``result.output(asset, key)``)."""
    if executor not in EXECUTORS:
        raise BadRequest(f"executor {executor!r} is not known", hint="use 'inprocess' or 'local'")
    loaded = project if isinstance(project, Project) else load_project(find_root(Path(project)))
    keys = _keys(partitions)
    with tempfile.TemporaryDirectory(prefix="andon-materialize-") as tmp:
        temporary = str(store) == MEMORY
        state_dir = Path(tmp) if temporary else Path(store).resolve().parent
        database = Path(tmp) / "andon.db" if temporary else Path(store).resolve()
        settings = resolve(loaded.root, {"executor": executor, "state_dir": str(state_dir),
                                         "database_url": f"sqlite:///{database}"},
                           {}, loaded.settings_table)
        result = drive(loaded, settings, keys, pipelines, sources or {}, not temporary,
                       timeout, progress)
    if raise_on_failure and not result.ok:
        raise MaterializeError(result)
    return result


def drive(project: Project, settings: Settings, keys: Sequence[str],
          pipelines: Sequence[str] | None, sources: Mapping[str, SourceSpec],
          keep_logs: bool, timeout: float | None = None,
          progress: Progress | None = None) -> MaterializeResult:
    """Open the line on ``settings``' store, announce and request, settle, collect, close."""
    graph = project.graph
    names = list(pipelines) if pipelines is not None else []
    for name in names:
        if name not in graph.pipelines:
            raise BadRequest(f"no pipeline named {name!r}",
                             hint="known pipelines: " + ", ".join(sorted(graph.pipelines)))
    check_names(graph, sources, keys)
    if len(keys) > settings.max_backfill:  # the one limit on partitions per request
        raise BadRequest(f"{len(keys)} partitions are more than max_backfill "
                         f"({settings.max_backfill}) in one call",
                         hint="split them into several calls, or raise the max_backfill setting")
    if not keys:
        raise BadRequest("no partition given", hint="name at least one: --partition 2026-01-05")
    clock = SkipClock()
    line = _open(project, settings, clock, progress)
    try:
        after = line.store.last_seq()
        found = announcements(project, line.service, placed(project, sources, keys),
                              keys, clock.now())
        _submit(line, found)
        settle(line, clock, timeout)
        made = {(r.pipeline, r.partition) for r in
                collect(line.store, project.root, after, keep_logs).runs}
        asked = [(p, line.service.run_request(p, k, clock.now()).partition)
                 for p in names for k in keys]
        _submit(line, [line.service.run_request(p, k, clock.now(), reason="manual", by="materialize")
                       for p, k in asked if (p, k) not in made])
        settle(line, clock, timeout)
        ran = {(r.pipeline, r.partition) for r in
               collect(line.store, project.root, after, keep_logs).runs}
        waiting = [t for t in asked if t not in ran]
        return collect(line.store, project.root, after, keep_logs, waiting, tuple(asked))
    finally:
        line.close()
        gc.unfreeze()  # open_line froze the heap for a long-lived scheduler; this one is done


def run_requests(project: Project, settings: Settings,
                 build: Callable[[Service], Sequence[RunRequested]],
                 timeout: float | None = None, progress: Progress | None = None
                 ) -> MaterializeResult:
    """Record the requests ``build`` makes with the line's service (``andon run`` /
    ``backfill``) on the project's own store with no scheduler running, execute them and what
    follows, and return once settled: ``andon run --wait`` without ``andon up``. ``asked``: the
    (pipeline, partition) requested; ``waiting``: those that never ran."""
    clock = SkipClock()
    line = _open(project, settings, clock, progress)
    try:
        after = line.store.last_seq()
        requests = build(line.service)
        _submit(line, requests)
        settle(line, clock, timeout)
        asked = tuple(dict.fromkeys((r.pipeline, r.partition) for r in requests))
        ran = {(r.pipeline, r.partition) for r in collect(line.store, project.root, after,
                                                          True).runs}
        return collect(line.store, project.root, after, True,
                       [t for t in asked if t not in ran], asked)
    finally:
        line.close()
        gc.unfreeze()


def _open(project: Project, settings: Settings, clock: SkipClock,
          progress: Progress | None) -> Line:
    """The line ``andon up`` opens, with ``progress`` told of each run as it is queued and ends."""
    line = open_line(project, settings, clock)
    if progress is not None:
        slots = sum(p.capacity for p in project.graph.pools.values())
        line.runner.subscribe(Tally(line.runner.policy.stats.duration, slots, progress).on_events)
    return line


def _submit(line: Line, events: Iterable[Event]) -> None:
    for future in [line.runner.submit(e) for e in events]:
        future.result()


def settle(line: Line, clock: SkipClock, timeout: float | None = None) -> None:
    """Wait until nothing more can run (``andon.serve.rest.look``: the engine at rest, the runner
    and every listener that submits back to it idle, nothing committed since the last look); a
    queued retry's back-off is skipped on ``clock``. WaitTimeout after ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = LOOK if deadline is None else min(LOOK, deadline - time.monotonic())
        if left <= 0:
            raise WaitTimeout("the runs did not settle within the time allowed",
                              hint="raise the timeout, or look at `andon runs` for a stuck run")
        found = look(line, left)
        if found is Rest.AT_REST:
            return
        if found is Rest.WAITING:  # idle, yet runs are queued: a retry's back-off, skipped
            now = clock.now()
            later = [r.not_before for r in list(line.runner.state.queue.values())
                     if r.not_before is not None and r.not_before > now]
            if later:
                clock.skip_to(min(later))  # wakes the runner
            else:  # startable now: the runner's wake-up for it is on its way; ask at once
                line.runner.wake()


def _keys(partitions: Sequence[str] | str) -> list[str]:
    """The partition keys, checked for type and count (each key itself by its scheme later)."""
    if isinstance(partitions, str):
        partitions = [partitions]
    keys = list(dict.fromkeys(partitions))
    for key in keys:
        if not isinstance(key, str) or not key or len(key) > 100:
            raise ConfigError(f"partition key {key!r} is not a key",
                              hint="give keys as text, like '2026-01-05'")
    return keys
