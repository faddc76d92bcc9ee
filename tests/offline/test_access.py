"""Access requests and registered consumers through the engine (the offline door, as `andon
access` without a scheduler): requested, decided once, registered, expired when the date has
passed, and the read models equal to what a replay of the log builds. Real SQLite, fake time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from andon.engine.core import decide, next_wakeup, replay
from andon.events.access import AccessExpired, ConsumerSubscribed, ConsumerUnsubscribed
from andon.live.offline import submit
from andon.live.service import Service
from andon.model.errors import BadRequest, Conflict, Forbidden, NotFound
from andon.project.load import load_project
from andon.store.sql import Store
from tests.conftest import ProjectFactory, utc

PIPELINES = r'''
import andon

andon.source("raw", owner="data@example.com", location="data/raw/{partition}.csv",
             access={"note": "ask the data team",
                     "form": {"type": "object", "required": ["purpose"],
                              "properties": {"purpose": {"type": "string", "maxLength": 200},
                                             "rows": {"type": "integer", "minimum": 1}}}})
andon.source("closed", owner="data@example.com")
andon.source("linked", access="https://access.example.com/linked")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    pass
'''
NOW = utc(2026, 3, 1, 9)


@pytest.fixture
def project(make_project: ProjectFactory) -> tuple[Service, Path]:
    root = make_project(PIPELINES)
    project = load_project(root)
    return Service(project.graph, Store(f"sqlite:///{root}/andon.db"), root), root


def test_request_approve_register_and_expire(project: tuple[Service, Path]) -> None:
    svc, _ = project
    graph, store, desk = svc.graph, svc.store, svc.access
    asked = desk.request("raw", "ana@example.com", "  churn study ", "2026-03-10",
                         {"purpose": "model churn", "rows": 5}, "", NOW)
    assert asked.request_id == "raw:1" and asked.reason == "churn study"
    assert asked.owners == ("data@example.com",)
    assert submit(graph, store, [asked], NOW) == [True]
    assert desk.get("raw:1")["status"] == "requested"
    approved = desk.decide("raw:1", True, "fine", NOW, "data@example.com", "viewer")
    submit(graph, store, [approved], NOW)
    row = desk.get("raw:1")
    assert (row["status"], row["decided_by"], row["decision_note"]) == \
        ("approved", "data@example.com", "fine")
    (consumer,) = desk.consumers("raw")
    assert (consumer["consumer"], consumer["until"], consumer["request_id"]) == \
        ("ana@example.com", "2026-03-10", "raw:1")
    with pytest.raises(Conflict):  # decided once
        desk.decide("raw:1", False, "no", NOW, "admin", "admin")
    # the last day of access is the 10th: nothing expires before the next midnight
    submit(graph, store, [], utc(2026, 3, 10, 23, 59))
    assert desk.get("raw:1")["status"] == "approved"
    state = replay(graph, store.iter_events())
    assert next_wakeup(state, NOW) == utc(2026, 3, 11)
    submit(graph, store, [], utc(2026, 3, 11, 0, 1))
    assert desk.get("raw:1")["status"] == "expired" and desk.consumers("raw") == []
    kinds = [type(e) for e in store.iter_events()]
    assert kinds.count(AccessExpired) == 1 and kinds.count(ConsumerUnsubscribed) == 1
    assert kinds.count(ConsumerSubscribed) == 1
    # the replay derives nothing more: everything owed is in the log
    state = replay(graph, store.iter_events())
    assert decide(graph, state, utc(2026, 4, 1)).events == []
    assert next_wakeup(state, utc(2026, 4, 1)) is None


def test_subscribe_and_unsubscribe(project: tuple[Service, Path]) -> None:
    svc, _ = project
    desk = svc.access
    event = desk.subscribe("clean", "ops-hook", "2026-04-01", NOW, "ops-hook", "viewer")
    submit(svc.graph, svc.store, [event], NOW)
    assert [c["consumer"] for c in desk.consumers("clean")] == ["ops-hook"]
    with pytest.raises(Forbidden):  # someone else's registration needs an operator or owner
        desk.unsubscribe("clean", "ops-hook", NOW, "eve", "viewer")
    submit(svc.graph, svc.store, [desk.unsubscribe("clean", "ops-hook", NOW, "ops", "operator")],
           NOW)
    assert desk.consumers("clean") == []
    with pytest.raises(NotFound):
        desk.unsubscribe("clean", "ops-hook", NOW, "ops", "operator")


def test_refusals(project: tuple[Service, Path]) -> None:
    svc, _ = project
    desk = svc.access
    with pytest.raises(NotFound, match="no data set") as found:
        desk.request("rwa", "ana", "x", None, {"purpose": "p"}, "", NOW)
    assert "did you mean 'raw'" in found.value.hint
    with pytest.raises(Conflict, match="declares no access"):
        desk.request("closed", "ana", "x", None, {}, "", NOW)
    with pytest.raises(Conflict, match="outside andon") as linked:
        desk.request("linked", "ana", "x", None, {}, "", NOW)
    assert "https://access.example.com/linked" in linked.value.hint
    for until in ("2026-03-01", "2027-03-02", "tomorrow", "2026-3-5"):
        with pytest.raises(BadRequest) as bad:
            desk.request("raw", "ana", "x", until, {"purpose": "p"}, "", NOW)
        assert bad.value.where == "until"
    assert desk.request("raw", "ana", "x", None, {"purpose": "p"}, "", NOW).until == "2027-03-01"
    for answers, field in (({}, "answers.purpose"), ({"purpose": 3}, "answers.purpose"),
                           ({"purpose": "p", "rows": 0}, "answers.rows"),
                           ({"purpose": "p", "extra": 1}, "answers.extra"),
                           ({"purpose": "x" * 201}, "answers.purpose")):
        with pytest.raises(BadRequest) as bad:
            desk.request("raw", "ana", "x", None, answers, "", NOW)
        assert bad.value.where == field
    with pytest.raises(BadRequest) as bad:
        desk.request("raw", "ana", "x" * 2001, None, {"purpose": "p"}, "", NOW)
    assert bad.value.where == "reason"
    submit(svc.graph, svc.store, [desk.request("raw", "ana", "x", None, {"purpose": "p"}, "",
                                               NOW)], NOW)
    with pytest.raises(Forbidden):  # a viewer who owns nothing
        desk.decide("raw:1", True, "", NOW, "eve", "viewer")
    with pytest.raises(BadRequest) as bad:  # a rejection names why
        desk.decide("raw:1", False, "  ", NOW, "ops", "operator")
    assert bad.value.where == "reason"
    with pytest.raises(NotFound):
        desk.decide("raw:9", True, "", NOW, "ops", "operator")


def test_store_rows_survive_a_second_store_on_the_same_file(project: tuple[Service, Path]
                                                            ) -> None:
    svc, root = project
    desk = svc.access
    submit(svc.graph, svc.store, [desk.request("raw", "ana", "x", None, {"purpose": "p"}, "",
                                               NOW)], NOW)
    second = desk.request("raw", "bob", "y", None, {"purpose": "q"}, "", NOW + timedelta(1))
    assert second.request_id == "raw:2"
    reopened = Store(f"sqlite:///{root}/andon.db")
    assert [r["request_id"] for r in Service(svc.graph, reopened, root).access.requests()] == \
        ["raw:1"]
