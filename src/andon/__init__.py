"""andon: a lean orchestrator for data and ML pipelines.

Definitions use ``andon.source(...)``, ``@andon.pipeline(...)``, ``@andon.check(...)`` and
``andon.catalog(...)``, ``andon.performance(...)`` for a model's realised performance and
``andon.profile(...)`` for its data's drift; see README.md. ``andon.materialize(...)`` makes
partitions from code and ``andon.testing`` calls one pipeline in a test (docs/testing.md).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `andon --help` and `andon status` never import typing
if TYPE_CHECKING:
    from typing import Any

__all__ = ["source", "pipeline", "catalog", "model", "model_output", "window", "rollup", "mapped",
           "serving", "last", "Context", "check", "checks", "CheckContext", "CheckResult",
           "performance", "profile", "restore_drill", "materialize", "MaterializeError"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:  # lazy, so that `andon --help` imports nothing it does not need
    if name in ("source", "pipeline", "window", "rollup", "mapped", "serving", "check",
                "catalog", "model_output", "profile", "restore_drill"):
        from andon.project import dsl

        return getattr(dsl, name)
    if name in ("checks", "CheckContext", "CheckResult"):
        import andon.checks

        return andon.checks if name == "checks" else getattr(andon.checks, name)
    if name == "performance":
        from andon.checks.realised import performance

        return performance
    if name == "model":  # the domain package, callable once the DSL has registered with it
        import andon.model
        import andon.project.dsl  # noqa: F401  (registers andon.model(...))

        return andon.model
    if name == "last":
        from andon.model.partitions import last

        return last
    if name in ("materialize", "MaterializeError"):
        # by name: the serve layer (the line `andon up` opens) sits above the modules that
        # import `andon` for its version, and is loaded only when asked for
        import importlib

        module = "materialize" if name == "materialize" else "outcome"
        return getattr(importlib.import_module(f"andon.serve.{module}"), name)
    if name == "Context":
        from andon.executors.context import Context

        return Context
    raise AttributeError(f"module 'andon' has no attribute {name!r}")
