"""The board's pages, sessions, OpenAPI document and /metrics over a real server (HTTP only; the
browser tests are in test_browser.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from starlette.routing import Route

from andon.live.clock import FakeClock
from andon.model.tokens import digest
from andon.serve.up import Line, _submitter
from andon.web.app import CSP, create_app
from andon.web.auth import csrf_for
from andon.web.context import WebContext
from tests.web.conftest import make_token, running

PAGES = ["/", "/runs", "/cords", "/pools", "/deliveries", "/assets/raw", "/assets/clean",
         "/search?q=cl", "/login"]


def _land(line: Line, client: httpx.Client, keys: list[str]) -> None:
    auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
    for key in keys:
        path = line.project.root / f"data/raw/{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"a\n{key}\n")
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": key},
                           headers=auth).status_code == 201
    assert line.runner.drain()


def _days(n: int) -> list[str]:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return [(first + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(n)]


def _login(client: httpx.Client, token: str) -> str:
    r = client.post("/login", data={"token": token, "next": "/assets/raw"})
    assert r.status_code == 303 and r.headers["location"] == "/assets/raw"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    return csrf_for(token)


def test_every_page_renders_with_a_strict_content_security_policy(client: httpx.Client,
                                                                  line: Line) -> None:
    _land(line, client, _days(3))
    run_id = client.get("/api/v1/runs").json()[0]["run_id"]
    for path in [*PAGES, f"/runs/{run_id}"]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == CSP
        assert "unsafe-inline" not in CSP
        assert "<script>" not in r.text and " style=" not in r.text, path
        assert "UTC" in r.text, f"{path} names its time zone"
    assert client.get("/assets/nope").status_code == 404
    assert "no data set named" in client.get("/assets/nope").text
    assert client.get("/static/board.js").headers["content-type"].startswith("text/javascript")
    etag = client.get("/static/board.css").headers["etag"]
    assert client.get("/static/board.css", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/static/../app.py").status_code == 404


def test_board_lines_partitions_and_search(client: httpx.Client, line: Line) -> None:
    _land(line, client, _days(2))
    board = client.get("/").text
    assert re.search(r'data-pipeline="clean" data-colour="(green|amber)"', board)
    asset = client.get("/assets/clean").text
    assert 'data-key="2026-01-02" data-state="ok"' in asset
    assert 'data-key="2026-01-03"' not in asset or 'data-key="2026-01-03" data-state="missing"' in asset
    assert 'id="lineage"' in asset and 'data-node="a:raw"' in asset and 'data-node="p:clean"' in asset
    found = client.get("/search?q=CLE").text
    assert "/assets/clean" in found and "/runs?pipeline=clean" in found
    assert "Nothing matches" in client.get("/search?q=zzz").text


def test_runs_are_filtered_in_the_url_and_paged_on_the_server(client: httpx.Client,
                                                               line: Line) -> None:
    _land(line, client, _days(55))
    first = client.get("/runs?pipeline=clean&status=succeeded").text
    assert first.count('<tr class="st-succeeded">') == 50
    assert 'href="/runs?pipeline=clean&amp;status=succeeded&amp;page=2"' in first
    second = client.get("/runs?pipeline=clean&status=succeeded&page=2").text
    assert second.count('<tr class="st-succeeded">') == 5 and 'rel="next"' not in second
    assert "No runs match" in client.get("/runs?status=failed").text


def test_operator_session_needs_the_csrf_token_and_viewers_get_no_buttons(
        client: httpx.Client, line: Line) -> None:
    _land(line, client, _days(1))
    assert "data-action" not in client.get("/assets/raw").text, "anonymous: no buttons"
    viewer = make_token(line, "viewer")
    _login(client, viewer)
    page = client.get("/assets/raw").text
    assert "data-action" not in page and 'class="role role-viewer"' in page
    body = {"asset": "raw", "partition": "2026-01-01", "reason": "bad rows"}
    assert client.post("/api/v1/cords", json=body,
                       headers={"X-CSRF-Token": csrf_for(viewer)}).status_code == 403

    operator = make_token(line, "operator")
    csrf = _login(client, operator)
    page = client.get("/assets/raw").text
    assert 'data-action="pull-cord"' in page and f'content="{csrf}"' in page
    r = client.post("/api/v1/cords", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    r = client.post("/api/v1/cords", json=body, headers={"X-CSRF-Token": "x" * 40})
    assert r.status_code == 403
    r = client.post("/api/v1/cords", json=body,
                    headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert r.status_code == 403, "a request from another site is refused even with the token"
    r = client.post("/api/v1/cords", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert 'data-action="resolve-cord"' in client.get("/").text

    assert line.store.revoke_token(digest(operator), datetime.now(UTC))
    r = client.post("/api/v1/runs", json={"pipeline": "clean", "partition": "2026-01-01"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 401, "a revoked session fails on its very next request"
    assert "data-action" not in client.get("/").text
    r = client.post("/logout", data={"csrf": csrf})
    assert r.status_code == 303 and "andon_session=" in r.headers["set-cookie"]


def test_login_refuses_unknown_tokens_and_other_sites(client: httpx.Client, line: Line) -> None:
    r = client.post("/login", data={"token": "andon_nope", "next": "/pools"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?failed=1")
    assert "set-cookie" not in r.headers
    r = client.post("/login", data={"token": make_token(line, "admin"), "next": "//evil.example"},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post("/login", data={"token": make_token(line, "admin"), "next": "//evil.example"})
    assert r.headers["location"] == "/", "never sent to another site after signing in"


def test_errors_are_json_with_the_field_and_reason(client: httpx.Client, line: Line) -> None:
    r = client.post("/api/v1/cords", json={"asset": "raw"})
    assert r.status_code == 401 and r.json()["message"]
    auth = {"Authorization": f"Bearer {make_token(line, 'viewer')}"}
    r = client.post("/api/v1/cords", json={"asset": "raw"}, headers=auth)
    assert r.status_code == 403 and "operator" in r.json()["message"]
    auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
    r = client.post("/api/v1/cords", json={"asset": "raw", "partition": 5, "reason": "x"},
                    headers=auth)
    assert r.status_code == 422
    assert r.json()["field"] == "partition" and "must be a str" in r.json()["message"]
    r = client.post("/api/v1/runs", json={}, headers={"Authorization": "Token abc"})
    assert r.status_code == 401 and "Bearer" in r.json()["hint"]


def test_openapi_documents_every_api_route(client: httpx.Client, line: Line) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    app = create_app(WebContext(line.service, _submitter(line.runner), line.clock.now,
                                line.store.token_role, "test"))
    routes = [(m.lower(), r.path) for r in app.routes if isinstance(r, Route)
              for m in (r.methods or ()) if m != "HEAD" and r.path.startswith("/api/v1/")]
    assert len(routes) > 15
    for method, path in routes:
        assert method in doc["paths"].get(path, {}), f"{method.upper()} {path} is not documented"
        op = doc["paths"][path][method]
        assert op["summary"] and op["responses"]
        if method == "post":
            assert {"401", "403"} <= set(op["responses"]), f"{path}: auth errors documented"
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == set(routes), "the document names no route the app lacks"


def test_metrics_in_prometheus_text_format(client: httpx.Client, line: Line) -> None:
    _land(line, client, _days(3))
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, float] = {}
    for text in r.text.splitlines():
        if text.startswith("#"):
            assert re.match(r"# (HELP|TYPE) andon_\w+ ", text), text
            continue
        name, value = text.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['andon_runs{state="succeeded"}'] == 3
    assert samples["andon_queue_length"] == 0
    assert samples['andon_pool_slots{pool="default"}'] == 4
    assert samples['andon_pool_slots_used{pool="default"}'] == 0
    assert samples["andon_event_to_start_seconds_count"] == 3
    assert samples['andon_event_to_start_seconds_bucket{le="+Inf"}'] == 3
    buckets = [v for k, v in samples.items() if k.startswith("andon_event_to_start_seconds_bucket")]
    assert buckets == sorted(buckets), "histogram buckets are cumulative"
    assert samples["andon_open_cords"] == 0 and samples["andon_up"] == 1
    assert samples["andon_slot_wait_seconds_total"] == 0
    assert "andon_deliverables_at_risk" in samples


CHAIN = """
import andon

andon.source("raw", location="data/raw/{partition}.csv", expected_arrival="1h")

@andon.pipeline(inputs=["raw"], outputs=["clean"], expected_duration="30m")
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")

# names are identifiers, so markup cannot reach the critical path through one
# (tests/hostile/test_definitions.py)
@andon.pipeline("aggregate", inputs=["clean"], outputs=["daily"],
                expected_duration="30m")
def aggregate(ctx):
    ctx.output("daily").write_text("ok\\n")

@andon.pipeline(inputs=["daily"], outputs=["report"], deadline="3h", expected_duration="30m")
def report(ctx):
    ctx.output("report").write_text("ok\\n")
"""
END = datetime(2026, 1, 6, tzinfo=UTC)  # the end of partition 2026-01-05, due today at 03:00


def _report_row(page: str) -> str:
    (found,) = re.findall(r'<tr class="d-[^"]+" data-deliverable="report 2026-01-05">.*?</tr>',
                          page, re.S)
    return found


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_deliveries_show_the_first_plan_the_moved_prediction_and_the_critical_path(
        make_project) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(END + timedelta(minutes=30))
    with running(make_project(CHAIN, start="2026-01-05"), clock=clock) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        assert line.runner.drain()
        row = _report_row(client.get("/deliveries").text)
        # the first plan: raw at 01:00, then three runs of 30 minutes
        assert '<td class="first-plan">02:00–02:30</td>' in row
        assert "as first planned" in row

        clock.set(END + timedelta(minutes=90))  # raw is 30 minutes overdue
        assert line.runner.drain()
        page = client.get("/deliveries").text
        row = _report_row(page)
        assert '<span class="pill amber">at risk</span>' in row
        assert '<td class="first-plan">02:00–02:30</td>' in row, "the first plan stays"
        assert "02:45–03:15" in row and '<span class="drift later">+45m</span>' in row
        assert _text(re.findall(r'<div class="path">.*?</div>', row, re.S)[0]) == \
            'critical path: raw → clean → aggregate → report'
        # in the Gantt, each upstream step of the path under the deliverable
        for step in ("raw", "clean", "aggregate"):
            assert f'data-step="{step} 2026-01-05"' in page
        assert 'class="step cp-overdue over"' in page, "raw is overdue, clean cannot make it"
        assert 'class="step cp-waiting over"' in page, "clean is predicted after its latest finish"
        (plan,) = [d for d in client.get("/api/v1/plan").json()["deliverables"]
                   if d["pipeline"] == "report" and d["partition"] == "2026-01-05"]
        assert plan["first_plan"]["predicted_finish"] == "2026-01-06T02:30:00.000000Z"
        assert [s["name"] for s in plan["critical_path"]] == \
            ["raw", "clean", "aggregate", "report"]

        clock.set(END + timedelta(minutes=110))
        path = line.project.root / "data/raw/2026-01-05.csv"
        path.parent.mkdir(parents=True)
        path.write_text("a\n1\n")
        line.runner.submit(line.service.notify("raw", "2026-01-05", clock.now())).result(10)
        assert line.runner.drain()
        row = _report_row(client.get("/deliveries").text)
        assert '<span class="pill green">delivered</span>' in row
        assert "01:50–01:50" in row and '<span class="drift ">-40m</span>' in row
        assert 'class="cp-done"' in row and "arrived 01:50" in row


def test_after_the_project_end_nothing_is_due_missing_or_accepted(make_project) -> None:  # type: ignore[no-untyped-def]
    # [project] end = "2026-01-06": two days, made; the clock is weeks later
    clock = FakeClock(END + timedelta(days=20))
    root = make_project(CHAIN, start="2026-01-05", end='"2026-01-06"')
    with running(root, clock=clock) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        _land(line, client, ["2026-01-05", "2026-01-06"])
        assert client.get("/api/v1/plan").json()["deliverables"] == []
        board = client.get("/").text
        assert "Nothing: every line is on plan." in board
        assert set(re.findall(r'data-colour="(\w+)"', board)) == {"green"}
        for asset in ("raw", "report"):
            cells = re.findall(r'data-key="([^"]+)" data-state="(\w+)"',
                               client.get(f"/assets/{asset}").text)
            assert cells == [("2026-01-05", "ok"), ("2026-01-06", "ok")], asset
        # a partition after the end is refused, saying where the end is and how to move it
        auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
        r = client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-07"},
                        headers=auth)
        assert r.status_code == 422
        assert r.json()["message"] == ("asset 'raw': '2026-01-07' is after the last partition "
                                       "'2026-01-06' (the project ends on 2026-01-06)")
        assert r.json()["hint"] == ("raise [project] end in andon.toml to 2026-01-07 or later "
                                    "to take partitions after it")
        r = client.post("/api/v1/runs", json={"pipeline": "report", "partition": "2026-01-07"},
                        headers=auth)
        assert r.status_code == 422 and "after the last partition" in r.json()["message"]
        r = client.post("/api/v1/backfills", json={"pipeline": "report", "from": "2026-01-05",
                                                   "to": "2026-01-08"}, headers=auth)
        assert r.status_code == 422 and "goes past the last partition 2026-01-06" in \
            r.json()["message"]
        assert line.runner.drain()
        assert line.store.count_events("partition.available") == 2
        assert line.store.count_events("run.requested") == 0
    # without the end, the same days are followed by days expected and missed
    with running(make_project(CHAIN, start="2026-01-05"), clock=clock) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        assert line.runner.drain()
        assert any(d["at_risk"] for d in client.get("/api/v1/plan").json()["deliverables"])
        assert 'data-state="missing"' in client.get("/assets/raw").text
