"""The dispatch policies ``andon up`` can run, named once.

The settings check ``policy`` against these names, the planner registers one class per name,
the CLI offers them and the simulator compares them (with baselines of its own).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class Policy(enum.StrEnum):
    """A dispatch policy: which ready runs start first (``andon.planner.policies``)."""

    FIFO = "fifo"
    EDF = "edf"
    SLACK = "slack"
    ATC = "atc"
    JIT = "jit"
    CPSAT = "cpsat"  # needs OR-Tools (andon[opt])


DEFAULT_POLICY = Policy.JIT
# plain strings, in declaration order, for choices, hints and help texts
POLICY_NAMES: tuple[str, ...] = tuple(p.value for p in Policy)


def one_of(names: Sequence[str]) -> str:
    """``"a, b or c"``: the names as a sentence lists alternatives."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
