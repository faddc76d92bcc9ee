"""Profile a run's outputs inside the run, after the pipeline function returns (issue 13).

For each output in ``RunSpec.profiles`` the run reads the file it wrote (CSV: pandas when
installed, else the csv module; Parquet: pandas with pyarrow), builds its profile
(``andon.drift.profile``) and writes the compact JSON form (``andon.drift.codec``) to
``RUN_DIR/profiles/ASSET.json``; ``ExecResult.profiles`` (then ``run.succeeded``) records it.

**Edges.** Drift compares histograms bin for bin, so every partition of a data set is profiled
with the same edges: the first profile written pins them (``.andon/profiles/ASSET/edges.json``,
created once, atomically; a run that loses the race to create it profiles again with the
winner's edges). A column the pinned file lacks gets its own deciles.

**Failures.** A declared data set whose file is missing or cannot be parsed, or lacks a declared
column, fails the run with a ``DriftError`` naming the data set, the partition and the column;
an empty partition gets a profile of 0 rows (its drift cannot be measured: the comparison says
so); a column that is not numeric gets top-k categories. An automatic data set andon cannot read
(a folder, Parquet without pyarrow) is skipped. numpy is imported here only when something is
profiled (the ``drift`` extra).
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

from andon.drift.limits import MAX_PROFILE_BYTES, DriftError
from andon.executors.base import RunSpec


def write_profiles(spec: RunSpec) -> dict[str, dict[str, Any]]:
    """Profile each of ``spec``'s profiled outputs (see the module docstring); asset ->
    ``{"path": relative to the project, "rows", "columns"}``. Raises ``DriftError``."""
    written: dict[str, dict[str, Any]] = {}
    for asset, how in spec.profiles.items():
        location = spec.outputs.get(asset)
        if location is None:
            continue
        where = f"data set {asset!r}, partition {spec.partition!r}"
        data = _read(Path(location), list(how.get("columns") or []), bool(how.get("auto")), where)
        if data is None:
            continue
        text, rows, columns = _profile(data, Path(how["edges"]), how.get("columns") or None,
                                       where)
        out = Path(spec.run_dir) / "profiles" / f"{asset}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        written[asset] = {"path": os.path.relpath(out, spec.project_dir), "rows": rows,
                          "columns": columns}
    return written


def _profile(data: Any, edges_path: Path, columns: list[str] | None, where: str
             ) -> tuple[str, int, int]:
    from andon.drift import codec
    from andon.drift.profile import profile

    reference = _pinned(edges_path, where)
    built = profile(data, reference=reference, columns=columns, where=where)
    if reference is None and built.rows and not _pin(edges_path, codec.dumps(built)):
        reference = _pinned(edges_path, where)  # another run pinned them first: use theirs
        built = profile(data, reference=reference, columns=columns, where=where)
    return codec.dumps(built), built.rows, len(built.columns)


def _pinned(path: Path, where: str) -> Any:
    from andon.drift import codec

    try:
        with path.open("rb") as fh:
            text = fh.read(MAX_PROFILE_BYTES + 1)
    except FileNotFoundError:
        return None
    return codec.loads(text, where=f"{where}: pinned edges {path}")


def _pin(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless it exists (atomically: a link does not replace);
    whether this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def _read(path: Path, columns: list[str], auto: bool, where: str) -> Any:
    """The columns of the file at ``path`` (all when ``columns`` is empty) as a data frame or a
    mapping of name -> array; None when an automatic profile cannot read it."""
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in (".csv", ".parquet"):
        if auto:
            return None
        raise DriftError(f"{where}: {path.name} is not a CSV or Parquet file the run wrote",
                         hint="profile a data set written as one .csv or .parquet file")
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if suffix == ".parquet":
        if pd is None or not _has("pyarrow"):
            if auto:
                return None
            raise DriftError(f"{where}: reading Parquet needs pandas and pyarrow",
                             hint="pip install pandas pyarrow")
        try:
            frame = pd.read_parquet(path, columns=columns or None)
        except Exception as exc:  # pyarrow's errors have no common base worth naming
            raise _unreadable(where, columns, exc) from None
        return frame
    if pd is not None:
        try:
            return pd.read_csv(path, usecols=columns or None)
        except ValueError as exc:  # pandas' ParserError and usecols mismatches are ValueErrors
            raise _unreadable(where, columns, exc) from None
    return _read_csv(path, columns, where)


def _unreadable(where: str, columns: list[str], exc: BaseException) -> DriftError:
    text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    missing = [c for c in columns if f"'{c}'" in text]
    column = f", column {missing[0]!r}" if missing else ""
    return DriftError(f"{where}{column}: cannot be profiled: {text}",
                      hint="write the file as valid CSV / Parquet with the profiled columns")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _read_csv(path: Path, columns: list[str], where: str) -> dict[str, Any]:
    """A CSV file's columns without pandas: numbers as float64 ("" a NaN), or text."""
    import numpy as np

    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        names = columns or header
        missing = [c for c in names if c not in header]
        if missing:
            raise DriftError(f"{where}, column {missing[0]!r}: not in the file's header",
                             hint="profile columns the file has")
        index = [header.index(c) for c in names]
        values: list[list[str]] = [[] for _ in names]
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise DriftError(f"{where}: line {line} has {len(row)} fields, the header "
                                 f"{len(header)}", hint="write the file as valid CSV")
            for out, i in zip(values, index):
                out.append(row[i])
    data: dict[str, Any] = {}
    for name, raw in zip(names, values):
        try:
            data[name] = np.array([float(v) if v != "" else math.nan for v in raw],
                                  dtype=np.float64)
        except ValueError:
            data[name] = np.array([v if v != "" else None for v in raw], dtype=object)
    return data
