"""Entries declared through the API of a real `andon up`: found by search at once, replaced by
a second declaration, removed, refused with the field named or as a conflict, and still there
after a restart (the catalog is a read model of the log)."""

from __future__ import annotations

import httpx

from tests.conftest import ProjectFactory
from tests.web.conftest import PIPELINES, auth_header, running

CHURN = {"kind": "model", "name": "churn", "owner": "ml@example.com",
         "description": "who is about to leave", "tags": ["ml", "customers"], "team": "ml",
         "links": {"code": "https://git.example.com/churn"},
         "lifecycle": {"state": "deprecated", "date": "2027-01-31"},
         "access": "https://access.example.com/churn"}


def _names(client: httpx.Client, q: str) -> list[tuple[str, str]]:
    answer = client.get("/api/v1/search", params={"q": q})
    assert answer.status_code == 200, answer.text
    return [(r["kind"], r["name"]) for r in answer.json()["results"]]


def test_declare_search_replace_remove_and_restart(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        headers = auth_header(line)
        done = client.post("/api/v1/catalog/entries", json=CHURN, headers=headers)
        assert done.status_code == 201, done.text
        assert {k: done.json()[k] for k in ("kind", "name")} == {"kind": "model",
                                                                 "name": "churn"}
        assert _names(client, "churn")[0] == ("model", "churn")  # at once
        hit = client.get("/api/v1/search", params={"q": "customers"}).json()["results"][0]
        assert (hit["name"], hit["owner"], hit["lifecycle"]) == ("churn", "ml@example.com",
                                                                  "deprecated")
        again = client.post("/api/v1/catalog/entries", headers=headers, json={
            "kind": "model", "name": "churn", "owner": "ml@example.com",
            "description": "scored nightly"})
        assert again.status_code == 201 and again.json()["id"] != done.json()["id"]
        assert _names(client, "nightly") == [("model", "churn")]
        assert _names(client, "leave") == []  # the old description is gone
        client.post("/api/v1/catalog/entries", headers=headers,
                    json={"kind": "library", "name": "pdlib", "owner": "py@example.com"})
        gone = client.post("/api/v1/catalog/entries/library/pdlib/remove", headers=headers)
        assert gone.status_code == 200, gone.text
        assert ("library", "pdlib") not in _names(client, "pdlib")
        twice = client.post("/api/v1/catalog/entries/library/pdlib/remove", headers=headers)
        assert twice.status_code == 404
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        assert _names(client, "churn")[0] == ("model", "churn")
        assert _names(client, "nightly") == [("model", "churn")]
        assert ("library", "pdlib") not in _names(client, "pdlib")


def test_refusals_name_the_field_or_the_conflict(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        headers = auth_header(line)
        for body, field in [({**CHURN, "kind": "modle"}, "kind"),
                            ({**CHURN, "kind": "pipeline"}, "kind"),
                            ({**CHURN, "name": "has space"}, "name"),
                            ({**CHURN, "owner": ""}, "owner"),
                            ({**CHURN, "tags": "ml"}, "tags"),
                            ({**CHURN, "tags": ["x"] * 51}, "tags"),
                            ({**CHURN, "links": ["https://x"]}, "links"),
                            ({**CHURN, "lifecycle": "retired"}, "lifecycle"),
                            ({**CHURN, "lifecycle": {"state": "deprecated"}}, "lifecycle"),
                            ({**CHURN, "lifecycle": {"state": "beta", "date": "31.1.2027"}},
                             "lifecycle"),
                            ({**CHURN, "colour": "red"}, "colour"),
                            ({**CHURN, "team": "a\nb"}, "team")]:
            answer = client.post("/api/v1/catalog/entries", json=body, headers=headers)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["field"] == field, answer.json()
        not_object = client.post("/api/v1/catalog/entries", json=["x"], headers=headers)
        assert not_object.status_code == 422
        # the definitions' data set "raw", and pipeline "clean"'s output
        taken = client.post("/api/v1/catalog/entries", headers=headers,
                            json={"kind": "dataset", "name": "raw", "owner": "x@example.com"})
        assert taken.status_code == 409 and "declared by the project" in taken.json()["message"]
        ours = client.post("/api/v1/catalog/entries/dataset/clean/remove", headers=headers)
        assert ours.status_code == 409
        assert client.post("/api/v1/catalog/entries/pipeline/clean/remove",
                           headers=headers).status_code == 422
        assert client.post("/api/v1/catalog/entries", json=CHURN).status_code == 401
        viewer = auth_header(line, "viewer")
        assert client.post("/api/v1/catalog/entries", json=CHURN,
                           headers=viewer).status_code == 403
        assert _names(client, "churn") == []  # nothing refused was recorded


def _deprecations(line) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    from andon.events.catalog import CatalogEntryDeprecated

    found = line.store.recent_events((CatalogEntryDeprecated.name,))
    return sorted((e.kind, e.entry, e.since) for _, e in found  # type: ignore[attr-defined]
                  if isinstance(e, CatalogEntryDeprecated))


def test_a_deprecated_entry_is_recorded_once_so_that_its_consumers_are_told(
        make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(
        '[[entries]]\nkind = "dataset"\nname = "crm"\nowner = "crm@example.com"\n'
        'lifecycle = { state = "deprecated", date = 2027-06-30 }\n\n'
        '[[entries]]\nkind = "service"\nname = "billing"\nowner = "pay@example.com"\n')
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        line.service.catalog.wait()  # the build, then its deprecations submitted
        assert line.runner.drain()
        assert _deprecations(line) == [("dataset", "crm", "2027-06-30")]
        headers = auth_header(line)
        for _ in range(2):  # declared twice: recorded once
            done = client.post("/api/v1/catalog/entries", json=CHURN, headers=headers)
            assert done.status_code == 201, done.text
        assert _deprecations(line) == [("dataset", "crm", "2027-06-30"),
                                       ("model", "churn", "2027-01-31")]
    with running(root) as line:  # a restart sees the same deprecations: nothing new
        line.service.catalog.wait()
        assert line.runner.drain()
        assert len(_deprecations(line)) == 2


def test_a_data_set_declared_through_the_api_takes_access_requests(
        make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        headers = auth_header(line)
        declared = client.post("/api/v1/catalog/entries", headers=headers, json={
            "kind": "dataset", "name": "crm", "owner": "crm@example.com",
            "access": {"note": "say what for", "form": {
                "type": "object", "required": ["purpose"],
                "properties": {"purpose": {"type": "string", "maxLength": 100}}}}})
        assert declared.status_code == 201, declared.text
        page = client.get("/catalog/dataset/crm").text
        assert 'href="/access-requests/new?asset=crm">Request access' in page
        viewer = auth_header(line, "viewer")
        missing = client.post("/api/v1/access-requests", headers=viewer,
                              json={"asset": "crm", "reason": "a study", "answers": {}})
        assert missing.status_code == 422 and missing.json()["field"] == "answers.purpose"
        asked = client.post("/api/v1/access-requests", headers=viewer, json={
            "asset": "crm", "reason": "a study", "answers": {"purpose": "churn"}})
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["request_id"]
        approved = client.post(f"/api/v1/access-requests/{request_id}/approve",
                               headers=headers, json={})
        assert approved.status_code == 200, approved.text
        entry = client.get("/api/v1/catalog/dataset/crm").json()
        assert [c["consumer"] for c in entry["consumers"]["external"]] == ["viewer"]
