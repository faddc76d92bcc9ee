"""What the lifecycle's notices say and to whom (pure: events and the graph)."""

from __future__ import annotations

from andon.events.lifecycle import DeletionBlocked, DeprecatedRead, ObjectDeprecated
from andon.notify.lifecycle import lifecycle_message
from andon.project.load import load_project
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import PIPELINES

T0 = utc(2026, 3, 1, 9)


def test_who_hears_what(make_project: ProjectFactory) -> None:
    graph = load_project(make_project(PIPELINES)).graph
    notice = lifecycle_message(ObjectDeprecated(
        id="d", at=T0, kind="dataset", object="legacy", delete_after="2026-03-20",
        reason="moved", replacement="raw", by="ops", owner="old@example.com",
        assets=("legacy",), readers=("summarise",)), graph)
    assert notice.assets == ("legacy",)  # its owners, subscribers and registered consumers
    assert notice.to == ("old@example.com", "bi@example.com")  # and the readers' owners
    assert "deleted after 2026-03-20" in notice.subject and "Use raw instead" in notice.text
    read = lifecycle_message(DeprecatedRead(
        id="r", at=T0, asset="legacy", reader="summarise", run_id="summarise:x:1",
        kind="dataset", object="legacy", delete_after="2026-03-20", frozen=True,
        owner="old@example.com"), graph)
    assert read.subject == "summarise read frozen data set legacy"
    assert read.to == ("old@example.com", "bi@example.com") and "blocks" in read.text
    blocked = lifecycle_message(DeletionBlocked(
        id="b", at=T0, kind="dataset", object="legacy", asset="legacy", reader="summarise",
        read_at="2026-03-02T09:00:00.000000Z", noticed_at="2026-03-01T09:00:00.000000Z",
        owner="old@example.com"), graph)
    assert blocked.to == ("old@example.com",) and "still reads it" in blocked.subject
