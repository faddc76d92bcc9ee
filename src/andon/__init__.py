"""andon: a lean orchestrator for data and ML pipelines.

Definitions use ``andon.source(...)``, ``@andon.pipeline(...)``, ``@andon.check(...)`` and
``andon.catalog(...)``; see README.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["source", "pipeline", "catalog", "window", "rollup", "mapped", "last", "Context", "check",
           "checks", "CheckContext", "CheckResult", "restore_drill"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:  # lazy, so that `andon --help` imports nothing it does not need
    if name in ("source", "pipeline", "window", "rollup", "mapped", "check", "catalog",
                "restore_drill"):
        from andon.project import dsl

        return getattr(dsl, name)
    if name in ("checks", "CheckContext", "CheckResult"):
        import andon.checks

        return andon.checks if name == "checks" else getattr(andon.checks, name)
    if name == "last":
        from andon.model.partitions import last

        return last
    if name == "Context":
        from andon.executors.context import Context

        return Context
    raise AttributeError(f"module 'andon' has no attribute {name!r}")
