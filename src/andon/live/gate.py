"""The promotion gate of a ``deploy = "auto"`` model (``gate = {metric, tolerance, partitions,
drift}`` with its catalog entry): a new version is promoted only if, on the newest
``partitions`` partitions that the scoring pipelines scored in shadow with both it and the
version serving (their predictions carry a ``model_version`` column, and the model's
``andon.performance`` pipeline logs ``METRIC@vN`` for each version), its realised metric is at
least the serving one's minus the tolerance (at most plus it, for an error such as rmse), and,
with ``drift``, the newest partition of each profiled data set it trained on has not drifted
red against its own training data. Otherwise it stays a candidate (``model.held``, told to its
owner) and the gate is asked again as more is measured."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from andon.checks.modelchecks import DriftLike
from andon.checks.scoring import higher_is_better
from andon.registry.entries import Gate
from andon.store import models as store_models
from andon.store import relations
from andon.store.sql import Store

SCANNED = 4  # partitions of measurements read per partition the gate compares on

# (model, data set, partition, version of the model) -> the partition's drift against that
# version's training data, or None (no profile, nothing to compare with)
DriftOf = Callable[[str, str, str, int], DriftLike | None]


@dataclass(frozen=True)
class Verdict:
    """Whether the candidate may be promoted; ``kind``: ``passed``, ``waiting``, ``worse`` or
    ``drift``; ``reason``: one sentence; ``numbers``: the means compared."""

    passed: bool
    kind: str
    reason: str
    numbers: Mapping[str, float] = field(default_factory=dict)


def compare(gate: Gate, candidate: int, serving: int,
            measured: Sequence[tuple[str, Mapping[str, float]]]) -> Verdict:
    """The performance half of the gate, over ``measured`` (partition, metrics), newest first:
    the candidate against the serving version on the newest ``gate.partitions`` partitions where
    both were measured."""
    mine, theirs = f"{gate.metric}@v{candidate}", f"{gate.metric}@v{serving}"
    both = [(p, m[mine], m[theirs]) for p, m in measured if mine in m and theirs in m]
    both = both[:gate.partitions]
    if len(both) < gate.partitions:
        return Verdict(False, "waiting",
                       f"{len(both)} of {gate.partitions} partition(s) scored in shadow by "
                       f"version {candidate} and version {serving} so far (the model's "
                       f"performance pipeline logs {mine} when the predictions carry a "
                       "model_version column)")
    new = sum(b[1] for b in both) / len(both)
    old = sum(b[2] for b in both) / len(both)
    lower = not higher_is_better(gate.metric)
    ok = new <= old + gate.tolerance if lower else new >= old - gate.tolerance
    span = f"{both[-1][0]}..{both[0][0]}" if len(both) > 1 else both[0][0]
    numbers = {mine: new, theirs: old}
    said = (f"{gate.metric} {new:.4g} for version {candidate} against {old:.4g} for version "
            f"{serving} on {len(both)} partition(s) ({span}), tolerance {gate.tolerance:g}")
    if ok:
        return Verdict(True, "passed", said, numbers)
    return Verdict(False, "worse", said + ("; lower is better" if lower else ""), numbers)


class GateKeeper:
    """Judges a candidate version of a gated model: ``performance_of`` gives each model's
    performance pipelines, ``trains_on`` the profiled data sets its versions train on."""

    def __init__(self, store: Store, performance_of: Mapping[str, Sequence[str]],
                 trains_on: Mapping[str, Sequence[str]], drift_of: DriftOf | None = None
                 ) -> None:
        self.store, self.performance_of = store, performance_of
        self.trains_on, self.drift_of = trains_on, drift_of

    def verdict(self, model: str, gate: Gate, candidate: int, serving: int) -> Verdict:
        """Whether version ``candidate`` of ``model`` may replace ``serving`` (0: none serves,
        so there is nothing to compare with and only the drift half applies)."""
        if serving:
            pipelines = self.performance_of.get(model, ())
            if not pipelines:
                return Verdict(False, "waiting", f"model {model} has no andon.performance "
                               f"pipeline to measure {gate.metric} with; promote it by hand")
            with self.store.read() as conn:
                measured = [m for p in pipelines
                            for m in store_models.measured(conn, p, gate.partitions * SCANNED)]
            measured.sort(key=lambda pm: pm[0], reverse=True)
            found = compare(gate, candidate, serving, measured)
            if not found.passed:
                return found
        else:
            found = Verdict(True, "passed", "no version serves yet")
        if gate.drift and self.drift_of is not None:
            for asset in self.trains_on.get(model, ()):
                with self.store.read() as conn:
                    newest, _ = relations.newest_partition(conn, asset)
                if newest is None:
                    continue
                report = self.drift_of(model, asset, newest, candidate)
                red = [c for c in (report.columns if report is not None else ())
                       if c.band == "red"]
                if red:
                    shown = ", ".join(f"{c.name} PSI {c.psi:.2f}" for c in red[:5])
                    return Verdict(False, "drift", f"{asset} {newest} drifted red against the "
                                   f"training data of version {candidate}: {shown}")
        return found
