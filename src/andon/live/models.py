"""The models of a project as the CLI, the API and the board ask for them: their versions (the
successful runs of the pipeline that makes each, ``andon.store.relations.model_versions``,
with the metrics and parameters the runs logged), the version serving (folded from the
``model.promoted`` events, ``andon.store.models``), promotions and rollbacks checked and turned
into events (for the caller to submit through the engine), and the automatic promotions of the
models whose ``deploy`` policy is ``auto``.

The deploy policy is declared with the model (``deploy = "auto"`` in ``catalog.toml``, or
``andon.catalog(kind="model", ..., deploy="auto")``). ``auto`` promotes every new version as
its run succeeds, unless the model has a ``gate`` (``andon.live.gate``): then only once its
scores in shadow match the serving version's (otherwise ``model.held`` says why)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from andon.checks.realised import Spec, specs
from andon.events import Event, RunSucceeded
from andon.events.models import ModelHeld, ModelPromoted
from andon.live.catalog import Catalog
from andon.live.gate import Verdict
from andon.model.errors import BadRequest, Conflict, NotFound
from andon.model.limits import MAX_NAME
from andon.model.views import View
from andon.model.words import did_you_mean
from andon.registry.declared import CONTROL
from andon.registry.entries import Entry, Gate
from andon.store import models as promotions
from andon.store import performance as realised
from andon.store import relations, serving
from andon.store.models import Held, Promotion
from andon.store.performance import RealisedValue
from andon.store.relations import ModelVersion
from andon.store.sql import Store

log = logging.getLogger(__name__)
MAX_REASON = 500  # characters of a promotion's reason
VERSIONS_SHOWN = 50  # a model's newest versions in ``show``
AUTO_BY, AUTO_REASON = "andon", "auto"  # who and why, for an automatic promotion


@dataclass(frozen=True, slots=True, eq=False)
class ModelSummary(View):
    """One model in the listing: the pipeline that makes it (``producer``, "" for none), its
    ``deploy`` policy, how many ``versions`` it has, the newest and the one ``serving`` (0:
    none)."""

    name: str
    owner: str
    producer: str
    deploy: str
    versions: int
    latest: int
    serving: int


@dataclass(frozen=True, slots=True, eq=False)
class ModelDetail(View):
    """One model: its summary's fields, its newest versions (newest first, each with the
    metrics, parameters and training inputs its run logged) and every promotion (oldest
    first). ``rollback_to``: the version a rollback would serve (0: none). ``performance``:
    its realised metrics per partition of its ``andon.performance`` pipeline (oldest first;
    each with the version serving when the predictions were written), ``threshold``: the
    value each is drawn against (``performance_pipeline``: "" when none is declared).
    ``gate``: a ``deploy = "auto"`` model's promotion gate (None: none); ``held``: the times a
    candidate (a version never promoted) was held back by it, newest first."""

    name: str
    owner: str
    producer: str
    deploy: str
    version_count: int
    serving: int
    rollback_to: int
    versions: list[ModelVersion]
    promotions: list[Promotion]
    performance_pipeline: str
    performance: list[RealisedValue]
    threshold: dict[str, float]
    gate: Gate | None = None
    held: list[Held] | None = None


class Models:
    """The models of ``catalog`` (its entries of kind ``model``), their versions and promotions
    in ``store``."""

    def __init__(self, catalog: Catalog, store: Store) -> None:
        self.catalog, self.store = catalog, store
        # judges a gated model's candidate (``andon.live.gate.GateKeeper.verdict``); None: the
        # gate holds every candidate of a gated model (nothing can measure it)
        self.gate: Callable[[str, Gate, int, int], Verdict] | None = None

    def _models(self) -> dict[str, Entry]:
        return {name: e for (kind, name), e in self.catalog.entries().items() if kind == "model"}

    def entry(self, name: str) -> Entry:
        """The model ``name``: NotFound with the closest name ("did you mean") otherwise."""
        models = self._models()
        found = models.get(name)
        if found is not None:
            return found
        shown = CONTROL.sub("", name[:MAX_NAME])
        raise NotFound(f"no model named {shown!r} in the catalog",
                       hint=did_you_mean(shown, models).strip() or
                       "known models: " + (", ".join(sorted(models)[:20]) or "none; declare "
                                           "one in catalog.toml with kind = \"model\""))

    def listing(self) -> list[ModelSummary]:
        """Every model of the catalog, by name."""
        with self.store.read() as conn:
            serving = promotions.serving_versions(conn)
            out = []
            for name, e in sorted(self._models().items()):
                total, newest = (relations.model_versions(conn, e.producer, 1)
                                 if e.producer else (0, []))
                out.append(ModelSummary(name, e.owner, e.producer, e.deploy, total,
                                        newest[0].number if newest else 0,
                                        serving.get(name, 0)))
        return out

    def performance(self) -> dict[str, Spec]:
        """The ``andon.performance`` declarations of the project, by model."""
        return specs(p.fn for p in self.catalog.graph.pipelines.values())

    def show(self, name: str) -> ModelDetail:
        """Model ``name`` (NotFound as ``entry``) with its versions, promotions and realised
        performance."""
        e = self.entry(name)
        spec = self.performance().get(name)
        with self.store.read() as conn:
            total, versions = (relations.model_versions(conn, e.producer, VERSIONS_SHOWN)
                               if e.producer else (0, []))
            history = promotions.promotions_of(conn, name)
            values = (realised.realised(conn, spec.name, spec.predictions, name)
                      if spec else [])
            held = promotions.held_of(conn, name, history) if e.gate is not None else []
        stack = promotions.serving_stack(history)
        return ModelDetail(name, e.owner, e.producer, e.deploy, total,
                           stack[-1] if stack else 0, stack[-2] if len(stack) > 1 else 0,
                           versions, history, spec.name if spec else "", values,
                           dict(spec.threshold) if spec else {}, e.gate, held)

    def serving_versions(self) -> dict[str, int]:
        """The version each promoted model serves now, by model."""
        with self.store.read() as conn:
            return promotions.serving_versions(conn)

    def artifact(self, name: str, version: int) -> list[tuple[str, str, int]]:
        """Version ``version`` of model ``name``'s artifact: the (asset, partition, version) of
        each partition its run wrote (empty for no such version)."""
        e = self.entry(name)
        if not e.producer:
            return []
        with self.store.read() as conn:
            _, found = relations.model_versions(conn, e.producer, 1, version)
            if not found:
                return []
            v = found[0]
            return promotions.artifact_of(conn, v.run_id, v.partition, v.outputs)

    def promote_event(self, name: str, version: int, now: datetime, reason: str = "",
                      by: str = "") -> ModelPromoted:
        """The event putting version ``version`` of model ``name`` into service. NotFound for an
        unknown model or version (naming the versions there are), BadRequest for a reason too
        long or with control characters, Conflict when that version serves already."""
        reason = _reason(reason)
        e = self.entry(name)
        if isinstance(version, bool) or not isinstance(version, int):
            raise BadRequest("the version is a number", where="version", hint="e.g. 3")
        with self.store.read() as conn:
            total, found = (relations.model_versions(conn, e.producer, 1, version)
                            if e.producer else (0, []))
            stack = promotions.serving_stack(promotions.promotions_of(conn, name))
        if not found:
            raise NotFound(f"model {name!r} has no version {version}",
                           hint=f"its versions are 1 to {total}" if total else
                           f"it has no version yet: a successful run of "
                           f"{e.producer or 'the pipeline that makes it'} makes one")
        serving = stack[-1] if stack else 0
        if serving == version:
            raise Conflict(f"version {version} of model {name!r} serves already",
                           hint="promote another version, or roll back with "
                                f"andon model rollback {name}")
        return ModelPromoted(at=now, model=name, version=version, run_id=found[0].run_id, by=by,
                             reason=reason, previous=serving)

    def rollback_event(self, name: str, now: datetime, reason: str = "", by: str = ""
                       ) -> ModelPromoted:
        """The event putting back the version that served before the current one: NotFound for
        an unknown model, Conflict when none served before."""
        reason = _reason(reason)
        e = self.entry(name)
        with self.store.read() as conn:
            stack = promotions.serving_stack(promotions.promotions_of(conn, name))
            found = (relations.model_versions(conn, e.producer, 1, stack[-2])[1]
                     if len(stack) > 1 and e.producer else [])
        if not found:
            raise Conflict(f"model {name!r} has no version to roll back to" +
                           (f" (version {stack[-1]} is the only one that served)" if stack
                            else " (none serves)"),
                           hint=f"promote a version: andon model promote {name} VERSION")
        return ModelPromoted(at=now, model=name, version=stack[-2], run_id=found[0].run_id,
                             by=by, reason=reason, previous=stack[-1], rollback=True)

    def auto_events(self, now: datetime, pipelines: Iterable[str] | None = None
                    ) -> list[ModelPromoted | ModelHeld]:
        """The automatic promotions owed: the newest version of each model whose deploy policy
        is ``auto`` (made by one of ``pipelines``; None: every model), unless it was ever
        promoted (by anyone: a version rolled back from is not promoted again) or its artifact
        (a partition its run wrote) is under an open andon cord: it stays a candidate.
        Id ``promoted:MODEL:VERSION``: recorded once, however often this is asked (a restart,
        a listener that sees the run twice). A model with a ``gate`` promotes it only when
        the gate lets it through (``andon.live.gate``); otherwise the answer holds a
        ``model.held`` saying why (id ``held:MODEL:VERSION:KIND``, told once)."""
        if pipelines is None:
            candidates = list(self._models().values())
        else:  # the models those pipelines make, looked up (not a scan of a large catalog)
            entries, graph = self.catalog.entries(), self.catalog.graph.pipelines
            candidates = [e for p in pipelines if p in graph for m in graph[p].models
                          if (e := entries.get(("model", m))) is not None]
        chosen = [e for e in candidates if e.deploy == "auto" and e.producer]
        owed: list[ModelPromoted | ModelHeld] = []
        found: list[tuple[Entry, ModelVersion, int]] = []  # (model, newest version, serving)
        with self.store.read() as conn:
            for e in chosen:
                _, newest = relations.model_versions(conn, e.producer, 1)
                history = promotions.promotions_of(conn, e.name)
                if not newest or any(p.version == newest[0].number for p in history) or \
                        serving.under_open_cord(conn, [(a, newest[0].partition)
                                                       for a in newest[0].outputs]):
                    continue
                stack = promotions.serving_stack(history)
                found.append((e, newest[0], stack[-1] if stack else 0))
        for e, v, now_serving in found:  # the gate reads the store itself
            if e.gate is not None:
                held = self._held(e, e.gate, v.number, now_serving, now)
                if held is not None:
                    owed.append(held)
                    continue
            owed.append(ModelPromoted(
                id=f"promoted:{e.name}:{v.number}", at=now, model=e.name, version=v.number,
                run_id=v.run_id, by=AUTO_BY, reason=AUTO_REASON, previous=now_serving))
        return owed

    def _held(self, e: Entry, gate: Gate, version: int, serving: int, now: datetime
              ) -> ModelHeld | None:
        """None when the gate lets version ``version`` replace ``serving``; else why not."""
        if self.gate is None:
            verdict = Verdict(False, "waiting", "nothing measures its performance here")
        else:
            verdict = self.gate(e.name, gate, version, serving)
        if verdict.passed:
            return None
        return ModelHeld(id=f"held:{e.name}:{version}:{verdict.kind}", at=now, model=e.name,
                         version=version, serving=serving, kind=verdict.kind,
                         reason=verdict.reason[:MAX_REASON], owner=e.owner)


class AutoPromoter:
    """The live service's listener that promotes each new version of an ``auto`` model as its
    run succeeds (``andon up``; a write with no scheduler records no promotion: the next
    ``andon up`` catches up). Armed once the catalog is built (the policies are the catalog's),
    and catches up then with every version owed; before that it ignores events (the catch-up
    covers them). The listener only picks the pipelines out on the runner thread; the store
    reads and a gate's verdict (which may compute drift) run on one worker thread of its own,
    in order, and submit from there."""

    def __init__(self, models: Models, submit: Callable[[Event], Any],
                 now: Callable[[], datetime],
                 performance_of: Mapping[str, Sequence[str]] | None = None) -> None:
        self.models, self.submit, self.now = models, submit, now
        self._armed = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="andon-promote")
        self._pending: set[Future[None]] = set()
        # a performance pipeline -> the pipelines making the models it measures
        self.producers_measured: dict[str, set[str]] = {}
        graph = models.catalog.graph.pipelines
        for p in graph.values():
            for m in p.models:
                for measuring in (performance_of or {}).get(m, ()):
                    self.producers_measured.setdefault(measuring, set()).add(p.name)

    def arm(self) -> None:
        """Start promoting, and submit the promotions owed now (a restart, runs that ended while
        the catalog was being built)."""
        self._armed = True
        for event in self.models.auto_events(self.now()):
            self.submit(event)

    def on_events(self, events: Sequence[Event]) -> None:
        if not self._armed:
            return
        graph = self.models.catalog.graph.pipelines
        made = {e.pipeline for e in events if isinstance(e, RunSucceeded)
                and e.pipeline in graph and graph[e.pipeline].models}
        # a gated model's candidate is judged again as its performance is measured
        made.update(p for e in events if isinstance(e, RunSucceeded)
                    for p in self.producers_measured.get(e.pipeline, ()))
        if made:
            future = self._pool.submit(self._promote, made)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)

    def _promote(self, made: set[str]) -> None:
        try:
            for event in self.models.auto_events(self.now(), made):
                self.submit(event)
        except Exception:  # a bug here must not go unnoticed in a future nobody reads
            log.exception("automatic promotions after runs of %s failed", sorted(made))

    def wait(self, timeout: float) -> bool:
        """Wait until the promotions handed over so far are decided and submitted (tests)."""
        _done, pending = futures_wait(list(self._pending), timeout)
        return not pending

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, finish the promotions handed over."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) > MAX_REASON or CONTROL.search(reason):
        raise BadRequest(f"the reason is at most {MAX_REASON} characters on one line, without "
                         "control characters", where="reason",
                         hint='say why in a sentence: --reason "better AUC on last week"')
    return reason


def answer(event: ModelPromoted, recorded: bool = True) -> dict[str, Any]:
    """What the API and the CLI answer a promotion or a rollback with."""
    return {"model": event.model, "version": event.version, "previous": event.previous,
            "run_id": event.run_id, "rollback": event.rollback, "id": event.id,
            "recorded": recorded}
