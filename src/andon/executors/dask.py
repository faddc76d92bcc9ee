"""The Dask executor: each run is one task on a worker of a Dask ``distributed`` cluster
(``pip install 'andon[dask]'``; ``distributed`` is imported only here, when it is chosen).

A run's task (``andon.executors.daskworker.run_task``) forks the run's process from its worker's
warm fork server (``daskfork``: a worker plugin, started on the worker's first run, dying with
the worker and taking its runs along), or spawns it. It asks for its pipeline's pool as a worker
resource (``pool-NAME``: the pipeline's ``slots``), so a run goes only to a worker that declared
room in that pool, and a worker never takes more of a pool than it declared; andon's own slot
accounting still caps each pool across the cluster. The run's log streams back as Dask events
(``andon-log``) and is written, capped and masked, into ``STATE_DIR/runs/RUN_ID/log.txt`` as it
comes; the task's result is the child's ``ExecResult``.

Cancel broadcasts ``daskworker.cancel_runs`` to the workers (the one running it ends the run's
tree) and drops the task if no worker had begun it. A timeout is kept on the worker. A worker that
dies mid-run is Dask's own signal: with ``distributed.scheduler.allowed-failures`` = 0 the
scheduler errs the task with ``KilledWorker`` at once, and the run is reported lost
(``ProcessLost``), to be retried per its ``retries``. A restarted andon cannot follow the tasks of
the client that died with its predecessor: ``recover`` ends them wherever they run and reports
them lost.

``make_dask_executor`` connects to ``dask_scheduler``, or, without one, starts a ``LocalCluster``
of worker processes whose resources cover the project's pools (``daskadapt``: optionally adaptive,
driven by andon's queue and forecast).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from andon.executors.base import ExecResult, Report, RunSpec
from andon.executors.child import write_atomic
from andon.executors.daskworker import LOG_TOPIC, cancel_runs, run_task
from andon.executors.ended import lost_result
from andon.executors.environment import run_environment, secret_values
from andon.executors.logcap import CappedLog, Cut, write_cut
from andon.executors.processes import spec_path
from andon.model.errors import ConfigError
from andon.project.settings import DEFAULT_MAX_LOG_BYTES

if TYPE_CHECKING:
    from andon.engine.state import EngineState
    from andon.planner.forecast import Forecast

log = logging.getLogger("andon.executors.dask")
LOG_WAIT = 10.0  # seconds to wait, once a task ended, for the last of its log to arrive
INSTALL_HINT = "pip install 'andon[dask]'"


def distributed_module() -> Any:
    """``distributed``, or a ConfigError (exit 2) saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ConfigError("executor = 'dask' needs the Dask distributed package, which is not "
                          "installed", hint=INSTALL_HINT) from None
    return distributed


def resource_name(pool: str) -> str:
    """The Dask worker resource of andon pool ``pool`` (``dask worker --resources pool-gpu=1``)."""
    return f"pool-{pool}"


class _LogSink:
    """The run's ``log.txt`` on andon's side: chunks from the worker appended through a
    ``CappedLog`` (the cap, the cut records a follower reads, and the secrets masked again)."""

    def __init__(self, path: Path, cap: int, secrets: list[str]) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.log = CappedLog(self.fd, cap, secrets, os.fstat(self.fd).st_size, self._cut)
        self.received = 0
        self.closed = False
        self.cond = threading.Condition()

    def _cut(self, cut: Cut) -> None:
        with contextlib.suppress(OSError):
            write_cut(self.path, cut)

    def feed(self, data: bytes) -> None:
        with self.cond:
            if self.closed:
                return
            with contextlib.suppress(OSError):
                self.log.write(data)
            self.received += len(data)
            self.cond.notify_all()

    def close(self, expected: int, timeout: float) -> None:
        """Wait until ``expected`` bytes arrived (or ``timeout`` s), then close the file."""
        with self.cond:
            self.cond.wait_for(lambda: self.received >= expected, timeout)
            if self.received < expected:
                log.warning("%s: %d of %d log bytes arrived", self.path,
                            self.received, expected)
            with contextlib.suppress(OSError):
                self.log.write(b"", final=True)
            self.closed = True
            os.close(self.fd)


@dataclass
class _DaskRun:
    spec: RunSpec
    report: Report
    sink: _LogSink
    pool: str
    slots: int
    future: Any = None
    cancelled: bool = False


class DaskExecutor:
    """Runs each RunSpec as a task on a Dask cluster through ``client``. ``pools`` maps each
    pipeline to its (pool, slots); ``cluster`` is the LocalCluster andon started, if any (closed
    with the executor). ``fork``: workers fork runs from a fork server of their own
    (``daskfork``); without it (or where forking fails) each run's process is spawned."""

    name = "dask"

    def __init__(self, client: Any, pools: Mapping[str, tuple[str, int]],
                 environ: Mapping[str, str] | None = None,
                 max_log_bytes: int = DEFAULT_MAX_LOG_BYTES, kill_grace: float = 10.0,
                 cluster: Any = None, log_wait: float = LOG_WAIT, fork: bool = True) -> None:
        self.client = client
        self.cluster = cluster
        self.pools = dict(pools)
        self.environ = environ
        self.max_log_bytes = max_log_bytes
        self.kill_grace = kill_grace
        self.log_wait = log_wait
        self.adaptive: Any = None  # the cluster's QueueAdaptive (daskcluster), when adapting
        self._runs: dict[str, _DaskRun] = {}
        self._lock = threading.Lock()
        # before any task: the subscription and the submissions share the client's stream
        client.subscribe_topic(LOG_TOPIC, self._on_log)
        if fork:  # each worker forks its runs from a warm fork server (workers that join too)
            from andon.executors.daskfork import ForkServerPlugin

            client.register_plugin(ForkServerPlugin())

    def _source(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    # -- starting -------------------------------------------------------------------------------

    def start(self, spec: RunSpec, report: Report) -> int:
        """Submit the run's task; the pid is 0 (the run's process is on a worker)."""
        pool, slots = self.pools.get(spec.pipeline, ("default", 1))
        run_dir = Path(spec.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = dataclasses.replace(spec, spawned_at=time.time(), max_log_bytes=self.max_log_bytes)
        (run_dir / "result.json").unlink(missing_ok=True)
        write_atomic(spec_path(spec.run_dir), spec.to_json())
        source = self._source()
        secrets = secret_values(source, spec.secrets)
        # only what the pipeline declared travels: the worker adds its own base variables
        wanted = {*spec.env, *spec.secrets}
        declared = {k: v for k, v in run_environment(source, spec.env, spec.secrets).items()
                    if k in wanted}
        run = _DaskRun(spec, report, _LogSink(spec.log_path, self.max_log_bytes, secrets),
                       pool, slots)
        with self._lock:
            self._runs[spec.run_id] = run
        try:
            run.future = self.client.submit(
                run_task, spec.to_json(), declared, self.kill_grace, key=f"andon-{spec.run_id}",
                resources={resource_name(pool): slots}, pure=False, retries=0)
        except BaseException:
            with self._lock:
                self._runs.pop(spec.run_id, None)
            run.sink.close(0, 0)
            raise
        run.future.add_done_callback(lambda fut: self._ended(run))
        return 0

    def _on_log(self, event: tuple[float, Any]) -> None:
        """A log chunk from a worker (on the client's event loop: a file append, no wait)."""
        msg = event[1]
        if not isinstance(msg, dict):
            return
        with self._lock:
            run = self._runs.get(str(msg.get("run", "")))
        data = msg.get("data")
        if run is not None and isinstance(data, bytes):
            run.sink.feed(data)

    def _ended(self, run: _DaskRun) -> None:
        # Dask's callback thread is shared by every future: the wait for the log is not its
        threading.Thread(target=self._finish, args=(run,), daemon=True,
                         name=f"dask-{run.spec.run_id}").start()

    def _finish(self, run: _DaskRun) -> None:
        spec, fut, expected = run.spec, run.future, 0
        try:
            if fut.status == "finished":
                out = fut.result()
                result = ExecResult.from_json(out["result"])
                expected = int(out["log_bytes"])
            elif run.cancelled:
                result = ExecResult(spec.run_id, False, None, "Cancelled", "cancelled on request",
                                    cancelled=True)
            elif fut.status == "error":
                exc = fut.exception()
                result = self._failed(spec, exc)
            else:
                result = lost_result(spec, f"the Dask task of the run ended as {fut.status!r} (the "
                                    "scheduler let it go)")
        except Exception as exc:  # never leave a run without a report
            log.exception("reading the result of run %s failed", spec.run_id)
            result = lost_result(spec, f"andon could not read the run's result from Dask: {exc}")
        run.sink.close(expected, self.log_wait)
        with self._lock:
            self._runs.pop(spec.run_id, None)
        run.report(result)

    @staticmethod
    def _failed(spec: RunSpec, exc: BaseException) -> ExecResult:
        """A task that erred: the worker died under it (``KilledWorker``: lost, retried per
        ``retries``) or andon's task itself failed on the worker."""
        name = type(exc).__name__
        if name == "KilledWorker":
            return lost_result(spec, "the Dask worker running the run died (KilledWorker)")
        return ExecResult(spec.run_id, False, None, name,
                          f"the run's Dask task failed on its worker: {str(exc)[:500]}")

    # -- stopping -------------------------------------------------------------------------------

    def cancel(self, run_id: str) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            run.cancelled = True
        threading.Thread(target=self._cancel_remote, args=(run,), daemon=True,
                         name=f"cancel-{run_id}").start()

    def _cancel_remote(self, run: _DaskRun) -> None:
        """Tell every worker (the one running it ends its tree, the others remember it); drop
        the task when none had begun it."""
        try:
            found = self.client.run(cancel_runs, [run.spec.run_id])
        except Exception as exc:
            log.warning("could not reach the Dask workers to cancel run %s: %s",
                        run.spec.run_id, exc)
            found = {}
        if not any(found.values()) and run.future is not None:
            run.future.cancel()

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """A restarted andon cannot follow the task its predecessor's client submitted: end it
        wherever it still runs and report the run lost (retried per ``retries``)."""
        with contextlib.suppress(Exception):
            self.client.run(cancel_runs, [spec.run_id])
        report(lost_result(spec, "andon restarted while the run was executing on the Dask cluster; "
                          "it was ended there"))
        return True

    def running(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def health(self) -> dict[str, Any]:
        """For the board's health strip (no I/O): ``mode`` ``local cluster`` or the scheduler's
        address, ``alive``: the client is connected, ``runs``: tasks submitted, not yet ended;
        a local cluster's ``workers`` too (its scheduler is in this process)."""
        with self._lock:
            runs = len(self._runs)
        info: dict[str, Any] = {"name": self.name, "alive": self.client.status == "running",
                                "runs": runs}
        if self.cluster is None:
            return {**info, "mode": str(self.client.scheduler.address)}
        return {**info, "mode": "local cluster", "workers": len(self.cluster.scheduler.workers)}

    def adapt_to(self, state: EngineState, forecast: Forecast | None) -> None:
        """After each commit (the runner's thread): tell the adaptive cluster what andon's queue
        and forecast need (nothing without ``dask_adaptive``)."""
        if self.adaptive is not None:
            from andon.executors.daskadapt import demand_of

            self.adaptive.demand = demand_of(state, forecast, self.pools)

    def close(self) -> None:
        """Disconnect; a LocalCluster andon started stops with its workers."""
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            self.cancel(run.spec.run_id)
        deadline = time.monotonic() + self.kill_grace + self.log_wait
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)  # only while shutting down
        self.close()


