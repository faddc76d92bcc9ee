"""The domain: assets, partitions, pipelines, pools and the validated graph (no I/O).

Called, the package declares a model: ``andon.model("churn", owner=..., deploy="auto")``. The
declaring is the DSL's (``andon.project.dsl.model``), which registers it here as it is imported:
the domain never imports the layers above it.
"""

import sys
import types
from collections.abc import Callable
from typing import Any


class _Declaring(types.ModuleType):
    declare: Callable[..., str] | None = None  # set by andon.project.dsl

    def __call__(self, name: str, **fields: Any) -> str:
        if self.declare is None:
            raise TypeError("andon.model(...) declares a model in a project's definitions; "
                            "import andon and call it there (andon.project.dsl is not loaded)")
        frame = sys._getframe(1)
        return self.declare(name, where=f"{frame.f_code.co_filename}:{frame.f_lineno}", **fields)


sys.modules[__name__].__class__ = _Declaring
