"""Run a pandera schema as an andon check (the optional ``quality`` extra: pandera + pandas).

Nothing here imports pandas or pandera before a schema check is declared, so projects without
them load as fast as before.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from andon.checks.context import CheckContext, CheckFn, CheckResult
from andon.checks.tables import DataFormatError
from andon.model.errors import DefinitionError

INSTALL_HINT = "install the optional extra: pip install 'andon[quality]' (pandera and pandas)"


def _require() -> Any:
    try:
        import pandas  # noqa: F401
        import pandera
    except ImportError as exc:
        frame = sys._getframe(2)
        raise DefinitionError(f"a pandera schema check needs pandera and pandas ({exc.name or exc} "
                              "is not installed)",
                              where=f"{frame.f_code.co_filename}:{frame.f_lineno}",
                              hint=INSTALL_HINT) from None
    return pandera


def _frame(files: list[Path]) -> Any:
    import pandas as pd

    parts = []
    for path in files:
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        suffix = Path(name).suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            parts.append(pd.read_json(path, lines=True))
        elif suffix == ".parquet":
            parts.append(pd.read_parquet(path))
        elif suffix in (".csv", ".tsv", ""):
            parts.append(pd.read_csv(path, sep="\t" if suffix == ".tsv" else ","))
        else:
            raise DataFormatError(f"{path}: cannot read {suffix} files into a data frame")
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def pandera_schema(schema: Any, name: str = "pandera") -> CheckFn:
    """A check that validates the partition's data (CSV, TSV, JSON lines or Parquet, read with
    pandas) against a pandera ``DataFrameSchema`` (or ``DataFrameModel`` class), collecting every
    failure (``lazy=True``). Raises a DefinitionError naming the calling line when pandera or
    pandas is missing."""
    pandera = _require()

    def run(ctx: CheckContext) -> CheckResult:
        files = ctx.files
        if not files:
            return CheckResult(False, {}, f"no data at {ctx.path}")
        frame = _frame(files)
        try:
            schema.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as err:
            cases = err.failure_cases
            sample = "; ".join(
                f"{row.get('column')}: {row.get('check')} ({row.get('failure_case')!r})"
                for row in cases.head(3).to_dict("records"))
            return CheckResult(False, {"rows": len(frame), "failures": len(cases)},
                               f"{len(cases)} schema failure(s): {sample}")
        except pandera.errors.SchemaError as err:
            return CheckResult(False, {"rows": len(frame), "failures": 1}, str(err).splitlines()[0])
        return CheckResult(True, {"rows": len(frame), "failures": 0},
                           f"{len(frame)} rows match the schema")

    run.__name__ = run.__qualname__ = name
    return run
