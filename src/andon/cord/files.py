"""The cord's file step: it carries out the file moves the engine decided
(``andon.engine.outputs``), in the order decided, after the turn that decided them is recorded:
a suspect output is kept, moved aside under STATE_DIR/quarantine (restorable) or deleted, per
its pipeline's ``bad_outputs`` policy; a restore the engine accepted moves it back. The runner
calls it after each turn and after its replay, ``andon.live.offline`` after an offline turn.

Only data andon produced is ever touched: the asset must be a pipeline's output (never a source),
the location must be the one the run recorded, inside the project folder, and the file there must
still have the fingerprint the run recorded (if someone has replaced it since, it is left alone).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from andon.engine.outputs import FileMove
from andon.events import (
    OutputDeleted,
    OutputQuarantined,
    OutputRestored,
    OutputRestoreRequested,
    OutputSuspect,
)
from andon.executors.outputs import fingerprint, inside_roots, real_roots
from andon.model.errors import AndonError, Conflict, NotFound, UnsafePath
from andon.model.graph import Graph
from andon.model.limits import inside

log = logging.getLogger("andon.cord")


def _inside(root: Path, location: str, data_roots: tuple[str, ...] = ()) -> Path | None:
    """``location`` (relative to ``root``, or absolute inside one of ``data_roots``) with
    symlinks resolved, or None when it is empty, one of the roots itself or outside them all."""
    if not location:
        return None
    roots = real_roots(root, data_roots)
    target = Path(os.path.realpath(root / location))
    return target if str(target) not in roots and inside_roots(target, roots) else None


def quarantine_path(quarantine_dir: Path, event: OutputSuspect) -> Path:
    """Where a quarantined output version goes: ``ASSET/PARTITION/vN/<its file or folder name>``;
    UnsafePath when the event's names would lead out of ``quarantine_dir`` (a log written before
    names were identifiers)."""
    dest = quarantine_dir / event.asset / event.partition / f"v{event.version}" / \
        Path(event.location).name
    base = os.path.normpath(os.path.abspath(quarantine_dir))
    parts = (event.asset, event.partition, Path(event.location).name)
    if any(p in ("", ".", "..") or "/" in p or "\0" in p for p in parts) or \
            not inside(os.path.abspath(dest), [base]):
        raise UnsafePath(f"the quarantine path of {event.asset!r} {event.partition!r} "
                         f"would leave {quarantine_dir}", hint="move the output aside by hand")
    return dest


def dispose(graph: Graph, project_dir: Path, quarantine_dir: Path,
            event: OutputSuspect, after_crash: bool = False
            ) -> OutputQuarantined | OutputDeleted | None:
    """Apply ``event.action`` to the suspect output; return the event recording what was done,
    or None when nothing was (keep, nothing there, or not andon's to touch). ``after_crash``: the
    scheduler stopped between recording the suspect output and recording what it did with it, so
    an output already gone was moved (it is in the quarantine) or deleted by that scheduler."""
    if event.action not in ("quarantine", "delete"):
        return None
    what = f"{event.asset} {event.partition} v{event.version}"
    if event.asset not in graph.producer:
        log.warning("not touching %s: %r is not produced by a pipeline", what, event.asset)
        return None
    target = _inside(project_dir, event.location, graph.data_roots)
    if target is None:
        log.warning("not touching %s: location %r is not inside the project", what,
                    event.location)
        return None
    try:
        dest = quarantine_path(quarantine_dir, event)
    except UnsafePath as exc:
        log.warning("not touching %s: %s", what, exc.message)
        return None
    # the cord in the id: a version restored and found bad again under another cord is moved again
    key = f"{event.cord_id}:{event.asset}:{event.partition}:{event.version}"
    if not target.exists():  # already gone (moved, deleted, or never written)
        if not after_crash:
            return None
        if event.action == "delete":
            return _deleted(event, key)
        return _quarantined(event, key, dest) if dest.exists() else None
    try:
        changed = bool(event.fingerprint) and fingerprint(target)[1] != event.fingerprint
    except UnsafePath as exc:  # a FIFO or a device where the output was: not andon's
        log.warning("not touching %s: %s", what, exc.message)
        return None
    if changed:
        log.warning("not touching %s: %s changed since andon wrote it", what, target)
        return None
    if event.action == "delete":
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
        log.info("deleted %s at %s (cord %s)", what, event.location, event.cord_id)
        return _deleted(event, key)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():  # quarantined before and restored, then suspect again
        shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
    shutil.move(str(target), str(dest))
    log.info("quarantined %s: %s -> %s (cord %s)", what, event.location, dest, event.cord_id)
    return _quarantined(event, key, dest)


def _deleted(event: OutputSuspect, key: str) -> OutputDeleted:
    return OutputDeleted(id=f"deleted:{key}", at=event.at, cord_id=event.cord_id,
                         asset=event.asset, partition=event.partition, version=event.version,
                         location=event.location)


def _quarantined(event: OutputSuspect, key: str, dest: Path) -> OutputQuarantined:
    return OutputQuarantined(id=f"quarantined:{key}", at=event.at, cord_id=event.cord_id,
                             asset=event.asset, partition=event.partition, version=event.version,
                             location=event.location, quarantine_path=str(dest))


Outcome = OutputQuarantined | OutputDeleted | OutputRestored
# a move and what came of it: the event recording it, None (nothing done), or why a restore
# was refused (for the person who asked)
Done = tuple[FileMove, Outcome | AndonError | None]


@dataclass(frozen=True)
class FileStep:
    """Where the cord's file moves happen: the project (outputs' locations are relative to it)
    and STATE_DIR/quarantine. Without the graph and the quarantine folder (a caller that knows
    neither) quarantine and delete are left owed for the next ``andon up``, which carries them
    out after its replay; a restore needs neither."""

    project_dir: Path
    graph: Graph | None = None
    quarantine_dir: Path | None = None

    def carry_out(self, moves: Sequence[FileMove], now: datetime,
                  after_crash: bool = False) -> list[Done]:
        """Carry out ``moves`` in order. ``after_crash``: moves a replay found owed, which a
        scheduler may have done before it stopped: an output already gone was moved (found in
        the quarantine) or deleted, a restore whose quarantine is empty and whose location holds
        data was done; a restore is never started then (its requester had no answer)."""
        done: list[Done] = []
        for move in moves:
            try:
                if isinstance(move, OutputSuspect):
                    disposed = None if self.graph is None or self.quarantine_dir is None \
                        else dispose(self.graph, self.project_dir, self.quarantine_dir, move,
                                     after_crash)
                    done.append((move, disposed))
                elif after_crash:
                    done.append((move, _restored_before(self.project_dir, move)))
                else:
                    done.append((move, restore(self.project_dir, move, now)))
            except AndonError as exc:  # a restore refused at the move
                done.append((move, exc))
            except OSError as exc:  # permissions, a full disk: a person has to look
                log.exception("could not %s %s %s", "restore" if isinstance(
                    move, OutputRestoreRequested) else move.action, move.asset, move.partition)
                done.append((move, Conflict(
                    f"could not move {move.quarantine_path} back to {move.location}: "
                    f"{exc.strerror or exc}", hint="fix the cause and restore again, or move "
                    "it back by hand") if isinstance(move, OutputRestoreRequested) else None))
        return done


def file_step(project_dir: Path, graph: Graph, state_dir: Path) -> FileStep:
    """The file step of a project whose state folder is ``state_dir``: quarantined outputs go
    to STATE_DIR/quarantine, whichever door the cord came in by."""
    return FileStep(project_dir, graph, state_dir / "quarantine")


def _restored_before(project_dir: Path, request: OutputRestoreRequested) -> OutputRestored | None:
    target = _inside(project_dir, request.location)
    if target is None or not target.exists() or Path(request.quarantine_path).exists():
        return None
    return _restored(request, request.at, request.by)


def restore(project_dir: Path, quarantined: OutputQuarantined | OutputRestoreRequested,
            now: datetime, by: str = "") -> OutputRestored:
    """Move a quarantined output back to its location; refuse when something is there now.
    ``by`` defaults to who requested it."""
    target = _inside(project_dir, quarantined.location)
    source = Path(quarantined.quarantine_path)
    if target is None:
        raise Conflict(f"location {quarantined.location!r} is not inside the project",
                       hint="move the file back by hand")
    if not source.exists():
        raise NotFound(f"nothing is quarantined at {source}",
                       hint="it was restored or removed already")
    if target.exists():
        raise Conflict(f"{quarantined.location} holds data again (re-made since?)",
                       hint=f"compare it with {source} and move one by hand")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
    _prune(source.parent, source.parents[3])
    if not by and isinstance(quarantined, OutputRestoreRequested):
        by = quarantined.by
    return _restored(quarantined, now, by)


def _restored(moved: OutputQuarantined | OutputRestoreRequested, now: datetime,
              by: str) -> OutputRestored:
    return OutputRestored(
        id=f"restored:{moved.cord_id}:{moved.asset}:{moved.partition}:{moved.version}",
        at=now, cord_id=moved.cord_id, asset=moved.asset, partition=moved.partition,
        version=moved.version, location=moved.location, quarantine_path=moved.quarantine_path,
        by=by)


def _prune(folder: Path, stop: Path) -> None:
    """Remove empty folders from ``folder`` up to (not including) ``stop``."""
    while folder != stop and folder.is_relative_to(stop):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent
