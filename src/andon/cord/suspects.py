"""Restoring a quarantined output by hand: find it among a cord's suspect outputs (the
``cord_outputs`` read model), say why when it cannot be restored, and build the request.

The request goes through the engine (``output.restore_requested``, accepted while the output is
quarantined) and the cord's file step moves the output back (``andon.cord.files``); the
``OutputRestored`` it returns goes back to the person who asked, whose caller records it, which
marks the output ``restored`` in the read model. The file system is checked again at the move,
so a read model that lags makes the move refuse rather than clobber anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from andon.cord.files import FileStep
from andon.cord.incidents import cord_row, outputs
from andon.cord.views import SuspectOutput
from andon.engine.outputs import OutputState
from andon.events import OutputRestored, OutputRestoreRequested
from andon.model.errors import AndonError, Conflict, NotFound
from andon.store.sql import Store


def _listing(rows: Sequence[SuspectOutput]) -> str:
    return ", ".join(f"{o.asset} {o.partition} v{o.version} ({o.state.value})"
                     for o in rows[:10]) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")


def find(store: Store, cord_id: str, asset: str, partition: str,
         version: int | None = None) -> SuspectOutput:
    """The suspect output of cord ``cord_id`` to restore: version ``version`` of ``asset``
    ``partition``, or (None) its newest quarantined version, else its newest suspect one (whose
    state then says why it cannot be restored). NotFound when the cord has no such output."""
    cord_row(store, cord_id)  # NotFound for an unknown cord
    made = outputs(store, cord_id)
    rows = [o for o in made if o.asset == asset and o.partition == partition]
    if not rows:
        raise NotFound(f"cord {cord_id} made no output {asset!r} {partition!r} suspect",
                       hint=(f"its suspect outputs: {_listing(made)}" if made else
                             "it made no output suspect, so nothing of it was quarantined")
                       + f"; see `andon cord show {cord_id}`")
    if version is not None:
        chosen = [o for o in rows if o.version == version]
        if not chosen:
            raise NotFound(f"version {version} of {asset} {partition} is not a suspect output "
                           f"of cord {cord_id}",
                           hint=f"its suspect versions there: {_listing(rows)}")
        return chosen[0]
    quarantined = [o for o in rows if o.restorable]
    return (quarantined or rows)[-1]  # rows come in version order


def refusal(output: SuspectOutput) -> Conflict | None:
    """Why ``output`` cannot be restored (None: it is quarantined, it can)."""
    what = f"{output.asset} {output.partition} v{output.version}"
    remake = (f"re-make it with `andon run {output.pipeline} --partition {output.partition}`"
              if output.pipeline else "re-make it")
    if output.state is OutputState.RESTORED:
        return Conflict(f"{what} was already restored to {output.location}",
                        hint="nothing to do: it is back where its run wrote it")
    if output.state is OutputState.DELETED:
        return Conflict(f"{what} was deleted (its pipeline's bad_outputs is 'delete'), not "
                        "quarantined: there is nothing to restore", hint=remake)
    if output.action == "keep":
        return Conflict(f"{what} was kept in place (its pipeline's bad_outputs is 'keep'): "
                        "there is nothing to restore", hint=f"it is at {output.location}")
    if not output.restorable:
        return Conflict(f"{what} is suspect but was not moved aside",
                        hint="andon leaves an output alone when it changed since its run wrote "
                             f"it (then it is still at {output.location}); else the scheduler "
                             "moves it when it next runs (`andon up`)")
    return None


def restore_request(store: Store, cord_id: str, asset: str, partition: str,
                    version: int | None, now: datetime, by: str = "") -> OutputRestoreRequested:
    """The request to move the quarantined output (see ``find``) back, for the engine to
    decide. Refused (Conflict, with ``refusal``'s reason) when it is not quarantined; whether
    its location holds data again is seen at the move. Each request has its own id: a
    restore refused at the move can be asked again."""
    output = find(store, cord_id, asset, partition, version)
    refused = refusal(output)
    if refused is not None:
        raise refused
    return OutputRestoreRequested(
        at=now, cord_id=cord_id, asset=output.asset, partition=output.partition,
        version=output.version, location=output.location,
        quarantine_path=output.quarantine_path, by=by)


def restore_event(store: Store, project_dir: Path, cord_id: str, asset: str, partition: str,
                  version: int | None, now: datetime, by: str = "") -> OutputRestored:
    """Validate a restore (``restore_request``) and move the output back at once with the file
    step, with no engine to ask (a store holding a cord's outputs, nothing else); the event
    recording the move is for the caller to append. ``andon.live.service`` goes through the engine
    instead (``Service.output_restore``)."""
    request = restore_request(store, cord_id, asset, partition, version, now, by)
    ((_move, outcome),) = FileStep(project_dir).carry_out([request], now)
    return answer(outcome)


def answer(outcome: object) -> OutputRestored:
    """What a restore came to, for the person who asked: the move recorded, or why not."""
    if isinstance(outcome, OutputRestored):
        return outcome
    if isinstance(outcome, AndonError):
        raise outcome
    raise Conflict("the output is not quarantined any more (restored a moment ago?)",
                   hint="see `andon cord show CORD_ID`")
