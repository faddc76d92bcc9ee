"""Connecting the Dask executor: to the scheduler at ``dask_scheduler``, or to a ``LocalCluster``
of worker processes andon starts for a one-machine try-out (``andon up --executor dask``), whose
workers declare the project's pools as resources and which, with ``dask_adaptive``, scales with
andon's queue (``daskadapt``). ``distributed`` is imported here, when the executor is made."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from andon.executors.dask import DaskExecutor, distributed_module, resource_name
from andon.executors.daskadapt import Demand, pool_shares, workers_needed
from andon.model.errors import ConfigError
from andon.project.dasksettings import DASK_WORKERS
from andon.project.load import Project
from andon.project.settings import Settings

log = logging.getLogger("andon.executors.daskcluster")
CONNECT_TIMEOUT = 10.0  # seconds to reach a remote scheduler at start
# the scheduler errs a task at once when its worker dies (KilledWorker), rather than handing it
# to another worker: andon records the run lost and retries it per its ``retries``
DASK_CONFIG = {"distributed.scheduler.allowed-failures": 0}


def make_dask_executor(settings: Settings, project: Project) -> DaskExecutor:
    """The Dask executor of ``settings``: a client of ``dask_scheduler``, or of a LocalCluster
    started here (adaptive with ``dask_adaptive``). A missing extra, or a scheduler that cannot
    be reached, is a ConfigError (exit 2)."""
    distributed = distributed_module()
    import dask

    dask.config.set(DASK_CONFIG)
    g = project.graph
    pools = {name: (p.pool, p.slots if isinstance(p.slots, int) else 1)
             for name, p in g.pipelines.items()}
    capacities = {p.name: p.capacity for p in g.pools.values()}
    cluster = None
    if settings.dask_scheduler:
        try:
            client = distributed.Client(settings.dask_scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {settings.dask_scheduler}: "
                              f"{exc}", hint="start it (`dask scheduler`), or fix dask_scheduler "
                                             "(ANDON_DASK_SCHEDULER)") from None
        _check_scheduler(client)
    else:
        cluster, client = local_cluster(capacities, settings.dask_adaptive)
    executor = DaskExecutor(client, pools, os.environ, settings.max_log_bytes,
                            settings.kill_grace, cluster)
    if cluster is not None and settings.dask_adaptive is not None:
        low, high = settings.dask_adaptive
        executor.adaptive = cluster.adapt(
            minimum=low, maximum=high, Adaptive=queue_adaptive_class(),
            shares=pool_shares(capacities, high), capacities=capacities)
    return executor


def local_cluster(capacities: dict[str, int], adaptive: tuple[int, int] | None,
                  **kwargs: Any) -> tuple[Any, Any]:
    """A LocalCluster of worker processes (and its client): ``DASK_WORKERS`` of them, or
    ``min`` to start with when adaptive; each declares its share of every pool as resources and
    has a thread for each slot it holds (a run's thread only waits for its process)."""
    distributed = distributed_module()
    workers = adaptive[1] if adaptive else DASK_WORKERS
    shares = pool_shares(capacities, workers)
    cluster = distributed.LocalCluster(
        n_workers=adaptive[0] if adaptive else DASK_WORKERS, processes=True,
        threads_per_worker=max(sum(shares.values()), 1), dashboard_address=None,
        # no dashboard; the scheduler's HTTP routes on any free port of this machine (8787 may
        # be another cluster's)
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        resources={resource_name(p): n for p, n in shares.items()}, **kwargs)
    return cluster, distributed.Client(cluster)


def _check_scheduler(client: Any) -> None:
    """Warn when the remote scheduler would hand a task whose worker died to another worker:
    the run would then run again unseen instead of being recorded lost and retried."""
    try:
        allowed = client.run_on_scheduler(_allowed_failures)
    except Exception:  # an old or locked-down scheduler: say nothing
        return
    if allowed != 0:
        log.warning("the Dask scheduler allows %s failures per task: a run whose worker dies "
                    "is run again by Dask, not recorded lost by andon; start it with "
                    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0 (docs/deploy.md)", allowed)


def _allowed_failures() -> Any:
    import dask

    return dask.config.get("distributed.scheduler.allowed-failures")


def queue_adaptive_class() -> type:
    """``distributed``'s ``Adaptive`` with andon's target: the workers andon's queue and forecast
    need (``daskadapt.workers_needed``), and only idle workers retired."""
    from distributed.deploy import Adaptive

    class QueueAdaptive(Adaptive):
        def __init__(self, *args: Any, shares: dict[str, int], capacities: dict[str, int],
                     **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.shares = shares
            self.capacities = capacities
            self.demand = Demand()  # replaced by the runner's thread after each commit

        async def target(self) -> int:
            return workers_needed(self.demand, self.shares, self.capacities, time.time())

        async def workers_to_close(self, target: int) -> list[str]:
            names: list[str] = await super().workers_to_close(target)
            scheduler: Any = self.cluster.scheduler  # type: ignore[attr-defined]  # LocalCluster's
            busy = {ws.name for ws in scheduler.workers.values() if ws.processing}
            return [n for n in names if n not in busy]

    return QueueAdaptive
