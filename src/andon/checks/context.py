"""What a check receives (the partition's data context) and what it returns (a result)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from andon.checks.tables import Table, data_files, read_table
from andon.model.definitions import Asset

CheckFn = Callable[["CheckContext"], Any]


@dataclass(frozen=True)
class CheckResult:
    """``passed``; ``numbers``: the measurements (recorded with the event and charted);
    ``message``: one sentence saying what was found."""

    passed: bool
    numbers: Mapping[str, float] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class CheckContext:
    """One new version of one partition of ``asset``.

    ``path`` is its data (a file, or a folder of files); ``partition_end`` is when its time window
    ends (None for an unpartitioned asset); ``now`` is when the check runs. ``table`` reads the
    data once (CSV, TSV or JSON lines, optionally gzipped); ``previous(n)`` lists the earlier
    partitions whose data exists, for checks that compare against history.
    """

    asset: str
    partition: str
    version: int
    path: Path
    project_dir: Path
    now: datetime
    partition_end: datetime | None
    definition: Asset | None = None

    @property
    def files(self) -> list[Path]:
        """The data files of this partition (the file itself, or the files in its folder)."""
        return data_files(self.path)

    @cached_property
    def table(self) -> Table:
        return read_table(self.files)

    def previous(self, n: int) -> list[tuple[str, Path]]:
        """Up to ``n`` earlier partitions (key, path) whose data exists, nearest first. Looks back
        at most ``2 * n`` partitions, so a gap or two in the history is skipped over."""
        asset = self.definition
        if asset is None or not asset.partitions.is_time or n <= 0:
            return []
        found: list[tuple[str, Path]] = []
        for back in range(1, 2 * n + 1):
            try:
                key = asset.partitions.shift(self.partition, -back)
                asset.partitions.validate(key)
            except ValueError:
                break  # before the first partition
            path = self.project_dir / asset.location_of(key)
            if path.exists():
                found.append((key, path))
                if len(found) == n:
                    break
        return found


def finite_numbers(numbers: Mapping[str, Any]) -> dict[str, float]:
    """The numbers a check reported that can be stored: finite, as floats (bools count 0/1)."""
    out: dict[str, float] = {}
    for key, value in numbers.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[str(key)] = number
    return out


def as_result(returned: Any) -> CheckResult:
    """What a check function returned, as a CheckResult: a CheckResult, a bool, or a
    ``(passed, numbers)`` / ``(passed, numbers, message)`` tuple."""
    if isinstance(returned, CheckResult):
        return returned
    if isinstance(returned, bool):
        return CheckResult(returned, {}, "passed" if returned else "failed")
    if isinstance(returned, tuple) and len(returned) in (2, 3) and isinstance(returned[0], bool) \
            and isinstance(returned[1], Mapping):
        return CheckResult(returned[0], returned[1], str(returned[2]) if len(returned) == 3 else "")
    raise TypeError(f"a check returned {type(returned).__name__}; return andon.CheckResult(...) or "
                    "a bool")
