"""Why a run's process ended without a result: one wording for every executor that runs a
process (the local one, and the Dask worker's side), so the board, the manual's signatures and
the tests read the same reasons whichever ran it."""

from __future__ import annotations

import signal

from andon.executors.base import ExecResult, RunSpec
from andon.model.status import LOST_ERROR


def lost_result(spec: RunSpec, why: str) -> ExecResult:
    """The result of a run whose end nobody saw (``LOST_ERROR``: retried per its ``retries``;
    the manual files it as lost, not as the pipeline's failure); ``why`` says how it was lost."""
    return ExecResult(spec.run_id, False, None, LOST_ERROR, why)


def without_result(spec: RunSpec, code: int | None, *, cancelled: bool, timed_out: bool,
                   lost: str, log: str) -> ExecResult:
    """The failed result of ``spec``'s process that ended with exit ``code`` (negative: the
    signal; None: unknown, the run is lost — ``lost`` says why) and wrote no result: cancelled
    on request, killed on its timeout, killed by a signal, or exited (``log``: where its log is
    to be read)."""
    if cancelled:
        return ExecResult(spec.run_id, False, code, "Cancelled", "cancelled on request",
                          cancelled=True)
    if timed_out:
        return ExecResult(spec.run_id, False, code, "Timeout",
                          f"the run exceeded its timeout of {spec.timeout:g}s and was killed")
    if code is None:
        return lost_result(spec, lost)
    if code < 0:
        return ExecResult(spec.run_id, False, code, "Killed",
                          f"the process was killed by signal {-code} "
                          f"({signal.Signals(-code).name})")
    return ExecResult(spec.run_id, False, code, "ExitCode",
                      f"the process exited with code {code} without a result (see {log})")
