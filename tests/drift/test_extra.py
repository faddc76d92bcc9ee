"""The ``drift`` extra stays optional: andon, its core and ``andon.drift.limits`` import without
numpy or scipy (a real subprocess in which importing either fails)."""

from __future__ import annotations

import os
import subprocess
import sys

BLOCK = """
import sys
sys.modules["numpy"] = None  # any import of numpy (or scipy, which needs it) now fails
sys.modules["scipy"] = None
import andon, andon.model, andon.events, andon.planner, andon.engine, andon.live.service
import andon.drift, andon.drift.limits
from andon.drift.limits import DriftError
try:
    import andon.drift.profile
except ImportError:
    print("extra needed")
"""


def test_andon_imports_without_numpy_or_scipy() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "extra needed"
