"""The declared objects of a project: assets (sources and pipeline outputs), pipelines, pools.

Plain frozen dataclasses. ``where`` records the file and line of the declaration so that load-time
errors can name it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from andon.model.access import Access
from andon.model.partitions import Identity, PartitionMapping, Partitions

DEFAULT_LOCATION = "data/{asset}/{partition}"
RESERVED_ENV_PREFIX = "ANDON_"  # andon's own variables: its settings and what it passes to runs
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Asset:
    """A partitioned data set. ``source`` assets arrive from outside (announced by notify or a
    file landing); the others are produced by exactly one pipeline."""

    name: str
    partitions: Partitions
    source: bool = False
    owner: str = ""
    description: str = ""
    location: str = DEFAULT_LOCATION
    watch: str = ""  # a glob under the project; a file landing there announces a partition
    expected_arrival: timedelta | None = None
    where: str = ""
    subscribers: tuple[str, ...] = ()  # e-mail addresses or [notify.webhooks] names
    access: Access | None = None  # how to get access (None: not declared)

    def location_of(self, key: str) -> str:
        """The path (relative to the project) of one partition's data."""
        return self.location.format(asset=self.name, partition=key)


@dataclass(frozen=True)
class Input:
    """One input of a pipeline: an asset and the mapping from the pipeline's partition to the
    asset's partitions it reads."""

    asset: str
    mapping: PartitionMapping = field(default_factory=Identity)


@dataclass(frozen=True)
class Pipeline:
    """A step that turns input partitions into output partitions.

    Exactly one of ``fn`` (a Python function taking a context) and ``command`` (a shell command
    with ``{partition}`` placeholders) is set.
    """

    name: str
    inputs: tuple[Input, ...]
    outputs: tuple[str, ...]
    partitions: Partitions
    fn: Callable[..., Any] | None = None
    command: str = ""
    module: str = ""  # the definitions module that declares it (for child processes)
    pool: str = "default"
    slots: int = 1
    priority: int = 1
    deadline: timedelta | None = None
    expected_duration: timedelta | None = None
    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=10)
    timeout: timedelta | None = None
    max_concurrent: int = 0  # 0 = no cap beyond the pool
    on_upstream_change: str = "rerun"  # or "ignore"
    on_cord: str = "cancel"  # a running run under a pulled cord: "cancel" it, or "finish" (suspect)
    bad_outputs: str = "keep"  # outputs made from bad data: "keep", "quarantine" or "delete"
    owner: str = ""
    description: str = ""
    where: str = ""
    subscribers: tuple[str, ...] = ()  # notified about its outputs, like their owner
    env: tuple[str, ...] = ()  # variables of the scheduler's environment passed to its runs
    secrets: tuple[str, ...] = ()  # passed too, and their values masked in its runs' logs
    uses: tuple[str, ...] = ()  # services and libraries of the catalog it declares it uses
    models: tuple[str, ...] = ()  # models of the catalog each of its successful runs versions

    def retried(self, attempt: int) -> bool:
        """Whether a failure of attempt ``attempt`` (1 the first) is retried: ``retries`` more
        attempts follow the first."""
        return attempt <= self.retries

    def retry_backoff(self, attempt: int) -> timedelta:
        """Delay before attempt ``attempt + 1``: doubling from ``retry_delay``, capped at an hour."""
        return min(self.retry_delay * (2 ** max(attempt - 1, 0)), timedelta(hours=1))


def check_run_names(option: str, names: object) -> tuple[tuple[str, ...], str]:
    """A pipeline's ``env=`` or ``secrets=``: (the names, "") or ((), the problem and its fix).
    Names are environment variable names; ANDON_* ones are andon's own (its settings, among
    them its secrets) and never reach a run."""
    example = f"{option}=['AWS_PROFILE']" if option == "env" else f"{option}=['WAREHOUSE_PASSWORD']"
    if isinstance(names, str) or not isinstance(names, (list, tuple)) \
            or not all(isinstance(n, str) for n in names):
        return (), f"{option}={names!r} must be a list of environment variable names, e.g. {example}"
    bad = [n for n in names if not _ENV_NAME.match(n)]
    if bad:
        return (), (f"{option}= names {', '.join(map(repr, bad))}, which are not environment "
                    f"variable names (letters, digits and _, not starting with a digit), e.g. "
                    f"{example}")
    reserved = [n for n in names if n.upper().startswith(RESERVED_ENV_PREFIX)]
    if reserved:
        return (), (f"{option}= names {', '.join(reserved)}: {RESERVED_ENV_PREFIX}* variables are "
                    f"andon's own (its settings and secrets) and never reach a run; remove them "
                    f"(a run gets its inputs and outputs as ANDON_INPUT_*/ANDON_OUTPUT_* anyway)")
    return tuple(dict.fromkeys(names)), ""


@dataclass(frozen=True)
class Declared:
    """An entry of the catalog declared in the definitions with ``andon.catalog(...)``: its
    fields as a ``catalog.toml`` table would hold them (``andon.registry.declared`` checks them
    as it checks a table) and the file and line of the call."""

    table: Mapping[str, Any]
    where: str


@dataclass(frozen=True)
class Profiled:
    """A data set whose every partition written gets a profile in the run that writes it
    (``andon.profile``, or automatically for a model's pipelines): the ``columns`` profiled
    (empty: every column of the file), the ``reference`` its drift is measured against
    (``"training"`` or ``"window:N"``), the KS ``sample`` size, and whether it was declared
    (``auto``: a file andon cannot read is skipped, not a failure)."""

    asset: str
    columns: tuple[str, ...] = ()
    reference: str = "training"
    sample: int = 5000
    auto: bool = False


@dataclass(frozen=True)
class Pool:
    """A named capacity in slots; runs take ``slots`` from their pool while they run."""

    name: str
    capacity: int
    where: str = ""  # file:line of its declaration in andon.toml
    region: str = ""  # where its runs run ("" not said): the waste audit's cross_region


@dataclass(frozen=True)
class Check:
    """A data quality check on every new version of one asset's partitions. ``fn`` takes the
    partition's data context and returns a result; a failing ``blocking`` check pulls the andon
    cord on the partition, a failing warning check (``blocking=False``) only notifies."""

    name: str
    asset: str
    fn: Callable[..., Any]
    blocking: bool = True
    where: str = ""
