"""A history with planted waste of every built kind, and decoys that look like it but are not
waste: the definitions of its project (``planted_project``) and its events (``plant``), appended
through ``Store.append`` so that the read models are filled exactly as the live runner fills
them. The audit's tests and its recall benchmark (``benchmarks/bench_audit.py``) judge the
audit against what was planted; ``andon demo`` can show it on a board.

Each of ``copies`` copies holds, with ``{i}`` its number:

- unused_data ``unused{i}`` (made 60 days ago, never read); decoys ``kept{i}`` (as old, read
  two days ago) and ``young{i}`` (three days old, never read);
- data_deluge ``flood{i}`` (made again yesterday, never read) and ``hoard{i}`` (read lately,
  its partition of 60 days ago still kept, no retention); decoy ``drain{i}`` (made and read in
  the last two days);
- dead_pipeline ``dead{i}`` (last run 60 days ago) and ``never{i}`` (never ran); decoy
  ``alive{i}`` (ran 60 and 2 days ago);
- dead_pipeline with agreed dates: ``retired{i}`` (deprecated in the catalog, no deletion date
  agreed) and ``overdue{i}`` (its agreed deletion date passed 5 days ago, not deleted); decoys
  ``agreed{i}`` (not run for 60 days, but its agreed date is 20 days ahead) and ``swept{i}``
  (past its date and deleted);
- startup_delay ``slow{i}`` (5 s start-up for 2 s of work); decoys ``fast{i}`` and ``brief{i}``
  (400 % of almost nothing);
- batch_should_stream ``often{i}`` (a 3 s run every 5 minutes); decoys ``hourly{i}`` (every
  hour), ``backfilled{i}`` (a backfill: one a minute), ``catchup{i}`` (12 runs back to
  back, once: a catch-up after a stop) and ``burst{i}`` (a run a day before such a burst);
  ``rerun{i}`` (re-makes one partition daily, 5 of 6 times with the same content: found
  nothing new); decoy ``fresh{i}`` (re-makes it as often, new content each time);
- duplicate_data ``dupb{i}`` (the same content as ``dupa{i}``); decoy ``same{i}`` (two
  partitions of one data set with equal content);
- noisy_alert ``check:noisy{i} on kept{i}`` (6 cords, 5 accepted as fine); decoy
  ``check:good{i} on dupa{i}`` (6 cords, each re-made);
- noisy_alert from warning checks (``blocking=False``): ``check:warnnoisy{i} on alarm{i}``
  (6 failures, a new version after only one); decoy ``check:warngood{i} on fixed{i}`` (each
  failure followed by a re-delivery);
- fossil_artifact model ``m{i}`` (4 old versions, never promoted); decoy ``mok{i}`` (two
  recent versions); versioned data set ``vers{i}`` (``keep_last=1``, one partition delivered
  5 times, each version in a file of its own, 4 of them 57 to 60 days old); decoys
  ``inplace{i}`` (as often, overwritten in place) and ``deep{i}`` (``keep_last=5``, five
  partitions);
- idle_capacity pool ``idle{i}`` (one short run); decoy ``busy{i}`` (a run through the whole
  window). The ``default`` pool, which holds the short runs above, is idle too: planted;
- backup_not_drilled ``bak{i}`` (its drill ``drill{i}`` never ran: a dead pipeline too) and
  ``bakslow{i}`` (its drill took 2 h for a 1 h RTO); decoy ``bakok{i}`` (drilled in 10 s);
- cross_region ``xfer{i} reads far{i}`` (pool ``busy{i}`` in eu-west-1, data in us-east-1);
  decoy ``local{i} reads near{i}`` (both in eu-west-1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from andon.events import (
    CheckFailed,
    CordPulled,
    CordResolved,
    Event,
    OutputWritten,
    PartitionAvailable,
    PartitionRef,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.events.catalog import CatalogEntryDeclared
from andon.events.lifecycle import ObjectDeleted, ObjectDeprecated, deprecated_event_id

GB = 1_000_000_000
SOURCES = ("unused", "kept", "young", "dupa", "dupb", "same", "alarm", "fixed")
# source -> its options in the definitions
DECLARED = {"bak": 'backup_of="kept{i}"', "bakslow": 'backup_of="kept{i}"',
            "bakok": 'backup_of="kept{i}"', "far": 'region="us-east-1"',
            "near": 'region="eu-west-1"', "vers": "keep_last=1", "inplace": "keep_last=1",
            "deep": "keep_last=5"}
DRILLS = {"drill": "bak", "drillslow": "bakslow", "drillok": "bakok"}
# pipeline -> (inputs, outputs, pool, models)
PIPELINES = {
    "use": (("kept", "drain", "dupa", "dupb", "same", "vers", "inplace", "deep", "hoard"),
            ("used",), "", ""),
    "deluge": (("kept",), ("flood",), "", ""),
    "drainp": (("kept",), ("drain",), "", ""),
    "hoardp": (("kept",), ("hoard",), "", ""),
    "dead": ((), ("deadout",), "", ""),
    "never": ((), ("neverout",), "", ""),
    "alive": ((), ("aliveout",), "", ""),
    "slow": ((), ("slowout",), "", ""),
    "fast": ((), ("fastout",), "", ""),
    "often": ((), ("oftenout",), "", ""),
    "hourly": ((), ("hourlyout",), "", ""),
    "backfilled": ((), ("backout",), "", ""),
    "catchup": ((), ("catchout",), "", ""),
    "burst": ((), ("burstout",), "", ""),
    "train": ((), ("trainout",), "", "m"),
    "trainok": ((), ("trainokout",), "", "mok"),
    "spare": ((), ("spareout",), "idle", ""),
    "grind": ((), ("grindout",), "busy", ""),
    "xfer": (("far",), ("xferout",), "busy", ""),
    "local": (("near",), ("localout",), "busy", ""),
    "retired": ((), ("retiredout",), "", ""),
    "overdue": ((), ("overdueout",), "", ""),
    "agreed": ((), ("agreedout",), "", ""),
    "swept": ((), ("sweptout",), "", ""),
    "rerun": ((), ("rerunout",), "", ""),
    "fresh": ((), ("freshout",), "", ""),
}


def planted_project(copies: int) -> tuple[str, dict[str, int], dict[str, str]]:
    """The definitions module (text), the pools and the pools' regions (``[audit]
    pool_regions``) of the planted project."""
    lines = ["import andon", "", "def noop(ctx):", "    pass", "", 'andon.source("origin")']
    pools = {"default": 8}
    for i in range(copies):
        lines += [f'andon.source("{s}{i}")' for s in SOURCES]
        lines += [f'andon.source("{s}{i}", {o.format(i=i)})' for s, o in DECLARED.items()]
        lines += [f'andon.restore_drill("{b}{i}", rto="1h", name="{d}{i}", outputs=["{d}out{i}"])'
                  "(noop)" for d, b in DRILLS.items()]
        lines += [f'andon.catalog(kind="model", name="{m}{i}", owner="ml@example.com")'
                  for m in ("m", "mok")]
        for name, (inputs, outputs, pool, model) in PIPELINES.items():
            extra = (f', pool="{pool}{i}"' if pool else "") + (
                f', models=["{model}{i}"]' if model else "")
            lines.append(f'andon.pipeline("{name}{i}", inputs={[f"{x}{i}" for x in inputs]}, '
                         f'outputs={[f"{x}{i}" for x in outputs]}{extra})(noop)')
        pools |= {f"idle{i}": 4, f"busy{i}": 1}
    regions = {f"busy{i}": "eu-west-1" for i in range(copies)}
    return "\n".join(lines) + "\n", pools, regions


def write_project(root: Path, copies: int, audit: str = "", end: str = "") -> None:
    """Write the planted project's ``andon.toml`` (``audit``: lines added to its ``[audit]``;
    ``end``: its ``[project] end``, "" none) and ``pipelines.py`` into the folder ``root``."""
    definitions, pools, regions = planted_project(copies)
    (root / "pipelines.py").write_text(definitions)
    pool_lines = "\n".join(f"{k} = {v}" for k, v in pools.items())
    inline = ", ".join(f'{k} = "{v}"' for k, v in regions.items())
    (root / "andon.toml").write_text(
        '[project]\nname = "planted"\ndefinitions = ["pipelines.py"]\nstart = "2026-01-01"\n'
        + (f'end = "{end}"\n' if end else "")
        + f"\n[pools]\n{pool_lines}\n\n[audit]\npool_regions = {{ {inline} }}\n{audit}\n")


@dataclass
class Planted:
    """What was planted: ``expected`` (kind, object) findings and ``decoys`` (kind, object)
    that must not be found."""

    expected: set[tuple[str, str]] = field(default_factory=set)
    decoys: set[tuple[str, str]] = field(default_factory=set)


def _day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


class _Log:
    def __init__(self, now: datetime) -> None:
        self.now, self.n = now, 0
        self.events: list[Event] = []
        self.keys: dict[str, str] = {}  # the newest partition of each data set

    def ago(self, days: float, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, minutes=minutes)

    def data(self, asset: str, at: datetime, fingerprint: str = "", size: int = GB,
             key: str = "", location: str = "") -> None:
        self.n += 1
        key = self.keys[asset] = key or _day(at)
        self.events.append(PartitionAvailable(
            id=f"plant:{self.n}", at=at, asset=asset, partition=key,
            location=location or f"data/{asset}", size_bytes=size,
            fingerprint=fingerprint or f"{asset}:{key}:{self.n}"))

    def warning(self, check: str, asset: str, key: str, version: int, at: datetime) -> None:
        """A warning check (``blocking=False``) ``check`` failed on ``asset`` ``key`` v``version``."""
        self.n += 1
        self.events.append(CheckFailed(
            id=f"warn:{self.n}", at=at, asset=asset, partition=key, version=version,
            check=check, blocking=False, message="out of range"))

    def run(self, pipeline: str, at: datetime, reads: tuple[str, ...] = (),
            writes: tuple[str, ...] = (), startup: float = 0.1, work: float = 3.0,
            reason: str = "new_data", pool: str = "default", key: str = "",
            fingerprint: str = "") -> None:
        self.n += 1
        run_id, key = f"{pipeline}:{self.n}", key or _day(at)
        end = at + timedelta(seconds=startup + work)
        self.events += [
            RunQueued(id=f"queued:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                      partition=key, reason=reason),
            RunStarted(id=f"started:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                       partition=key, pool=pool,
                       inputs=tuple(PartitionRef(a, self.keys[a]) for a in reads)),
            RunSucceeded(id=f"ended:{run_id}", at=end, run_id=run_id, pipeline=pipeline,
                         partition=key, startup_seconds=startup, work_seconds=work,
                         outputs=tuple(OutputWritten(o, key, f"data/{o}", GB, 1,
                                                     fingerprint or f"{o}:{key}:{self.n}")
                                       for o in writes))]
        self.keys |= {o: key for o in writes}

    def deprecate(self, pipeline: str, noticed: float, delete_after: float,
                  deleted: float | None = None) -> None:
        """``pipeline`` deprecated ``noticed`` days ago, to be deleted ``delete_after`` days
        ago (negative: ahead), and deleted ``deleted`` days ago."""
        day = _day(self.ago(delete_after))
        self.events.append(ObjectDeprecated(
            id=deprecated_event_id("pipeline", pipeline, day), at=self.ago(noticed),
            kind="pipeline", object=pipeline, delete_after=day, reason="replaced", by="ops"))
        if deleted is not None:
            self.events.append(ObjectDeleted(id=f"deleted:pipeline:{pipeline}",
                                             at=self.ago(deleted), kind="pipeline",
                                             object=pipeline, reason="agreed", by="ops"))

    def cords(self, by: str, asset: str, count: int, false: int) -> None:
        for j in range(count):
            self.n += 1
            cord_id, at = f"c{self.n}", self.ago(10 - j)
            self.events += [
                CordPulled(id=f"cord:{cord_id}", at=at, cord_id=cord_id, asset=asset,
                           partition=_day(at), by=by),
                CordResolved(id=f"resolved:{cord_id}", at=at + timedelta(hours=1),
                             cord_id=cord_id, manual_fix=j < false)]


def _copy(log: _Log, i: int, planted: Planted) -> None:
    exp, dec = planted.expected.add, planted.decoys.add
    log.data(f"unused{i}", log.ago(60))
    log.data(f"kept{i}", log.ago(60))
    log.data(f"young{i}", log.ago(3))
    exp(("unused_data", f"unused{i}"))
    dec(("unused_data", f"kept{i}"))
    dec(("unused_data", f"young{i}"))
    dec(("data_deluge", f"young{i}"))
    log.data(f"dupa{i}", log.ago(40), f"dup{i}")
    log.data(f"dupb{i}", log.ago(40), f"dup{i}")
    log.data(f"same{i}", log.ago(41), f"same{i}")
    log.data(f"same{i}", log.ago(40), f"same{i}")
    exp(("duplicate_data", f"dupb{i}"))
    dec(("duplicate_data", f"same{i}"))
    for days in (60, 1):
        log.run(f"deluge{i}", log.ago(days), (f"kept{i}",), (f"flood{i}",))
        log.run(f"hoardp{i}", log.ago(days), (f"kept{i}",), (f"hoard{i}",))
    for days in (2, 1):
        log.run(f"drainp{i}", log.ago(days), (f"kept{i}",), (f"drain{i}",))
    exp(("data_deluge", f"flood{i}"))
    exp(("data_deluge", f"hoard{i}"))  # read lately, but its 60-day-old partition still kept
    dec(("data_deluge", f"drain{i}"))
    for j, days in enumerate((60, 59, 58, 57, 1)):  # one partition re-made, keep_last = 1
        log.data(f"vers{i}", log.ago(days), key="2026-01-01", location=f"data/vers{i}/v{j}")
        log.data(f"inplace{i}", log.ago(days), key="2026-01-01")  # overwritten in place
    for days in (60, 59, 58, 57, 1):  # five partitions, keep_last = 5: all agreed
        log.data(f"deep{i}", log.ago(days), location=f"data/deep{i}/{days}")
    exp(("fossil_artifact", f"vers{i}"))
    dec(("fossil_artifact", f"inplace{i}"))
    dec(("fossil_artifact", f"deep{i}"))
    log.run(f"use{i}", log.ago(0.5), tuple(f"{x}{i}" for x in PIPELINES["use"][0]))
    log.run(f"dead{i}", log.ago(60))
    log.run(f"alive{i}", log.ago(60))
    log.run(f"alive{i}", log.ago(2))
    exp(("dead_pipeline", f"dead{i}"))
    exp(("dead_pipeline", f"never{i}"))
    dec(("dead_pipeline", f"alive{i}"))
    log.events.append(CatalogEntryDeclared(
        id=f"catalog:retired{i}", at=log.ago(20), kind="pipeline", entry=f"retired{i}",
        owner="data@example.com", lifecycle="deprecated", since=_day(log.ago(-30))))
    log.run(f"retired{i}", log.ago(2))
    log.deprecate(f"overdue{i}", 30, 5)
    log.run(f"overdue{i}", log.ago(40))
    log.deprecate(f"agreed{i}", 5, -20)
    log.run(f"agreed{i}", log.ago(60))
    log.deprecate(f"swept{i}", 40, 20, deleted=10)
    log.run(f"swept{i}", log.ago(50))
    exp(("dead_pipeline", f"retired{i}"))
    exp(("dead_pipeline", f"overdue{i}"))
    dec(("dead_pipeline", f"agreed{i}"))
    dec(("dead_pipeline", f"swept{i}"))
    for j in range(6):
        log.run(f"slow{i}", log.ago(10 - j), startup=5.0, work=2.0)
        log.run(f"fast{i}", log.ago(10 - j), startup=0.1, work=10.0)
        log.run(f"brief{i}", log.ago(10 - j), startup=0.2, work=0.05)  # 400 %, 1.2 s in all
    exp(("startup_delay", f"slow{i}"))
    dec(("startup_delay", f"fast{i}"))
    dec(("startup_delay", f"brief{i}"))
    for j in range(24):  # two hours of it
        log.run(f"often{i}", log.ago(1, 5 * (24 - j)))
    for j in range(12):
        log.run(f"hourly{i}", log.ago(1, 60 * (12 - j)))
        log.run(f"backfilled{i}", log.ago(1, 12 - j), reason="backfill")
        log.run(f"catchup{i}", log.ago(1, (12 - j) / 6))
        log.run(f"burst{i}", log.ago(0, 10 + (12 - j) / 6))
    log.run(f"burst{i}", log.ago(1, 10))
    exp(("batch_should_stream", f"often{i}"))
    for j in range(6):  # one partition re-made daily: the same content 5 times of 6
        log.run(f"rerun{i}", log.ago(6 - j), writes=(f"rerunout{i}",), key="2026-01-01",
                fingerprint=f"rerun{i}")
        log.run(f"fresh{i}", log.ago(6 - j), writes=(f"freshout{i}",), key="2026-01-01")
    exp(("batch_should_stream", f"rerun{i}"))
    dec(("batch_should_stream", f"fresh{i}"))
    dec(("batch_should_stream", f"hourly{i}"))
    dec(("batch_should_stream", f"backfilled{i}"))
    dec(("batch_should_stream", f"catchup{i}"))
    dec(("batch_should_stream", f"burst{i}"))
    log.cords(f"check:noisy{i}", f"kept{i}", 6, 5)
    log.cords(f"check:good{i}", f"dupa{i}", 6, 0)
    exp(("noisy_alert", f"check:noisy{i} on kept{i}"))
    dec(("noisy_alert", f"check:good{i} on dupa{i}"))
    for j in range(6):  # a warning check a day: nobody acts on 5 of 6 (no new version after)
        key = _day(log.ago(10 - j))
        log.data(f"alarm{i}", log.ago(10 - j), key=key)
        log.warning(f"warnnoisy{i}", f"alarm{i}", key, 1, log.ago(10 - j, -10))
        log.data(f"fixed{i}", log.ago(10 - j), key=key)
        log.warning(f"warngood{i}", f"fixed{i}", key, 1, log.ago(10 - j, -10))
        log.data(f"fixed{i}", log.ago(10 - j, -60), key=key)  # re-delivered: acted on
        if j == 0:
            log.data(f"alarm{i}", log.ago(10 - j, -60), key=key)
    exp(("noisy_alert", f"check:warnnoisy{i} on alarm{i}"))
    dec(("noisy_alert", f"check:warngood{i} on fixed{i}"))
    for days in (60, 59, 58, 57, 1):
        log.run(f"train{i}", log.ago(days))
    for days in (2, 1):
        log.run(f"trainok{i}", log.ago(days))
    exp(("fossil_artifact", f"m{i}"))
    dec(("fossil_artifact", f"mok{i}"))
    log.run(f"spare{i}", log.ago(2), pool=f"idle{i}")
    log.run(f"grind{i}", log.ago(29), work=28.9 * 86400, pool=f"busy{i}")
    exp(("idle_capacity", f"idle{i}"))
    dec(("idle_capacity", f"busy{i}"))
    for name in ("bak", "bakslow", "bakok"):
        log.data(f"{name}{i}", log.ago(50))
    log.run(f"drillslow{i}", log.ago(5), (f"bakslow{i}",), work=7200.0)
    log.run(f"drillok{i}", log.ago(5), (f"bakok{i}",), work=10.0)
    exp(("backup_not_drilled", f"bak{i}"))
    exp(("backup_not_drilled", f"bakslow{i}"))
    exp(("dead_pipeline", f"drill{i}"))
    dec(("backup_not_drilled", f"bakok{i}"))
    log.data(f"far{i}", log.ago(40))
    log.data(f"near{i}", log.ago(40))
    log.run(f"xfer{i}", log.ago(2), (f"far{i}",), pool=f"busy{i}")
    log.run(f"local{i}", log.ago(2), (f"near{i}",), pool=f"busy{i}")
    exp(("cross_region", f"xfer{i} reads far{i}"))
    dec(("cross_region", f"local{i} reads near{i}"))


def plant(now: datetime, copies: int) -> tuple[list[Event], Planted]:
    """The events of the planted history ending at ``now`` (oldest first), and what was
    planted. The log begins 90 days before ``now``."""
    log, planted = _Log(now), Planted({("idle_capacity", "default"), ("unused_data", "origin")})
    log.data("origin", log.ago(90))  # the log's first event: "never ran" means something
    for i in range(copies):
        _copy(log, i, planted)
    return sorted(log.events, key=lambda e: e.at), planted


def batches(events: list[Event], size: int = 5000) -> Iterator[list[Event]]:
    """``events`` in appendable batches."""
    for start in range(0, len(events), size):
        yield events[start:start + size]
