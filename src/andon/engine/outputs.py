"""The suspect outputs of andon cords inside the pure core: what state each one's file is in, and
which file moves the engine has decided and not yet seen done.

A suspect output's file has one table of legal moves::

    suspect ──► quarantined ──► restored
       │
       └──────► deleted

The engine decides a move and the cord's file step (``andon.cord.files.carry_out``, on the
runner thread, or after an offline turn) carries it out and records its outcome: an
``output.suspect`` whose pipeline says quarantine or delete is owed a move, and so is an
``output.restore_requested`` the engine accepts (the output is quarantined). A move stays owed
until its outcome (``output.quarantined``, ``output.deleted``, ``output.restored``) is in the log,
so a replay finds the moves a scheduler stopped before recording (``owed_moves``). No clock, no
I/O.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from andon.events import (
    Event,
    OutputDeleted,
    OutputQuarantined,
    OutputRestored,
    OutputRestoreRequested,
    OutputSuspect,
)

if TYPE_CHECKING:
    from andon.engine.cords import CordBook

OutputKey = tuple[str, str, str, int]  # (cord, asset, partition, version)
FileMove = OutputSuspect | OutputRestoreRequested  # quarantine or delete it; move it back


class OutputState(str, enum.Enum):
    """Where a suspect output's file is: in place, moved aside, deleted, or moved back."""

    SUSPECT = "suspect"
    QUARANTINED = "quarantined"
    DELETED = "deleted"
    RESTORED = "restored"


_OUTCOME = {OutputQuarantined: OutputState.QUARANTINED, OutputDeleted: OutputState.DELETED,
            OutputRestored: OutputState.RESTORED}


def key_of(event: FileMove | OutputQuarantined | OutputDeleted | OutputRestored) -> OutputKey:
    return (event.cord_id, event.asset, event.partition, event.version)


def apply_output(book: CordBook, event: Event) -> None:
    """Fold one suspect-output event into ``book``: a suspect to quarantine or delete, or an
    accepted restore, makes the engine owe a file move (``decided`` tells). A restore of an
    output that is not quarantined (any more) is refused: nothing is owed."""
    if isinstance(event, OutputSuspect):
        key = key_of(event)
        book.outputs[key] = OutputState.SUSPECT
        if event.action in ("quarantine", "delete"):
            book.moves[key] = event
    elif isinstance(event, OutputRestoreRequested):
        key = key_of(event)
        if book.outputs.get(key) is OutputState.QUARANTINED:
            book.moves[key] = event
    elif isinstance(event, (OutputQuarantined, OutputDeleted, OutputRestored)):
        key = key_of(event)
        book.outputs[key] = _OUTCOME[type(event)]
        book.moves.pop(key, None)


def decided(book: CordBook, event: Event) -> FileMove | None:
    """``event`` when applying it just made the engine owe a file move (see ``apply_output``)."""
    if isinstance(event, (OutputSuspect, OutputRestoreRequested)) and \
            book.moves.get(key_of(event)) is event:
        return event
    return None


def owed_moves(book: CordBook) -> list[FileMove]:
    """The file moves decided and never recorded as done, oldest first: after a replay, what
    the previous scheduler stopped before moving (or moved without recording)."""
    return list(book.moves.values())
