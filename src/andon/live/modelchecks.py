"""Checks on models in the live shell: each time something is measured about a model (a
partition's realised performance, a run of its ``andon.performance`` pipeline; a partition's
drift, a new profile of a data set its versions train on), its checks judge the version that
serves, on a small thread pool (they read the store and profiles, never on the scheduler's
thread). The results come back as ``check.passed`` / ``check.failed`` on the serving version's
artifact (the partitions its run wrote), and a failing blocking check pulls the andon cord there:
what scores with that version halts, and a rollback or a new version lets it go on
(``andon.engine``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import datetime
from typing import Any

from andon.checks.context import CheckResult, as_result, finite_numbers
from andon.checks.modelchecks import DriftLike, ModelCheckContext
from andon.checks.realised import spec_of
from andon.checks.runner import cord_pull
from andon.events import CheckFailed, CheckPassed, Event, RunSucceeded
from andon.events.models import ModelPromoted
from andon.live.drift import Drift
from andon.live.gate import DriftOf
from andon.live.models import Models
from andon.model.definitions import Check
from andon.model.errors import NotFound
from andon.model.graph import Graph

log = logging.getLogger("andon.checks")

Submit = Callable[[Event], Any]


def model_check_event(check: Check, ctx: ModelCheckContext, artifact: tuple[str, str, int],
                      result: CheckResult) -> CheckPassed | CheckFailed:
    """The event recording ``result`` of ``check`` on model version ``ctx.version``, measured on
    ``ctx.measured`` ``ctx.partition``: recorded on the version's artifact, with an id derived
    from the model, version, check and what was measured (recorded once however often it is
    judged)."""
    cls = CheckPassed if result.passed else CheckFailed
    asset, partition, version = artifact
    return cls(id=f"modelcheck:{check.asset}:{ctx.version}:{check.name}:{ctx.measured}:"
                  f"{ctx.partition}", at=ctx.now, asset=asset, partition=partition,
               version=version, check=f"{check.asset}.{check.name}", blocking=check.blocking,
               numbers=finite_numbers(result.numbers),
               message=f"model {check.asset} version {ctx.version}: {result.message}"[:2000])


def judge(check: Check, ctx: ModelCheckContext) -> CheckResult | None:
    """Run one check on a model; None when it does not apply to what was measured. A check
    that raises has failed."""
    try:
        returned = check.fn(ctx)
        return None if returned is None else as_result(returned)
    except Exception as exc:
        log.warning("check %s on model %s raised %s: %s", check.name, check.asset,
                    type(exc).__name__, exc)
        return CheckResult(False, {}, f"the check raised {type(exc).__name__}: {exc}")


class ModelChecks:
    """Subscribe ``on_events`` to the runner. ``performance_of``: model -> the pipelines that
    measure its realised performance; ``trains_on``: model -> the profiled data sets its
    versions train on (its drift is measured on their new partitions); ``drift_of`` answers a
    drift report."""

    def __init__(self, checks: Iterable[Check], models: Models, submit: Submit,
                 now: Callable[[], datetime], performance_of: Mapping[str, Sequence[str]],
                 trains_on: Mapping[str, Sequence[str]], drift_of: DriftOf | None = None,
                 workers: int = 1) -> None:
        self.by_model: dict[str, list[Check]] = {}
        for check in checks:
            self.by_model.setdefault(check.asset, []).append(check)
        self.models, self._submit, self._now = models, submit, now
        self.performance_of = {p: m for m, ps in performance_of.items() for p in ps
                               if m in self.by_model}
        self.trained_on: dict[str, list[str]] = {}  # data set -> the checked models trained on it
        for m, assets in trains_on.items():
            for a in assets if m in self.by_model else ():
                self.trained_on.setdefault(a, []).append(m)
        self.drift_of = drift_of
        self._pool = ThreadPoolExecutor(max(workers, 1), thread_name_prefix="andon-modelcheck")
        self._pending: set[Future[None]] = set()
        # the version each checked model serves, in the log's order: a measurement is judged
        # against the version serving when it was recorded, whatever was promoted since
        self.serving = {m: v for m, v in models.serving_versions().items()
                        if m in self.by_model}

    def on_events(self, events: Sequence[Event]) -> None:
        """Listener: hand each measurement of a checked model to the pool, with the version
        serving then (cheap: no reads)."""
        if not self.by_model:
            return
        for event in events:
            if isinstance(event, ModelPromoted) and event.model in self.by_model:
                self.serving[event.model] = event.version
            if not isinstance(event, RunSucceeded):
                continue
            model = self.performance_of.get(event.pipeline)
            if model is not None and self.serving.get(model):
                self._hand(model, self.serving[model], event.pipeline, event.partition,
                           dict(event.metrics), False)
            for out in event.outputs:
                for model in self.trained_on.get(out.asset, ()):
                    if self.serving.get(model):
                        self._hand(model, self.serving[model], out.asset, out.partition, {},
                                   True)

    def _hand(self, model: str, version: int, measured: str, partition: str,
              metrics: dict[str, float], drifted: bool) -> None:
        future = self._pool.submit(self._run, model, version, measured, partition, metrics,
                                   drifted)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _run(self, model: str, version: int, measured: str, partition: str,
             metrics: dict[str, float], drifted: bool) -> None:
        try:
            self.judge_all(model, version, measured, partition, metrics, drifted)
        except Exception:  # a bug here must not go unnoticed in a future nobody reads
            log.exception("checks of model %s on %s %s failed to run", model, measured, partition)

    def judge_all(self, model: str, version: int, measured: str, partition: str,
                  metrics: Mapping[str, float], drifted: bool) -> list[CheckPassed | CheckFailed]:
        """Judge version ``version`` of ``model`` (the one serving when the measurement was
        recorded) on one measurement and submit what was found (and the cord pull on its
        artifact, when a blocking check failed)."""
        artifact = self.models.artifact(model, version)
        if not artifact:
            return []
        report = None
        if drifted:
            if self.drift_of is None:
                return []
            report = self.drift_of(model, measured, partition, version)
            if report is None:  # no profile, or no reference to compare with
                return []
        ctx = ModelCheckContext(model, version, measured, partition, self._now(), metrics, report)
        events: list[CheckPassed | CheckFailed] = []
        for check in self.by_model.get(model, ()):
            result = judge(check, ctx)
            if result is not None:
                events.append(model_check_event(check, ctx, artifact[0], result))
        for event in events:
            self._submit(event)
        failed = [e for e in events if isinstance(e, CheckFailed) and e.blocking]
        # a version promoted away from meanwhile is out of service: nothing to halt any more
        if failed and self.models.serving_versions().get(model) == version:
            asset, part, v = artifact[0]
            self._submit(cord_pull(asset, part, v, failed, self._now()))
        return events

    def wait(self, timeout: float) -> bool:
        """Wait until the measurements handed over so far are judged (tests, scripts)."""
        _done, pending = futures_wait(list(self._pending), timeout)
        return not pending

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def measurements(graph: Graph) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What measures each model of ``graph``: the ``andon.performance`` pipelines measuring its
    realised performance, and the profiled data sets its producer trains on (their drift), by
    model."""
    performance_of: dict[str, list[str]] = {}
    trains_on: dict[str, list[str]] = {}
    for pipe in graph.pipelines.values():
        spec = spec_of(pipe.fn)
        if spec is not None:
            performance_of.setdefault(spec.model, []).append(pipe.name)
        for model in pipe.models:
            trains_on[model] = [i.asset for i in pipe.inputs if i.asset in graph.profiled]
    return performance_of, trains_on


def drift_reader(drift: Drift) -> DriftOf:
    """The drift of a partition against a model version's training data, from ``drift``; None
    when it has no profile or cannot be compared (nothing to judge)."""
    def drift_of(model: str, asset: str, partition: str, version: int) -> DriftLike | None:
        try:
            report = drift.report(asset, partition, model, version)
        except NotFound:
            return None
        return None if report.error else report

    return drift_of
