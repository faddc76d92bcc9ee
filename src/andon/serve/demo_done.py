"""When the demo may start and when it is over.

``check_requirements``: the demo's example needs what the ``demo`` extra installs (its profiled
features and the drift story need numpy); without it every run that profiles would fail and the
week could never finish. The demo says so before it writes anything (exit 2, the fix named).

``settled``: nothing more can run on the line. The engine is at rest (``andon.engine.core.
at_rest``: no run queued, waiting for a retry or running, nothing a cord owes), the runner has
handled everything submitted and the helpers that come back with events (checks, model checks,
promotions, drift reports) have nothing in hand, and all of that held across a second look (a
helper's late event would have been committed in between). What the story will still deliver is
the caller's part (``andon.serve.demo``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from andon.engine.core import at_rest
from andon.events import Event, RunFailed, RunSucceeded
from andon.model.errors import ConfigError
from andon.serve.up import Line

# what the `demo` extra of pyproject.toml installs, as the demo imports it
REQUIREMENTS = ("numpy",)
EXTRA = "pip install 'andon[demo]'"
HELPER_WAIT_S = 5.0  # real seconds a helper may take to hand back what it holds


def check_requirements() -> None:
    """Raise a ConfigError (exit 2) naming the missing package and the fix when one of
    ``REQUIREMENTS`` cannot be imported."""
    for name in REQUIREMENTS:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"the demo needs {name}, which cannot be imported ({exc})",
                              hint=f"{EXTRA}, then run `andon demo` again") from None


def settled(line: Line, timeout: float = HELPER_WAIT_S) -> bool:
    """Whether nothing more can run on ``line`` until new data comes (see the module's
    docstring); False also when a helper did not answer within ``timeout`` real seconds."""
    runner = line.runner
    before = runner.commits
    helpers = [h for h in (line.checks, line.model_checks, line.promoter, line.drift_keeper)
               if h is not None]
    for _look in range(2):
        if not runner.quiet(timeout) or not all(h.wait(timeout) for h in helpers):
            return False
    return runner.quiet(timeout) and runner.commits == before and at_rest(runner.state)


class Failures:
    """Runs that failed for good and were not made good since (a runner listener): what the
    demo lists when it ends with partitions that could not be made."""

    def __init__(self, retries: dict[str, int]) -> None:
        self.retries = retries
        self.open: dict[tuple[str, str], RunFailed] = {}

    def on_events(self, events: Sequence[Event]) -> None:
        for ev in events:
            if isinstance(ev, RunFailed) and ev.attempt > self.retries.get(ev.pipeline, 0):
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
