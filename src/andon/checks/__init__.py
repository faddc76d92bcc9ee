"""Data quality checks: declare them with ``@andon.check(asset, blocking=True)``.

Built-ins (standard library, over CSV / TSV / JSON-lines data): ``row_count``, ``null_fraction``,
``columns``, ``unique``, ``value_range``, ``freshness`` and ``shift``; ``pandera_schema`` runs a
pandera schema (optional extra ``quality``). On a model (``@andon.check("churn")``):
``performance`` and ``drift`` (``andon.checks.modelchecks``). A check returns a ``CheckResult``.
"""

from __future__ import annotations

from andon.checks.builtin import (
    columns,
    freshness,
    null_fraction,
    row_count,
    shift,
    unique,
    value_range,
)
from andon.checks.context import CheckContext, CheckResult
from andon.checks.frames import pandera_schema
from andon.checks.modelchecks import ModelCheckContext, drift, performance

__all__ = ["CheckContext", "CheckResult", "ModelCheckContext", "columns", "drift", "freshness",
           "null_fraction", "pandera_schema", "performance", "row_count", "shift", "unique",
           "value_range"]
