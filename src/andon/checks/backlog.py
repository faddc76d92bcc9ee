"""The checks owed at start-up: partition versions whose declared checks have no recorded
verdict, because nobody was listening when they were made.

The check runner hears only of versions made while ``andon up`` runs. A partition announced with
no scheduler (``andon notify`` through the offline door), or made by a run whose checks were
still running when the scheduler died (``kill -9``), has a current version and no verdict: with
a blocking check its consumers would wait for it forever. ``andon up`` (``open_line``) and every
line opened without a scheduler (``andon.materialize``, ``andon run --wait``) ask ``owed`` once,
after the log's replay and before the runner starts, and hand each version to the check runner:
a version made later is heard by the runner's listener, one made before by this step, so each is
handed over once per start.

What is owed is read from the read models (``andon.store.checkdue``): the current version of
each partition of a checked data set, its data not swept away, and the verdicts recorded under
the ids the check runner gives them (``check_event_id``). Only the checks with no verdict run; a
verdict recorded twice cannot happen (the id), and a blocking failure recorded without its cord
pull (the scheduler died between the two) is judged again with the other checks of the version,
so that the cord is pulled as it would have been live (the pull's id is the version's)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from andon.checks.runner import check_event_id, cord_pull_id
from andon.events import CheckFailed
from andon.model.definitions import Check
from andon.store.checkdue import current_versions, recorded_types
from andon.store.sql import Store


@dataclass(frozen=True, slots=True)
class Owed:
    """One partition version and the checks to run on it (by name, in declaration order)."""

    asset: str
    partition: str
    version: int
    location: str
    checks: tuple[str, ...]


def owed(store: Store, checks: Iterable[Check]) -> list[Owed]:
    """The versions whose checks are owed, by asset and key; two reads plus one per 500 ids."""
    by_asset: dict[str, list[Check]] = {}
    for check in checks:
        by_asset.setdefault(check.asset, []).append(check)
    with store.read() as conn:
        current = current_versions(conn, sorted(by_asset))
        ids = [check_event_id(c.asset, v.partition, v.version, c.name)
               for v in current for c in by_asset[v.asset]]
        ids += [cord_pull_id(v.asset, v.partition, v.version) for v in current]
        known = recorded_types(conn, ids)
    out = []
    for v in current:
        declared = by_asset[v.asset]
        missing = [c for c in declared
                   if check_event_id(v.asset, v.partition, v.version, c.name) not in known]
        unpulled = cord_pull_id(v.asset, v.partition, v.version) not in known and any(
            c.blocking and known.get(check_event_id(v.asset, v.partition, v.version, c.name))
            == CheckFailed.name for c in declared)
        todo: Sequence[Check] = declared if unpulled else missing
        if todo:
            out.append(Owed(v.asset, v.partition, v.version, v.location,
                            tuple(c.name for c in todo)))
    return out
