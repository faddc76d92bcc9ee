"""Drift of a profiled data set's partitions against their reference, from the profiles the runs
wrote (``andon.executors.profiling``), never by reading the data again.

``Drift(graph, store, project_dir).report(asset, partition)`` is the contract the model checks
use: a ``PartitionDrift`` with ``.columns`` (``ColumnDrift(name, psi, js, p, band,
significant)``), ``.red``, ``.amber``, the reference's label and partitions, and ``.error`` (a
comparison that cannot be made: an empty partition, a column missing; then no columns).
``heat(asset, since=)`` is the heat map's data (API, CLI, board). Blocking: call from a thread
(``run_in_threadpool``), never on the event loop.

**The reference** (``andon.profile(reference=)``): ``"training"``: the partitions of the data
set that the serving version of a model trained on (the inputs of its run; the models are those
of the pipelines with ``models=`` that read the data set), merged; with no version promoted,
the newest version's; with no version at all, the 7 partitions before (labelled so).
``"window:N"``: the N profiled partitions before this one, merged. Merged references and
reports are cached by the runs they come from, so a new version of a partition or a new
serving version is a new entry, never a stale one.

**Kept.** Every report computed is also kept in the store (``drift_reports``, migration 10,
``andon.live.driftcache``), keyed by the partition's run and the reference's identity (its label
and its partitions with their runs): ``report`` and ``heat`` read the kept reports first and
compute (and keep) only the missing ones, so a restart is not a cold start, and
``andon.live.driftkeeper`` computes each report as the run that writes the profile succeeds.
``heat`` computes a missing report from the **bins only** (profiles loaded without their
samples: PSI, JS and bands; no p-values, ``p`` None); ``report`` computes the whole report (KS
/ chi-square p-values, Benjamini-Hochberg) and replaces a bins-only one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from andon.drift.limits import AMBER, MAX_PROFILE_BYTES, RED, DriftError
from andon.live import driftcache
from andon.model.errors import NotFound
from andon.model.graph import Graph
from andon.model.views import Json
from andon.model.words import did_you_mean
from andon.store import driftreports, relations
from andon.store import models as promotions
from andon.store import profiles as stored
from andon.store.sql import Store

FALLBACK_WINDOW = 7  # "training" with no model version yet: the partitions before
MAX_HEAT_PARTITIONS = 400  # the heat map's newest partitions (a year and some)
_CACHE = 4096  # reports and merged references kept in memory

log = logging.getLogger("andon.drift")


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift: PSI, Jensen-Shannon distance, the KS / chi-square p-value (None when
    computed from the bins only), its band (green / amber / red by PSI) and whether it is
    significant after Benjamini-Hochberg."""

    name: str
    psi: float
    js: float
    p: float | None
    band: str
    significant: bool


@dataclass(frozen=True)
class PartitionDrift:
    """The drift of one partition of ``asset`` against ``reference`` (its label) made of
    ``reference_partitions``; ``error`` says why it could not be compared (then no columns).
    ``tested``: the p-values and Benjamini-Hochberg are in (False: from the bins only)."""

    asset: str
    partition: str
    reference: str
    reference_partitions: list[str]
    columns: list[ColumnDrift] = field(default_factory=list)
    error: str = ""
    tested: bool = True

    @property
    def red(self) -> bool:
        return any(c.band == RED for c in self.columns)

    @property
    def amber(self) -> bool:
        return any(c.band == AMBER for c in self.columns)

    def to_json(self) -> Json:
        return {"asset": self.asset, "partition": self.partition, "reference": self.reference,
                "reference_partitions": self.reference_partitions, "red": self.red,
                "amber": self.amber, "error": self.error,
                "columns": [c.__dict__ for c in self.columns]}


class Drift:
    """Drift reports of ``graph``'s profiled data sets from ``store`` (see the module
    docstring); profile files are read under ``project_dir``."""

    def __init__(self, graph: Graph, store: Store, project_dir: Path) -> None:
        self.graph, self.store = graph, store
        self.root = os.path.realpath(project_dir)
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()  # pages and API calls compute on several worker threads

    def profiled(self, asset: str) -> Any:
        """The data set's profiling declaration; NotFound when it is not profiled."""
        found = self.graph.profiled.get(asset)
        if found is None:
            shown = asset[:60]
            raise NotFound(f"data set {shown!r} is not profiled",
                           hint=did_you_mean(shown, self.graph.profiled).strip() or
                           "declare andon.profile(ASSET, columns=[...]); profiled: " +
                           (", ".join(sorted(self.graph.profiled)[:20]) or "none"))
        return found

    def report(self, asset: str, partition: str, model: str = "", version: int = 0
               ) -> PartitionDrift:
        """Partition ``partition``'s drift (NotFound for a data set not profiled or a partition
        without a profile); with ``model`` and ``version``, against the partitions that version
        of the model trained on (a check on the model, its deploy gate), whatever the data
        set's declared reference."""
        self.profiled(asset)
        with self.store.read() as conn:
            found = stored.profiles_of(conn, asset, keys=[partition])
        if not found:
            raise NotFound(f"partition {partition[:60]!r} of {asset!r} has no profile",
                           hint=f"andon drift {asset} lists the profiled partitions")
        return self._reports(asset, found, (model, version) if model and version else None,
                             tested=True)[0]

    def heat(self, asset: str, since: str | None = None,
             limit: int = MAX_HEAT_PARTITIONS) -> Json:
        """``{"asset", "reference", "partitions", "columns", "cells": [{"partition", "column",
        "psi", "js", "p", "band"}], "errors": {partition: why}}`` for the newest ``limit``
        profiled partitions from ``since``. A cell's ``p`` is None when its report was
        computed from the bins only (see the module docstring)."""
        self.profiled(asset)
        with self.store.read() as conn:
            found = stored.profiles_of(conn, asset, since=since)[-limit:]
        reports = self._reports(asset, found, None, tested=False)
        columns: list[str] = []
        for r in reports:
            columns.extend(c.name for c in r.columns if c.name not in columns)
        return {"asset": asset, "reference": reports[-1].reference if reports else
                self.graph.profiled[asset].reference,
                "partitions": [r.partition for r in reports], "columns": columns,
                "cells": [{"partition": r.partition, "column": c.name, "psi": c.psi, "js": c.js,
                           "p": c.p, "band": c.band} for r in reports for c in r.columns],
                "errors": {r.partition: r.error for r in reports if r.error}}

    # -- internals ---------------------------------------------------------------------------

    def _reports(self, asset: str, found: list[stored.StoredProfile],
                 pinned: tuple[str, int] | None, tested: bool) -> list[PartitionDrift]:
        """The reports of ``found``: from memory, else kept in the store, else computed (and
        kept); ``tested``: p-values wanted (a bins-only report does not do)."""
        how = self.graph.profiled[asset]
        label, training = self._training(asset, pinned) \
            if how.reference == "training" or pinned else ("", None)
        window = int(how.reference.split(":", 1)[1]) if how.reference.startswith("window:") \
            else FALLBACK_WINDOW
        history: list[stored.StoredProfile] | None = None
        planned: list[tuple[stored.StoredProfile, str, list[stored.StoredProfile]]] = []
        for sp in found:
            if training is not None:
                refs = training
            else:
                if history is None:
                    with self.store.read() as conn:
                        history = stored.profiles_of(conn, asset, until=found[-1].partition)
                before = [h for h in history if h.partition < sp.partition]
                refs = before[-window:]
                label = how.reference if how.reference != "training" else \
                    f"window:{FALLBACK_WINDOW} (no model version trained on {asset} yet)"
            planned.append((sp, label, refs))
        out: list[PartitionDrift | None] = [self._remembered(asset, *plan, tested)
                                            for plan in planned]
        missing = [i for i, r in enumerate(out) if r is None]
        if missing:
            with self.store.read() as conn:
                kept = driftreports.kept(conn, asset, [planned[i][0].partition for i in missing])
            for i in missing:
                out[i] = self._from_kept(asset, *planned[i], tested, kept)
        # profiles loaded in this call, by run: a window's partitions are each read once, not
        # once per report whose reference holds them; only the window's last ones are kept
        loaded: dict[tuple[str, bool], Any] = {}
        fresh: list[driftreports.KeptReport] = []
        for i, (sp, label, refs) in enumerate(planned):
            if out[i] is None:
                out[i] = self._one(asset, sp, label, refs, how.sample, loaded, tested, fresh)
                keep = {r.run_id for r in refs[1:]} | {sp.run_id}
                for k in [k for k in loaded if k[0] not in keep]:
                    del loaded[k]
        if fresh:
            try:
                self.store.keep_drift_reports(fresh)
            except Exception as exc:  # a cache: the reports are computed again next time
                log.warning("drift reports of %s not kept: %s", asset, exc)
        return [r for r in out if r is not None]

    @staticmethod
    def _key(asset: str, sp: stored.StoredProfile, label: str,
             refs: list[stored.StoredProfile]) -> tuple[Any, ...]:
        return ("report", asset, sp.partition, sp.run_id, label,
                tuple((r.partition, r.run_id) for r in refs))

    def _remembered(self, asset: str, sp: stored.StoredProfile, label: str,
                    refs: list[stored.StoredProfile], tested: bool) -> PartitionDrift | None:
        hit = self._cached(self._key(asset, sp, label, refs))
        return hit if hit is not None and (hit.tested or not tested) else None

    def _from_kept(self, asset: str, sp: stored.StoredProfile, label: str,
                   refs: list[stored.StoredProfile], tested: bool,
                   kept: dict[tuple[str, str], driftreports.KeptReport]) -> PartitionDrift | None:
        digest = driftcache.reference_digest(label, [(r.partition, r.run_id) for r in refs])
        row = kept.get((sp.partition, digest))
        if row is None or row.run_id != sp.run_id or (tested and not row.tested):
            return None
        ref_keys = [r.partition for r in refs]
        found = driftcache.decode(row.body, label, ref_keys, row.tested, sp.columns)
        if found is None:
            log.warning("the kept drift report of %s %s is damaged; computing it again", asset,
                        sp.partition)
            return None
        columns, error = found
        result = PartitionDrift(asset, sp.partition, label, ref_keys,
                                [ColumnDrift(*c) for c in columns], error, row.tested)
        self._keep(self._key(asset, sp, label, refs), result)
        return result

    def _training(self, asset: str, pinned: tuple[str, int] | None = None
                  ) -> tuple[str, list[stored.StoredProfile] | None]:
        """The label and profiles of the serving version's (or the ``pinned`` (model, version)'s)
        training partitions of ``asset``; (_, None) when no model's version read it."""
        with self.store.read() as conn:
            serving = dict([pinned]) if pinned else promotions.serving_versions(conn)
            for pipe in self.graph.pipelines.values():
                if not pipe.models or asset not in {i.asset for i in pipe.inputs}:
                    continue
                for model in pipe.models:
                    if pinned and model != pinned[0]:
                        continue
                    number = serving.get(model)
                    _, versions = relations.model_versions(conn, pipe.name, 1, number)
                    if not versions:
                        continue
                    v = versions[0]
                    keys = sorted({str(i["partition"]) for i in v.inputs
                                   if i.get("asset") == asset})
                    which = (f"version {number}" if pinned else f"serving version {number}") \
                        if number else f"newest version {v.number}, none serving"
                    return (f"training of {model} ({which})",
                            stored.profiles_of(conn, asset, keys=keys))
        return "", None

    def _one(self, asset: str, sp: stored.StoredProfile, label: str,
             refs: list[stored.StoredProfile], sample: int, loaded: dict[tuple[str, bool], Any],
             tested: bool, fresh: list[driftreports.KeptReport]) -> PartitionDrift:
        ref_keys = [r.partition for r in refs]
        lasting = True  # an unreadable profile file may be readable later: not kept
        try:
            if not refs:
                raise DriftError("no reference partition has a profile yet",
                                 hint="the reference fills as partitions are written")
            from andon.drift.measures import drift

            reference = self._merged(asset, refs, loaded, tested)
            part = self._load(sp, asset, loaded, tested)
            report = drift(_thin(part, sample) if tested else part, reference,
                           where=f"{asset} {sp.partition}", tests=tested)
            result = PartitionDrift(asset, sp.partition, label, ref_keys, [
                ColumnDrift(c.column, c.psi, c.js, c.p_value if tested else None, c.band,
                            c.significant) for c in report.columns], tested=tested)
        except DriftError as exc:
            lasting = not isinstance(exc, _Unreadable)
            result = PartitionDrift(asset, sp.partition, label, ref_keys,
                                    error=f"{exc.message} ({exc.where})" if exc.where
                                    else exc.message, tested=tested)
        self._keep(self._key(asset, sp, label, refs), result)
        if lasting:
            body = driftcache.encode(label, ref_keys, [
                (c.name, c.psi, c.js, c.p, c.band, c.significant) for c in result.columns],
                result.error)
            digest = driftcache.reference_digest(label, [(r.partition, r.run_id) for r in refs])
            fresh.append(driftreports.KeptReport(asset, sp.partition, digest, sp.run_id, tested,
                                                 body, sp.at))
        return result

    def _merged(self, asset: str, refs: list[stored.StoredProfile],
                loaded: dict[tuple[str, bool], Any], tested: bool) -> Any:
        key = ("merged", asset, tested, tuple((r.partition, r.run_id) for r in refs))
        hit = self._cached(key)
        if hit is None:
            from andon.drift.profile import merge_all

            hit = merge_all([self._load(r, asset, loaded, tested) for r in refs if r.rows])
            self._keep(key, hit)
        return hit

    def _load(self, sp: stored.StoredProfile, asset: str, loaded: dict[tuple[str, bool], Any],
              samples: bool) -> Any:
        if (sp.run_id, samples) in loaded:
            return loaded[(sp.run_id, samples)]
        loaded[(sp.run_id, samples)] = found = self._read(sp, asset, samples)
        return found

    def _read(self, sp: stored.StoredProfile, asset: str, samples: bool) -> Any:
        from andon.drift import codec

        where = f"{asset} {sp.partition}"
        path = os.path.realpath(os.path.join(self.root, sp.path))
        if not path.startswith(self.root + os.sep):
            raise DriftError(f"the profile's path {sp.path[:80]!r} leads out of the project",
                             where=where, hint="the run's record is damaged")
        try:
            with open(path, "rb") as fh:
                text = fh.read(MAX_PROFILE_BYTES + 1)
        except OSError as exc:
            raise _Unreadable(f"the profile {sp.path} cannot be read: {exc.strerror}",
                             where=where, hint="re-run the partition to write it again") from None
        return codec.loads(text, where=where, samples=samples)

    def _cached(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _keep(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)


class _Unreadable(DriftError):
    """A profile file that cannot be read now (gone, no permission): its report is not kept."""


def _thin(profile: Any, k: int) -> Any:
    """``profile`` with each numeric column's sample cut to ``k`` evenly spaced order statistics
    (``andon.profile(sample=)``: the KS test's sample size)."""
    columns = {}
    for name, col in profile.columns.items():
        if col.kind == "numeric" and len(col.sample) // 8 > k:
            s = col.sample_array
            idx = [int(i * (len(s) - 1) / max(k - 1, 1)) for i in range(k)]
            columns[name] = replace(col, sample=s[idx].tobytes())
        else:
            columns[name] = col
    return replace(profile, columns=columns)
