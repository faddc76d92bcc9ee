"""The sweep's plan: what would be deleted (each file with its size and the rule that deletes
it), what is blocked (a deprecated object whose deletion is refused, with the reason and the
fix), what was refused (a location andon may not remove) and what a sweep that stopped midway
left to finish (tombstoned files still there). ``build`` is pure: the live shell hands it the
store's facts and the checked paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from andon.events.codec import format_time, parse_time
from andon.model.views import Json, View
from andon.project.retention import SweepPolicy
from andon.store.lifecycle import Deprecation, StoredVersion
from andon.sweep.rules import Notice, Read, deletion_verdict, retained

DEPRECATED_RULE = "deprecated"


@dataclass(frozen=True, slots=True, eq=False)
class Item(View):
    """One file (or folder) the sweep deletes: a version of a partition, its location and size,
    the rule, and the deprecated object it belongs to ("" under retention)."""

    asset: str
    partition: str
    version: int
    location: str
    size_bytes: int
    rule: str
    reason: str = ""
    kind: str = ""
    object: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Blocked(View):
    """A deprecated object the sweep may not delete now: why, and what to do. ``reader`` and
    ``read_at``: the read after the notice that blocks it ("" for another reason)."""

    kind: str
    object: str
    delete_after: str
    reason: str
    fix: str
    asset: str = ""
    reader: str = ""
    read_at: str = ""
    owner: str = ""
    noticed_at: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Refusal(View):
    """A recorded location the sweep will not remove, and why."""

    asset: str
    partition: str
    version: int
    location: str
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class Finished(View):
    """A deprecated object whose data is all gone once this sweep is applied."""

    kind: str
    object: str
    files: int
    size_bytes: int
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class SweepPlan(View):
    """The whole plan at ``at``. ``finish``: files tombstoned by an earlier sweep that are still
    there (it stopped between the record and the removal); applying removes them too."""

    at: str
    deletions: tuple[Item, ...]
    blocked: tuple[Blocked, ...]
    refused: tuple[Refusal, ...]
    finish: tuple[Item, ...]
    finished: tuple[Finished, ...]

    @property
    def freed_bytes(self) -> int:
        return sum(i.size_bytes for i in self.deletions) + sum(i.size_bytes for i in self.finish)

    def to_json(self) -> Json:
        out = dict(self.items())  # the Mapping's: the fields as JSON
        out["freed_bytes"] = self.freed_bytes
        return out


def build(now: str, policy: SweepPolicy, deprecations: Sequence[Deprecation],
          versions: Mapping[str, Sequence[StoredVersion]], reads: Iterable[Read],
          last_read: Mapping[tuple[str, str, int], str],
          tombstoned: Iterable[tuple[str, str, int]], refused: Mapping[str, str],
          present: Iterable[StoredVersion] = ()) -> SweepPlan:
    """The plan at ``now`` (ISO time). ``versions``: data set -> its recorded versions;
    ``reads``: every read of the deprecated data sets; ``last_read``: (asset, partition,
    version) -> its last read within the longest retention; ``tombstoned``: versions already
    deleted; ``refused``: location -> why it may not be removed; ``present``: tombstoned
    versions whose file is still there (to finish)."""
    moment: datetime = parse_time(now)
    gone = set(tombstoned)
    reads_by_asset: dict[str, list[Read]] = {}
    for r in reads:
        reads_by_asset.setdefault(r.asset, []).append(r)
    items: dict[tuple[str, str, int], Item] = {}
    blocked: list[Blocked] = []
    finished: list[Finished] = []
    for dep in deprecations:
        if dep.deleted_at is not None:
            continue
        notice = Notice(dep.kind, dep.object, dep.delete_after, parse_time(dep.noticed_at))
        verdict = deletion_verdict(notice, [r for a in dep.assets
                                            for r in reads_by_asset.get(a, ())],
                                   moment, policy.notice_days)
        if not verdict.allowed:
            read = verdict.blocking
            blocked.append(Blocked(
                dep.kind, dep.object, dep.delete_after, verdict.reason, verdict.fix,
                read.asset if read else "", read.reader if read else "",
                format_time(read.at) if read else "", dep.owner, dep.noticed_at))
            continue
        files, size = 0, 0
        for asset in dep.assets:
            for v in versions.get(asset, ()):
                if (v.asset, v.partition, v.version) in gone:
                    continue
                items[(v.asset, v.partition, v.version)] = Item(
                    v.asset, v.partition, v.version, v.location, v.size_bytes, DEPRECATED_RULE,
                    dep.reason, dep.kind, dep.object)
                files, size = files + 1, size + v.size_bytes
        finished.append(Finished(dep.kind, dep.object, files, size, dep.reason))
    for asset, rule in sorted(policy.retention.items()):
        live = [v for v in versions.get(asset, ()) if (v.asset, v.partition, v.version) not in gone]
        for v, why in retained(live, rule, moment, last_read):
            items.setdefault((v.asset, v.partition, v.version), Item(
                v.asset, v.partition, v.version, v.location, v.size_bytes, why,
                f"declared at {rule.where}" if rule.where else ""))
    refusals = tuple(Refusal(i.asset, i.partition, i.version, i.location, refused[i.location])
                     for i in items.values() if i.location in refused)
    # an object with a refused file is not wholly gone: it keeps its state until a person looks
    stuck = {(i.kind, i.object) for i in items.values() if i.location in refused and i.object}
    return SweepPlan(
        now, tuple(i for i in items.values() if i.location not in refused), tuple(blocked),
        refusals,
        tuple(Item(v.asset, v.partition, v.version, v.location, v.size_bytes, "finish")
              for v in present),
        tuple(f for f in finished if (f.kind, f.object) not in stuck))
