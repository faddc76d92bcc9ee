"""Read a partition's data (CSV, TSV or JSON lines, optionally gzipped) into columns, with the
standard library only, and tell the kind of each value.

CSV values stay text (``"00123"`` keeps its zeros); ``number`` and ``kind`` interpret them when a
check asks. Empty cells and the usual null spellings are None.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

NULLS = frozenset({"", "na", "n/a", "nan", "null", "none"})
TEXT_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "jsonl"}


class DataFormatError(ValueError):
    """A data file cannot be read as a table; the message names the file and the line."""


@dataclass
class Table:
    """Columns of values (None for a null or a missing field), all of the same length."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0

    def column(self, name: str) -> list[Any]:
        if name not in self.columns:
            raise KeyError(f"no column {name!r} (columns: {', '.join(self.columns) or 'none'})")
        return self.columns[name]

    def add(self, record: dict[str, Any]) -> None:
        for name in record:
            if name not in self.columns:
                self.columns[name] = [None] * self.rows  # a field that was missing so far
        for name, values in self.columns.items():
            values.append(_null_to_none(record.get(name)))
        self.rows += 1


def _null_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in NULLS:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def data_files(path: Path) -> list[Path]:
    """``path`` itself, or the visible files under the folder ``path`` in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file()
                      and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    return [path] if path.exists() else []


def _format(path: Path) -> str:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return TEXT_SUFFIXES.get(Path(name).suffix.lower(), "")


def _open(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _read(path: Path, table: Table) -> None:
    with _open(path) as fh:
        kind = _format(path)
        if not kind:  # no telling suffix: JSON lines start with an object
            head = fh.read(4096)
            fh.seek(0)
            kind = "jsonl" if head.lstrip().startswith("{") else "csv"
        if kind == "jsonl":
            for number_, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataFormatError(f"{path}:{number_}: not a JSON line ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise DataFormatError(f"{path}:{number_}: a JSON line must be an object")
                table.add(record)
            return
        reader = csv.DictReader(fh, delimiter="\t" if kind == "tsv" else ",")
        for name in reader.fieldnames or ():  # the header counts even without rows
            if name not in table.columns:
                table.columns[name] = [None] * table.rows
        for record in reader:
            if None in record:  # more cells than headers
                raise DataFormatError(f"{path}:{reader.line_num}: more cells than columns")
            table.add(record)


def read_table(files: list[Path]) -> Table:
    """All rows of ``files`` as one table (columns in order of first appearance)."""
    table = Table()
    for path in files:
        _read(path, table)
    return table


def number(value: Any) -> float | None:
    """A value as a finite number (text is parsed), else None. Booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def timestamp(value: Any) -> datetime | None:
    """A value as a UTC time: ISO-8601 text (naive means UTC) or epoch seconds, else None."""
    if value is None or isinstance(value, bool):
        return None
    seconds = number(value)
    if seconds is not None and not (isinstance(value, str) and "-" in value.strip()[1:]):
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def kind(value: Any) -> str:
    """``null``, ``bool``, ``int``, ``float``, ``datetime`` or ``str``; text is classified by what it
    parses as (``"12"`` is an int, ``"true"`` a bool, ``"2026-01-05"`` a datetime)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return "bool"
        try:
            int(text)
            return "int"
        except ValueError:
            pass
        if number(text) is not None:
            return "float"
        if "-" in text[1:] and timestamp(text) is not None:
            return "datetime"
        return "str"
    return type(value).__name__
