"""Drift reports computed where the data is written: as a run that wrote profiles succeeds
(``run.succeeded`` with ``profiles``), the drift report of each profiled partition it wrote is
computed against its reference and kept in the store (``andon.live.drift``, the
``drift_reports`` cache), on a small thread pool of its own: never on the scheduler's thread
or the event loop. The heat map and ``andon drift`` then read kept reports, after a restart
too. When a model's serving version changes, the heat maps of the data sets it trains on are
computed again for the new reference (from the bins), in the background as well."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any

from andon.events import Event, RunSucceeded
from andon.events.models import ModelPromoted
from andon.live.drift import MAX_HEAT_PARTITIONS, Drift
from andon.model.errors import NotFound

log = logging.getLogger("andon.drift")


class DriftKeeper:
    """Subscribe ``on_events`` to the runner. ``trains_on``: model -> the profiled data sets its
    versions train on (their reference is the serving version's training data)."""

    def __init__(self, drift: Drift, trains_on: Mapping[str, Sequence[str]],
                 workers: int = 1) -> None:
        self.drift = drift
        self.trains_on = {m: list(a) for m, a in trains_on.items()}
        self._pool = ThreadPoolExecutor(max(workers, 1), thread_name_prefix="andon-drift")
        self._pending: set[Future[None]] = set()

    def on_events(self, events: Sequence[Event]) -> None:
        """Listener: hand each newly profiled partition (and each promotion of a model trained
        on profiled data) to the pool (cheap: no reads here)."""
        profiled = self.drift.graph.profiled
        for event in events:
            if isinstance(event, RunSucceeded) and event.profiles:
                written = {o.asset: o.partition for o in event.outputs}
                for asset in event.profiles:
                    if asset in profiled:
                        self._hand(self._report, asset, written.get(asset, event.partition))
            elif isinstance(event, ModelPromoted):
                for asset in self.trains_on.get(event.model, ()):
                    if asset in profiled:
                        self._hand(self._heat, asset)

    def _hand(self, fn: Callable[..., None], *args: Any) -> None:
        future = self._pool.submit(self._run, fn, *args)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    @staticmethod
    def _run(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except NotFound:  # written again or gone since: nothing to keep
            pass
        except Exception:  # a bug here must not go unnoticed in a future nobody reads
            log.exception("drift of %s could not be computed", " ".join(map(str, args)))

    def _report(self, asset: str, partition: str) -> None:
        self.drift.report(asset, partition)  # computed and kept (with its p-values)

    def _heat(self, asset: str) -> None:
        self.drift.heat(asset, limit=MAX_HEAT_PARTITIONS)  # against the new reference

    def wait(self, timeout: float) -> bool:
        """Wait until what was handed over so far is computed (tests, scripts)."""
        _done, pending = futures_wait(list(self._pending), timeout)
        return not pending

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
