"""The cord read models record what the engine decided: after any sequence of requests (pulls
and resolves it may ignore, manual fixes, restores, new data, re-makes) the rows say what the
engine's state says. And a log from before ``cord.fix_accepted`` and ``output.restore_requested``
ends in the same read models once an engine turn has recorded what it owes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from andon.engine.cords import next_cord_id
from andon.engine.outputs import OutputState
from andon.events import (
    CordFixAccepted,
    CordPulled,
    CordResolved,
    Event,
    OutputDeleted,
    OutputQuarantined,
    OutputRestored,
    OutputRestoreRequested,
    OutputSuspect,
)
from andon.live.offline import submit
from andon.store.sql import Store
from tests.engine.harness import Line, graph, pipe, source

DAYS = ("2026-01-05", "2026-01-06")
ASSETS = ("raw", "orders", "report")


def _graph() -> Any:
    return graph([source("raw")], [
        pipe("clean", ["raw"], ["orders"]),
        pipe("report", ["orders"], bad_outputs="quarantine"),
        pipe("mail", ["report"], bad_outputs="delete")])


def _files(line: Line) -> None:
    """What the cord's file step would record for every move the engine owes."""
    for move in list(line.state.cords.moves.values()):
        common = dict(at=line.now, cord_id=move.cord_id, asset=move.asset,
                      partition=move.partition, version=move.version, location=move.location)
        if isinstance(move, OutputRestoreRequested):
            line.send(OutputRestored(**common, quarantine_path=move.quarantine_path))
        elif move.action == "delete":
            line.send(OutputDeleted(**common))
        else:
            line.send(OutputQuarantined(**common, quarantine_path=f"/q/{move.asset}"))


def _play(line: Line, steps: list[tuple[str, int, int]]) -> None:
    for kind, a, b in steps:
        if kind == "notify":
            line.notify("raw", DAYS[a % 2], fingerprint=f"fp{b}")
        elif kind == "run":
            line.run_all()
        elif kind == "pull":  # on a partition under an open cord too: the engine ignores it
            asset, day = ASSETS[a % 3], DAYS[b % 2]
            cord_id = next_cord_id(line.state.cords, asset, day)
            line.send(CordPulled(id=f"cord:{cord_id}:{len(line.log)}", at=line.now,
                                 cord_id=cord_id, asset=asset, partition=day, reason="bad",
                                 by="test"))
        elif kind == "resolve" and line.state.cords.cords:  # any cord, pulled or not
            cord = list(line.state.cords.cords.values())[a % len(line.state.cords.cords)]
            line.send(CordResolved(id=f"resolved:{len(line.log)}", at=line.now,
                                   cord_id=cord.cord_id, note="fixed", by="test",
                                   manual_fix=bool(b % 2)))
        elif kind == "files":
            _files(line)
        elif kind == "restore":  # of any suspect output, quarantined or not
            suspects = [e for e in line.log if isinstance(e, OutputSuspect)]
            if suspects:
                s = suspects[a % len(suspects)]
                line.send(OutputRestoreRequested(
                    at=line.now, cord_id=s.cord_id, asset=s.asset, partition=s.partition,
                    version=s.version, location=s.location, quarantine_path=f"/q/{s.asset}"))


def _engine(line: Line) -> dict[str, Any]:
    book = line.state.cords
    return {
        "cords": {c.cord_id: (c.status.value, c.version, c.resolutions, c.manual_fix, c.producer)
                  for c in book.cords.values()},
        "halts": {(c, key[0], key[1]) for key, ids in book.halted.items() for c in ids},
        "outputs": {k: s.value for k, s in book.outputs.items()},
        "partitions": {k: p.version for k, p in line.state.partitions.items()},
    }


def _rows(store: Store) -> dict[str, Any]:
    cords = store.cords()
    return {
        "cords": {r["cord_id"]: (r["status"], r["version"], r["resolutions"],
                                 bool(r["manual_fix"]), r["producer"] or "") for r in cords},
        "halts": {(h["cord_id"], h["pipeline"], h["partition"]) for h in store.halts()},
        "outputs": {(r["cord_id"], o["asset"], o["partition"], o["version"]): o["state"]
                    for r in cords for o in store.cord_outputs(r["cord_id"])},
        "partitions": {(p["asset"], p["partition"]): p["version"] for p in store.partitions()},
    }


STEP = st.tuples(st.sampled_from(["notify", "run", "pull", "resolve", "files", "restore"]),
                 st.integers(0, 5), st.integers(0, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=25))
def test_the_rows_say_what_the_engine_state_says(steps: list[tuple[str, int, int]]) -> None:
    line = Line(_graph())
    _play(line, [("notify", 0, 0), ("notify", 1, 0), ("run", 0, 0), *steps])
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'andon.db'}")
        try:
            store.append(line.log)
            assert _rows(store) == _engine(line)
        finally:
            store.close()


def _old_format(log: list[Event]) -> list[Event]:
    """The log as the previous version wrote it: no fix accepted, no restore requested."""
    return [e for e in log if not isinstance(e, (CordFixAccepted, OutputRestoreRequested))]


def test_an_old_log_ends_in_the_same_read_models(tmp_path: Path) -> None:
    line = Line(_graph())
    _play(line, [("notify", 0, 0), ("run", 0, 0), ("pull", 1, 0), ("files", 0, 0),
                 ("resolve", 0, 1), ("restore", 0, 0), ("files", 0, 0), ("run", 0, 0),
                 ("pull", 0, 1), ("resolve", 1, 1)])
    assert [e for e in line.log if isinstance(e, CordFixAccepted)]
    new, old = Store(f"sqlite:///{tmp_path / 'new.db'}"), Store(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        new.append(line.log)
        old.append(_old_format(line.log))
        assert _rows(old)["outputs"] == _rows(new)["outputs"]
        assert {v for v in _rows(old)["outputs"].values()} >= {OutputState.RESTORED.value}

        submit(line.graph, old, [], line.now)  # the next engine turn records what it owes

        assert _rows(old) == _rows(new) == _engine(line)
        for asset, day in (("orders", DAYS[0]), ("raw", DAYS[1])):
            assert [_version(v) for v in old.partition_versions(asset, day)] == \
                [_version(v) for v in new.partition_versions(asset, day)]
        assert submit(line.graph, old, [], line.now) == []
        assert old.count_events() == new.count_events() - len(
            [e for e in line.log if isinstance(e, OutputRestoreRequested)])
    finally:
        new.close()
        old.close()


def _version(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in ("version", "at", "origin", "run_id", "location", "fingerprint"))
