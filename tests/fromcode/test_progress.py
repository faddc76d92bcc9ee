"""The progress of ``andon materialize``: counted from the committed run events, the time left
from the planner's durations, drawn as a bar on a terminal."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from andon.cli.materialize import _Shown
from andon.events import RunFailed, RunQueued, RunSucceeded
from andon.serve.tally import Ended, Tally


def test_the_tally_counts_this_calls_runs_and_estimates_the_time_left() -> None:
    seen: list[tuple[int, int, int, list[str]]] = []

    def show(tally: Tally, ended: Sequence[Ended]) -> None:
        seen.append((tally.done, tally.total, tally.failed, [e.run_id for e in ended]))

    tally = Tally({"a": 60.0, "b": 120.0}.__getitem__, 2, show)
    assert tally.eta() is None
    tally.on_events([RunQueued(run_id="a1", pipeline="a", partition="k"),
                     RunQueued(run_id="b1", pipeline="b", partition="k")])
    assert tally.eta() == 90.0  # 180 s of work over two slots
    tally.on_events([RunSucceeded(run_id="old", pipeline="a", partition="j"),  # not this call's
                     RunFailed(run_id="a1", pipeline="a", partition="k")])
    assert seen[-1] == (1, 2, 1, ["a1"]) and tally.eta() == 60.0


def test_a_terminal_gets_a_bar(capsys: pytest.CaptureFixture[str]) -> None:
    shown = _Shown(as_json=False)
    shown.bar = True
    tally = Tally(lambda _: 30.0, 1, shown)
    tally.on_events([RunQueued(run_id=f"r{i}", pipeline="p", partition=str(i)) for i in range(4)])
    tally.on_events([RunSucceeded(run_id="r0", pipeline="p", partition="0")])
    shown.finish()
    err = capsys.readouterr().err
    assert "\r[#######.......................] 1/4 runs  0 failed  ETA 2m" in err
    assert "0/4 runs" in err and err.endswith("\n")  # 3 runs x 30 s left on one slot
