"""The manual over HTTP on a real server whose pipeline fails the same way on two days: the
entries, one entry, writing down a fix (operator), the review, and the hint on the failed runs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from tests.web.conftest import auth_header, running

FAILING = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    raise TimeoutError(f"timed out after 30s fetching https://crm.example.com/{ctx.partition}")
"""


def land(line: Line, client: httpx.Client, *keys: str) -> None:
    """Partitions ``keys`` of raw arrive; wait until their runs ended."""
    auth = auth_header(line)
    for key in keys:
        path = line.project.root / f"data/raw/{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a\n")
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": key},
                           headers=auth).status_code == 201
    assert line.runner.drain()


@pytest.fixture
def failing(make_project) -> Iterator[tuple[Line, httpx.Client]]:  # type: ignore[no-untyped-def]
    with running(make_project(FAILING)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        land(line, client, "2026-01-05", "2026-01-06")
        yield line, client


def test_the_manual_groups_the_two_failures_and_keeps_the_fix(
        failing: tuple[Line, httpx.Client]) -> None:
    line, client = failing
    listing = client.get("/api/v1/manual").json()
    (entry,) = listing["entries"]
    assert entry["kind"] == "failure" and entry["pipelines"] == ["clean"]
    assert entry["title"].startswith("TimeoutError")
    assert [o["partition"] for o in entry["occurrences"]] == ["2026-01-05", "2026-01-06"]
    assert all(o["run_id"] and o["at"] for o in entry["occurrences"])
    assert entry["resolutions"] == [] and entry["regression"] is False
    assert client.get("/api/v1/manual", params={"kind": "cord"}).json() == {"entries": []}
    assert client.get("/api/v1/manual", params={"since": "2999-01-01"}).json() == {
        "entries": []}
    one = client.get(f"/api/v1/manual/{entry['id']}").json()
    assert one["id"] == entry["id"] and one["count"] == 2

    body = {"note": "raised the export timeout", "link": "https://git.example.com/pr/12",
            "commit": "abc1234"}
    path = f"/api/v1/manual/{entry['id']}/resolve"
    assert client.post(path, json=body).status_code == 401
    assert client.post(path, json=body, headers=auth_header(line, "viewer")).status_code == 403
    r = client.post(path, json=body, headers=auth_header(line))
    assert r.status_code == 201, r.text
    assert r.json()["entry"] == entry["id"] and r.json()["recorded"] is True
    (fix,) = client.get(f"/api/v1/manual/{entry['id']}").json()["resolutions"]
    assert (fix["note"], fix["link"], fix["commit"]) == (body["note"], body["link"], "abc1234")
    assert fix["by"]

    # the failures before the fix were seen, not fixed; the one after it shows the fix
    before = client.get("/api/v1/runs", params={"status": "failed"}).json()
    assert [(r["hint"]["entry"], r["hint"]["fix"]) for r in before] == [(entry["id"], None)] * 2
    land(line, client, "2026-01-07")
    newest = client.get("/api/v1/runs", params={"partition": "2026-01-07"}).json()[0]
    assert newest["status"] == "failed" and newest["hint"]["seen"] == 3
    assert newest["hint"]["fix"]["note"] == body["note"]
    assert "last fixed by: raised the export timeout (https://git.example.com/pr/12)" in \
        newest["hint"]["text"]


def test_the_review_counts_the_window(failing: tuple[Line, httpx.Client]) -> None:
    _line, client = failing
    r = client.get("/api/v1/manual/review", params={"days": 7})
    assert r.status_code == 200, r.text
    review = r.json()
    assert review["days"] == 7
    (row,) = review["rows"]
    assert (row["count"], row["label"]) == (2, "new")
    assert 0 < review["reactive_share"] <= 1 and review["compute_share"] == 1.0
    assert review["flagged"] is (review["reactive_share"] > 0.10)
    assert client.get("/api/v1/manual/review").json()["days"] == 30


def test_an_unknown_entry_is_404_with_a_suggestion(failing: tuple[Line, httpx.Client]) -> None:
    line, client = failing
    (entry,) = client.get("/api/v1/manual").json()["entries"]
    near = entry["id"][:-1] + ("0" if entry["id"][-1] != "0" else "1")
    r = client.get(f"/api/v1/manual/{near}")
    assert r.status_code == 404 and entry["id"] in r.json()["hint"]
    r = client.post(f"/api/v1/manual/{near}/resolve", json={"note": "x"},
                    headers=auth_header(line))
    assert r.status_code == 404 and entry["id"] in r.json()["hint"]


@pytest.mark.parametrize("query,field", [
    ({"kind": "bogus"}, "kind"), ({"since": "garbage"}, "since"),
    ({"since": "2026-13-45"}, "since"), ({"since": "x" * 5000}, "since")])
def test_bad_listing_queries_are_422_naming_the_field(line: Line, client: httpx.Client,
                                                      query: dict[str, str], field: str) -> None:
    r = client.get("/api/v1/manual", params=query)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


@pytest.mark.parametrize("days", ["0", "367", "100000", "-1", "abc", "1e3", "9" * 50])
def test_bad_review_days_are_422(line: Line, client: httpx.Client, days: str) -> None:
    r = client.get("/api/v1/manual/review", params={"days": days})
    assert r.status_code == 422 and r.json()["field"] == "days", r.text
