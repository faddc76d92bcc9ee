"""Partition schemes (daily, hourly, unpartitioned) and the mappings between them.

A partition key is a string: ``2026-01-05`` for a day, ``2026-01-05T03`` for an hour, ``all`` for
an unpartitioned asset. A partition *ends* when its time window ends; deadlines and arrivals are
measured from that end (DESIGN.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from andon.model.limits import MAX_WINDOW, moment_problem

UNPARTITIONED_KEY = "all"


class PartitionKeyError(ValueError):
    """A partition key does not match its scheme; the message shows the expected form."""


class AfterLastPartition(PartitionKeyError):
    """A well-formed key after the scheme's last partition (the project's ``end``)."""


@dataclass(frozen=True)
class Partitions:
    """A partition scheme: ``kind`` is ``daily``, ``hourly`` or ``unpartitioned``.

    Time schemes start at ``start`` (UTC); keys before it do not exist. They stop at ``until``
    (UTC, exclusive; None: never): the partitions whose window begins at or after it are not
    expected, listed or accepted (``validate``), though ``begin`` still parses their keys, so a
    log that holds some from before the end was moved earlier stays readable.
    """

    kind: str
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    until: datetime | None = None

    @property
    def step(self) -> timedelta:
        return {"daily": timedelta(days=1), "hourly": timedelta(hours=1)}.get(self.kind, timedelta(0))

    @property
    def is_time(self) -> bool:
        return self.kind in ("daily", "hourly")

    @property
    def key_format(self) -> str:
        return "%Y-%m-%dT%H" if self.kind == "hourly" else "%Y-%m-%d"

    @property
    def example(self) -> str:
        return {"daily": "2026-01-05", "hourly": "2026-01-05T03"}.get(self.kind, UNPARTITIONED_KEY)

    def begin(self, key: str) -> datetime:
        """The start of the partition's time window; raises PartitionKeyError for a bad key."""
        if not self.is_time:
            if key != UNPARTITIONED_KEY:
                raise PartitionKeyError(
                    f"{key!r} is not a key of an unpartitioned asset; use {UNPARTITIONED_KEY!r}")
            return self.start
        try:
            moment = datetime.strptime(key, self.key_format).replace(tzinfo=UTC)
        except ValueError:
            raise PartitionKeyError(
                f"{key!r} is not a {self.kind} partition key; write it like {self.example!r}") from None
        if moment.strftime(self.key_format) != key:
            raise PartitionKeyError(
                f"{key!r} is not a {self.kind} partition key; write it like {self.example!r}")
        problem = moment_problem(moment)
        if problem:
            raise PartitionKeyError(f"{key!r}: {problem}")
        if moment < self.start:
            raise PartitionKeyError(
                f"{key!r} is before the first partition {self.key_of(self.start)!r}")
        return moment

    def validate(self, key: str) -> str:
        """``key`` if it is a partition of this scheme; PartitionKeyError otherwise (an
        AfterLastPartition for a well-formed key after the last partition)."""
        if self.after_end(key):
            raise AfterLastPartition(f"{key!r} is after the last partition {self.last_key!r}")
        return key

    @property
    def last_key(self) -> str | None:
        """The key of the last partition; None when the scheme does not stop."""
        if self.until is None or not self.is_time:
            return None
        return self.key_of(self.until - self.step)

    def after_end(self, key: str) -> bool:
        """Whether ``key`` is after the last partition; PartitionKeyError for a bad key."""
        moment = self.begin(key)
        return self.until is not None and self.is_time and moment >= self.until

    def end(self, key: str) -> datetime:
        """When the partition's window ends (its data can be complete from then on)."""
        return self.begin(key) + self.step

    def key_of(self, moment: datetime) -> str:
        if not self.is_time:
            return UNPARTITIONED_KEY
        return moment.astimezone(UTC).strftime(self.key_format)

    def shift(self, key: str, n: int) -> str:
        try:
            moment = self.begin(key) + n * self.step
        except OverflowError:
            moment = datetime.max.replace(tzinfo=UTC)
        if moment_problem(moment):
            raise PartitionKeyError(f"{key!r} shifted by {n} is outside the supported partitions")
        return self.key_of(moment)

    def keys(self, first: str, last: str) -> list[str]:
        """Every key from ``first`` to ``last`` inclusive, in order, up to the last partition."""
        if not self.is_time:
            return [UNPARTITIONED_KEY]
        moment, end = self.begin(first), self.begin(last)
        if self.until is not None:
            end = min(end, self.until - self.step)
        out = []
        while moment <= end:
            out.append(self.key_of(moment))
            moment += self.step
        return out


class PartitionMapping(Protocol):
    """Which upstream partitions a downstream partition reads, and the inverse.

    Implementations are small frozen dataclasses; a new one (weekly roll-up, last N hours, ...)
    needs only these two methods and ``describe``.
    """

    def upstream_keys(self, key: str, down: Partitions, up: Partitions) -> list[str]: ...

    def downstream_keys(self, key: str, up: Partitions, down: Partitions) -> list[str]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Identity:
    """The downstream partition reads the upstream partition with the same key."""

    def upstream_keys(self, key: str, down: Partitions, up: Partitions) -> list[str]:
        return [key]

    def downstream_keys(self, key: str, up: Partitions, down: Partitions) -> list[str]:
        return [key]

    def describe(self) -> str:
        return "identity"


@dataclass(frozen=True)
class LastN:
    """A window: the downstream partition reads the ``n`` upstream partitions ending at its key
    (clipped at the scheme's first partition)."""

    n: int

    def upstream_keys(self, key: str, down: Partitions, up: Partitions) -> list[str]:
        first = up.begin(key) if up.is_time else None
        keys = []
        for i in range(self.n - 1, -1, -1):
            moment = (first or up.start) - i * up.step
            if moment >= up.start:
                keys.append(up.key_of(moment))
        return keys

    def downstream_keys(self, key: str, up: Partitions, down: Partitions) -> list[str]:
        return [down.shift(key, i) for i in range(self.n)]

    def describe(self) -> str:
        return f"last {self.n}"


@dataclass(frozen=True)
class Rollup:
    """A roll-up: a coarse downstream partition (a day) reads every fine upstream partition
    (its hours) inside its window."""

    def upstream_keys(self, key: str, down: Partitions, up: Partitions) -> list[str]:
        begin, end = down.begin(key), down.end(key)
        return up.keys(up.key_of(max(begin, up.start)), up.key_of(end - up.step))

    def downstream_keys(self, key: str, up: Partitions, down: Partitions) -> list[str]:
        return [down.key_of(up.begin(key))]

    def describe(self) -> str:
        return "roll-up"


@dataclass(frozen=True)
class Serving:
    """The version of catalog model ``model`` that serves when the run starts: its artifact is
    the partition of ``output`` (a data set of the model's producer) that the version's run
    wrote. Which partition that is changes with promotions, not with the reader's partition, so
    the mapping itself reaches no partition: the engine adds the serving artifact's version to a
    run's inputs (``andon.engine.serving``)."""

    model: str
    output: str = ""  # the producer's output holding the artifact ("": its only one)

    def upstream_keys(self, key: str, down: Partitions, up: Partitions) -> list[str]:
        return []

    def downstream_keys(self, key: str, up: Partitions, down: Partitions) -> list[str]:
        return []

    def describe(self) -> str:
        return f"serving version of model {self.model}"


def last(n: int) -> LastN:
    """A window mapping over the last ``n`` partitions, e.g. ``andon.last(7)``."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"last({n!r}): a window needs a whole number of partitions")
    if n < 1:
        raise ValueError(f"last({n}): a window needs at least one partition")
    if n > MAX_WINDOW:
        raise ValueError(f"last({n}): a window holds at most {MAX_WINDOW} partitions "
                         "(a year of hours); read fewer")
    return LastN(n)


def parse_partitions(spec: str | Partitions | None, start: datetime,
                     until: datetime | None = None) -> Partitions:
    """Turn ``"daily"``, ``"hourly"`` or ``None``/``"unpartitioned"`` into a scheme from
    ``start`` (stopping at ``until``, exclusive, when given)."""
    if isinstance(spec, Partitions):
        return spec
    if spec is not None and not isinstance(spec, str):
        raise PartitionKeyError(
            f"{spec!r} is not a partition scheme; use 'daily', 'hourly' or 'unpartitioned'")
    kind = (spec or "unpartitioned").strip().lower()
    if kind not in ("daily", "hourly", "unpartitioned"):
        raise PartitionKeyError(
            f"{spec!r} is not a partition scheme; use 'daily', 'hourly' or 'unpartitioned'")
    return Partitions(kind, start, until)
