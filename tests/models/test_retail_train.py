"""The retail demo's model is fitted with numpy when it is installed and in plain Python when
not (the core install has no numpy): the same model either way."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

import andon

PIPELINES = Path(andon.__file__).parent / "examples/retail/pipelines.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("retail_pipelines_under_test", PIPELINES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fit_without_numpy_is_the_fit_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy")
    from andon.project import dsl

    monkeypatch.setattr(dsl, "_active", [])  # its definitions go to a registry of this test
    retail = _module()
    rng = random.Random(7)
    xs = [[rng.random() * 3 for _ in range(4)] for _ in range(120)]
    ys = [1.0 if sum(x) + rng.gauss(0, 1) > 6 else 0.0 for x in xs]
    with_numpy = retail._fit(xs, ys, 100, 0.5)
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` raises ImportError
    without = retail._fit(xs, ys, 100, 0.5)
    for a, b in zip(with_numpy, without):
        pairs = zip(a, b) if isinstance(a, list) else [(a, b)]
        assert all(abs(p - q) < 1e-9 for p, q in pairs)
