"""When nothing more can run on a line: the one test of it for the shells that wait for a line to
finish (``andon.materialize``, ``andon run --wait`` and ``backfill --wait`` without a scheduler,
``andon demo --exit-when-done``).

Two halves, both needed. The engine's is ``andon.engine.core.at_rest``: no run queued (a retry
waiting for its back-off is a queued run) or running, nothing a cord owes. The shell's is the
line's threads: the runner has handled everything submitted and executes nothing, and the helpers
that come back to it with events (checks, model checks, promotions, drift reports) have nothing in
hand — across two looks with nothing committed in between, since a helper's late event would
have been committed then. A partition whose inputs are missing is not work: only new data can
start it, and what a caller will still deliver (a demo's story) is the caller's to say.

``look`` answers with one of three words, so that a caller that can move its clock
(``andon.live.clock.SkipClock``) knows when the only thing left is a retry's back-off.
"""

from __future__ import annotations

import time
from enum import Enum

from andon.engine.core import at_rest
from andon.serve.up import Line


class Rest(Enum):
    """What one ``look`` at a line found."""

    AT_REST = "at rest"  # nothing more can run until new data (or a person) comes
    WAITING = "waiting"  # the threads are idle, the engine still holds work (a retry's back-off)
    BUSY = "busy"  # something ran, was committed or did not answer within the time allowed


def look(line: Line, within: float) -> Rest:
    """Look at ``line`` for at most about ``within`` real seconds (each wait gets what is left of
    them): ``AT_REST`` when nothing more can run (the module's two halves), ``WAITING`` when its
    threads are idle and nothing was committed but the engine still holds queued work, ``BUSY``
    otherwise."""
    runner = line.runner
    end = time.monotonic() + within
    helpers = [h for h in (line.checks, line.model_checks, line.promoter, line.drift_keeper)
               if h is not None]
    before = runner.commits
    for _look in range(2):
        if not runner.quiet(_left(end)) or not all(h.wait(_left(end)) for h in helpers):
            return Rest.BUSY
    if not runner.quiet(_left(end)) or runner.commits != before:
        return Rest.BUSY
    return Rest.AT_REST if at_rest(runner.state) else Rest.WAITING


def _left(end: float) -> float:
    """Real seconds until ``end``, never less than none (a wait of 0 still looks once)."""
    return max(end - time.monotonic(), 0.0)
