"""The CP-SAT rolling-horizon planner (optional extra ``andon[opt]``, OR-Tools)."""

from __future__ import annotations


def available() -> bool:
    """True when OR-Tools can be imported."""
    try:
        import ortools.sat.python.cp_model  # noqa: F401
    except ImportError:
        return False
    return True
