"""When the demo may start, and what it lists when it ends.

``check_requirements``: the demo's example needs what the ``demo`` extra installs (its profiled
features and the drift story need numpy); without it every run that profiles would fail and the
week could never finish. The demo says so before it writes anything (exit 2, the fix named).

``Failures``: the runs that failed for good and were not made good since. When the demo is over
is ``andon.serve.rest.look`` (nothing more can run) plus what the story will still deliver
(``andon.serve.demo``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from andon.events import Event, RunFailed, RunSucceeded
from andon.model.errors import ConfigError
from andon.model.graph import Graph

# what the `demo` extra of pyproject.toml installs, as the demo imports it
REQUIREMENTS = ("numpy",)
EXTRA = "pip install 'andon[demo]'"


def check_requirements() -> None:
    """Raise a ConfigError (exit 2) naming the missing package and the fix when one of
    ``REQUIREMENTS`` cannot be imported."""
    for name in REQUIREMENTS:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"the demo needs {name}, which cannot be imported ({exc})",
                              hint=f"{EXTRA}, then run `andon demo` again") from None


class Failures:
    """Runs that failed for good and were not made good since (a runner listener): what the
    demo lists when it ends with partitions that could not be made."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.open: dict[tuple[str, str], RunFailed] = {}

    def on_events(self, events: Sequence[Event]) -> None:
        for ev in events:
            if isinstance(ev, RunFailed) and self.graph.final_attempt(ev.pipeline, ev.attempt):
                self.open[(ev.pipeline, ev.partition)] = ev
            elif isinstance(ev, RunSucceeded):
                self.open.pop((ev.pipeline, ev.partition), None)

    def lines(self) -> list[str]:
        """One line per failed partition: ``  train 2026-01-05: RuntimeError: ... (run ID)``."""
        out = []
        for (pipeline, key), ev in sorted(self.open.items()):
            error = f"{ev.error_type}: {ev.error_message}" if ev.error_type else \
                f"exit code {ev.exit_code}"
            out.append(f"  {pipeline} {key}: {' '.join(error.split())[:160]} (run {ev.run_id})")
        return out
