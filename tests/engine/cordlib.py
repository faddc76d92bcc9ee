"""Pulling and resolving andon cords on the engine harness's line."""

from __future__ import annotations

from andon.engine.cords import Cord, next_cord_id
from andon.engine.core import Decisions
from andon.events import CordPulled, CordResolved, Event, OutputSuspect
from tests.engine.harness import Line


def pull(line: Line, asset: str, key: str, reason: str = "bad rows") -> tuple[str, Decisions]:
    cord_id = next_cord_id(line.state.cords, asset, key)
    out = line.send(CordPulled(id=f"cord:{cord_id}", at=line.now, cord_id=cord_id, asset=asset,
                               partition=key, reason=reason, by="test"))
    return cord_id, out


def resolve(line: Line, cord_id: str, manual_fix: bool = False) -> Decisions:
    n = line.state.cords.cords[cord_id].resolutions + 1
    return line.send(CordResolved(id=f"resolved:{cord_id}:{n}", at=line.now, cord_id=cord_id,
                                  note="fixed", by="test", manual_fix=manual_fix))


def cord(line: Line, cord_id: str) -> Cord:
    return line.state.cords.cords[cord_id]


def halted(line: Line) -> set[tuple[str, str]]:
    return set(line.state.cords.halted)


def of_type(events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


def suspects(events: list[Event]) -> list[tuple[str, str, int]]:
    return [(e.asset, e.partition, e.version) for e in of_type(events, OutputSuspect)]
