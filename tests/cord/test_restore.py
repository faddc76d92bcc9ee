"""Restoring a quarantined output by hand (``Service.output_restore``): on a live runner with a
real SQLite store and real files, and every refusal, each with a hint; nothing moves when it is
refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.cord.suspects import restore_event
from andon.events import (
    CordPulled,
    Event,
    OutputDeleted,
    OutputQuarantined,
    OutputRestored,
    OutputSuspect,
)
from andon.model.errors import AndonError, BadRequest, Conflict, NotFound
from andon.store.sql import Store
from tests.conftest import utc
from tests.cord.test_live import (  # noqa: F401  (live: the fixture)
    DAY,
    _made,
    _pull,
    _quarantined,
    live,
    made_then_stopped,
    of,
)
from tests.runner.harness import Live


def _refused(kind: type[AndonError], says: str, call: object) -> AndonError:
    with pytest.raises(kind) as caught:
        call()  # type: ignore[operator]
    assert says in caught.value.message, caught.value.message
    assert caught.value.hint, "a refusal says what to do next"
    return caught.value


def _states(live: Live, cord_id: str) -> dict[str, str]:  # noqa: F811
    return {o["asset"]: o["state"] for o in live.store.cord_outputs(cord_id)}


def test_a_quarantined_output_is_restored_with_its_content_and_only_once(
        live: Live) -> None:  # noqa: F811
    cord_id, report, content = _quarantined(live)
    (moved,) = of(live.log, OutputQuarantined)
    aside = Path(moved.quarantine_path)
    assert not report.exists() and _states(live, cord_id)["report"] == "quarantined"

    done = live.service.output_restore(cord_id, "report", DAY, None, live.now(), "alice")
    assert live.submit(done) == [True]

    assert isinstance(done, OutputRestored)
    assert (done.cord_id, done.asset, done.partition, done.version, done.by) == \
        (cord_id, "report", DAY, 1, "alice")
    assert report.read_text() == content and not aside.exists()
    assert not (live.root / ".andon/quarantine/report").exists(), "empty folders are pruned"
    assert _states(live, cord_id)["report"] == "restored"
    assert [o["state"] for o in live.service.cord(cord_id)["outputs"]
            if o["asset"] == "report"] == ["restored"]

    _refused(Conflict, "already restored", lambda: live.service.output_restore(
        cord_id, "report", DAY, None, live.now(), "alice"))
    _refused(Conflict, "already restored", lambda: live.service.output_restore(
        cord_id, "report", DAY, 1, live.now(), "alice"))
    assert report.read_text() == content


def test_restore_is_refused_while_the_location_holds_data_again_and_nothing_moves(
        live: Live) -> None:  # noqa: F811
    cord_id, report, content = _quarantined(live)
    aside = Path(of(live.log, OutputQuarantined)[0].quarantine_path)
    report.write_text("written by hand since\n")

    error = _refused(Conflict, "holds data again", lambda: live.service.output_restore(
        cord_id, "report", DAY, None, live.now(), "alice"))

    assert str(aside) in error.hint
    assert report.read_text() == "written by hand since\n" and aside.read_text() == content
    assert _states(live, cord_id)["report"] == "quarantined"
    assert of(live.log, OutputRestored) == []
    report.unlink()  # once the location is free the same restore goes through
    assert live.submit(live.service.output_restore(cord_id, "report", DAY, 1, live.now(),
                                                   "alice")) == [True]
    assert report.read_text() == content


def test_each_refusal_says_why(live: Live) -> None:  # noqa: F811
    _made(live)
    report = live.root / f"out/report/{DAY}.csv"
    report.write_text("edited by a person\n")  # so andon leaves it in place
    cord_id = _pull(live, "raw", "bad export")
    live.wait_for(lambda log: of(log, OutputDeleted), "mail deleted")
    assert live.runner.drain()
    states = _states(live, cord_id)
    assert (states["orders"], states["report"], states["mail"]) == ("suspect", "suspect", "deleted")

    def restore(asset: str, version: int | None = None, cord: str = cord_id) -> object:
        return lambda: live.service.output_restore(cord, asset, DAY, version, live.now(), "a")

    _refused(NotFound, "no cord with id 'nope:1'", restore("report", cord="nope:1"))
    missing = _refused(NotFound, "made no output 'raw'", restore("raw"))
    assert "mail" in missing.hint and f"andon cord show {cord_id}" in missing.hint
    _refused(NotFound, "version 7 of report", restore("report", 7))
    _refused(BadRequest, "version", restore("report", 0))
    kept = _refused(Conflict, "kept in place", restore("orders"))
    assert f"out/orders/{DAY}.csv" in kept.hint
    deleted = _refused(Conflict, "was deleted", restore("mail"))
    assert f"andon run mail --partition {DAY}" in deleted.hint
    _refused(Conflict, "was not moved aside", restore("report"))
    assert report.read_text() == "edited by a person\n"
    assert of(live.log, OutputRestored) == []
    assert not (live.root / f"out/mail/{DAY}").exists()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'andon.db'}")
    yield store
    store.close()


def test_without_a_version_the_newest_quarantined_one_comes_back(tmp_path: Path,
                                                                 store: Store) -> None:
    """Two versions of a partition under one cord, both quarantined: the newest is restored
    first; the older one would then overwrite it, so it is refused."""
    cord_id, at = f"orders:{DAY}:1", utc(2026, 1, 6, 3)
    location = f"out/report/{DAY}.csv"
    events: list[Event] = [CordPulled(id=f"cord:{cord_id}", at=at, cord_id=cord_id,
                                      asset="orders", partition=DAY, version=1, reason="bad")]
    for version in (1, 2):
        aside = tmp_path / f".andon/quarantine/report/{DAY}/v{version}/{DAY}.csv"
        aside.parent.mkdir(parents=True)
        aside.write_text(f"version {version}\n")
        events += [OutputSuspect(id=f"suspect:{version}", at=at, cord_id=cord_id, asset="report",
                                 partition=DAY, version=version, pipeline="report",
                                 location=location, action="quarantine"),
                   OutputQuarantined(id=f"quarantined:{version}", at=at, cord_id=cord_id,
                                     asset="report", partition=DAY, version=version,
                                     location=location, quarantine_path=str(aside))]
    store.append(events)

    done = restore_event(store, tmp_path, cord_id, "report", DAY, None, at, "test")
    store.append([done])

    assert done.version == 2 and (tmp_path / location).read_text() == "version 2\n"
    _refused(Conflict, "holds data again", lambda: restore_event(
        store, tmp_path, cord_id, "report", DAY, None, at, "test"))
    _refused(Conflict, "already restored", lambda: restore_event(
        store, tmp_path, cord_id, "report", DAY, 2, at, "test"))
    assert (tmp_path / f".andon/quarantine/report/{DAY}/v1/{DAY}.csv").read_text() == \
        "version 1\n"
    assert (tmp_path / location).read_text() == "version 2\n"
    assert [(o["version"], o["state"]) for o in store.cord_outputs(cord_id)] == [
        (1, "quarantined"), (2, "restored")]


def test_a_restored_output_stays_put_when_the_scheduler_starts_again(  # type: ignore[no-untyped-def]
        make_project) -> None:
    """Restored while no scheduler runs (what `andon cord restore` does offline): the next start
    does not quarantine it again."""
    from andon.live.service import Service
    from tests.runner.harness import open_live

    root, clock, _ = made_then_stopped(make_project)
    line = open_live(root, clock, executor="inprocess")
    try:
        cord_id = _pull(line, "orders")
        line.wait_for(lambda log: of(log, OutputQuarantined), "the quarantine")
        assert line.runner.drain()
    finally:
        line.close()
    report = root / f"out/report/{DAY}.csv"
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    svc = Service(line.project.graph, store, root)
    store.append([svc.output_restore(cord_id, "report", DAY, None, clock.now(), "cli")])
    store.close()
    assert report.exists()

    again = open_live(root, clock, executor="inprocess")
    try:
        assert again.runner.drain()
        assert report.exists() and of(again.log, OutputQuarantined) == []
        assert _states(again, cord_id)["report"] == "restored"
    finally:
        again.close()
