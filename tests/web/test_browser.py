"""The board in a real browser: the machine's Chromium (installed by `make test` from Debian's
packages; Playwright never downloads one), driven by Playwright against a real server.

Screenshots of every page go to test-artifacts/board/ (look at them after a change)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from andon.events import RunStarted, RunSucceeded
from andon.live.clock import FakeClock
from andon.serve.up import Line
from tests.cord.test_cli_api import PIPELINES as QUARANTINING
from tests.web.conftest import make_token, running
from tests.web.test_logstream import PIPELINES as FED_PIPELINE
from tests.web.test_logstream import Run

CHROMIUM = "/usr/bin/chromium"
# one browser for the module: under pytest-xdist its tests stay on one worker
pytestmark = pytest.mark.xdist_group("browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "board"

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv", owner='ops <b id="inj-owner">team</b>',
             description='orders as exported <img src=x id="inj-desc">')

@andon.pipeline(inputs=["raw"], outputs=["clean"], deadline="6h", owner="data@example.com")
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")

@andon.pipeline(inputs=["clean"], outputs=["daily"], deadline="7h")
def aggregate(ctx):
    ctx.output("daily").write_text("ok\\n")

@andon.pipeline(inputs=["daily"], outputs=["report"], deadline="8h")
def report(ctx):
    ctx.output("report").write_text("ok\\n")

# names are identifiers (markup in a name fails validation: tests/hostile/test_definitions.py);
# free text (owner, description, an error message) still carries markup here
@andon.pipeline("odd", inputs=["raw"], outputs=["side"])
def odd(ctx):
    raise ValueError('<script id="inj-error">window.pwned = 1</script> broke')
"""
DAYS = ("2026-01-05", "2026-01-06", "2026-01-07")
DOWNSTREAM = ("clean", "aggregate", "report")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def board(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    """A served project whose partitions were made (and one pipeline failed)."""
    with running(make_project(PIPELINES)) as line:
        for key in DAYS:
            path = line.project.root / f"data/raw/{key}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"a\n{key}\n")
            line.runner.submit(line.service.notify("raw", key, line.clock.now())).result(10)
        assert line.runner.drain()
        yield line


class Page:
    """A browser tab that records console errors and failed requests."""

    def __init__(self, browser, line: Line, role: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.line = line
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if role is not None:
            self.page.goto(f"{line.url}/login?next=/")
            self.page.fill("input[name=token]", make_token(line, role))
            self.page.click("form.login button")
            self.page.wait_for_url(f"{line.url}/")

    def open(self, path: str) -> object:
        self.page.goto(self.line.url + path)
        self.page.wait_for_selector('#heard[data-state="live"]', timeout=5000)  # stream connected
        return self.page

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def _colours(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        "li.line", "els => Object.fromEntries(els.map(e => [e.dataset.pipeline, e.dataset.colour]))")


def test_every_page_loads_without_console_errors(browser, board: Line) -> None:  # type: ignore[no-untyped-def]
    tab = Page(browser, board, "operator")
    run_id = board.service.runs("clean", limit=1)[0]["run_id"]
    pages = {"board": "/", "deliveries": "/deliveries", "runs": "/runs?pipeline=clean",
             "run": f"/runs/{run_id}", "asset": "/assets/clean", "source": "/assets/raw",
             "pools": "/pools", "search": "/search?q=r", "cords-empty": "/cords"}
    for name, path in pages.items():
        page = tab.open(path)
        assert page.title().endswith("test"), path
        tab.shot(name)
    page = tab.open("/")
    assert _colours(page)["clean"] in ("green", "amber")
    assert _colours(page)["odd"] == "red"
    assert tab.errors == [], f"console errors: {tab.errors}"
    tab.close()


def test_a_cord_pulled_from_the_page_turns_the_downstream_lines_red_without_a_reload(
        browser, board: Line) -> None:  # type: ignore[no-untyped-def]
    watcher = Page(browser, board, "operator")
    page = watcher.open("/")
    assert all(_colours(page)[p] != "red" for p in DOWNSTREAM)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    actor = Page(browser, board, "operator")
    asset = actor.open("/assets/raw")
    asset.fill("form[data-api='/api/v1/cords'] input[name=partition]", "2026-01-06")
    asset.fill("form[data-api='/api/v1/cords'] input[name=reason]",
               'duplicated rows <b id="inj-reason">x</b>')
    started = time.monotonic()
    asset.click("button[data-action=pull-cord]")
    for name in DOWNSTREAM:
        page.wait_for_selector(f'li.line[data-pipeline="{name}"][data-colour="red"]', timeout=1000)
    took = time.monotonic() - started
    assert took < 1.0, f"the board turned red after {took:.2f} s"
    assert page.evaluate("window.__sameDocument") is True, "the board was not reloaded"
    cord = page.locator("article.cord")
    assert cord.count() == 1
    assert "duplicated rows <b id=\"inj-reason\">x</b>" in cord.inner_text()
    assert page.locator("#inj-reason").count() == 0
    assert "pulled by operator" in cord.inner_text(), "who pulled it: the token's label"
    asset.wait_for_selector('.cell[data-key="2026-01-06"][data-state="suspect"]', timeout=1000)
    watcher.shot("board-cord-pulled")
    actor.shot("asset-cord-pulled")

    page.fill("article.cord input[name=note]", "re-exported")
    page.click("button[data-action=resolve-cord]")
    # a source's partition is re-made when it is announced again: the cord waits for that
    page.wait_for_selector("button[data-action=resolve-cord]", state="detached", timeout=2000)
    assert "resolving" in page.inner_text("article.cord")
    assert watcher.errors == [] and actor.errors == []
    watcher.close()
    actor.close()


def test_the_cord_list_shows_resolved_cords_and_follows_new_ones(browser, board: Line) -> None:  # type: ignore[no-untyped-def]
    """Resolved cords stay listed after they leave the board; the open ones come first; a cord
    pulled meanwhile appears without a reload."""
    svc, now = board.service, board.clock.now
    fixed = svc.cord_pull("clean", DAYS[0], "late export", now(), "alice")
    assert board.runner.submit(fixed).result(10)
    assert board.runner.drain()
    assert board.runner.submit(svc.cord_resolve(fixed.cord_id, "re-exported", now(), "bob",
                                                manual_fix=True)).result(10)
    assert board.runner.drain()
    pulled = svc.cord_pull("raw", DAYS[2], 'duplicated rows <b id="inj-reason">x</b>', now(),
                           "carol")
    assert board.runner.submit(pulled).result(10)
    assert board.runner.drain()

    tab = Page(browser, board)
    try:
        page = tab.open("/")
        page.click('#cords a[href="/cords"]')  # "all cords" on the board
        page.wait_for_url(board.url + "/cords")
        page.wait_for_selector('#heard[data-state="live"]', timeout=5000)
        assert page.locator('nav a[aria-current="page"]').inner_text() == "Cords"

        def rows() -> list[str]:
            return page.eval_on_selector_all("#cord-list tbody tr[data-cord]",
                                             "els => els.map(e => e.dataset.cord)")

        assert rows() == [pulled.cord_id, fixed.cord_id], "open first, though pulled later"
        assert page.locator("#inj-reason").count() == 0, "the reason is text"
        assert 'duplicated rows <b id="inj-reason">x</b>' in page.inner_text("#cord-list")
        row = page.locator(f'tr[data-cord="{fixed.cord_id}"]')
        assert row.locator(".pill.green").count() == 1 and "bob" in row.inner_text()
        tab.shot("cords")

        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        again = svc.cord_pull("clean", DAYS[1], "nulls", now(), "dave")
        assert board.runner.submit(again).result(10)
        page.wait_for_selector(f'#cord-list tr[data-cord="{again.cord_id}"]', timeout=2000)
        assert rows() == [again.cord_id, pulled.cord_id, fixed.cord_id]
        assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"

        page.select_option("select[name=status]", "open")
        page.click("form.filters button")
        page.wait_for_url(board.url + "/cords?status=open")
        assert rows() == [again.cord_id, pulled.cord_id]
        page.click(f'tr[data-cord="{pulled.cord_id}"] td:first-child a')
        page.wait_for_url(board.url + "/cords/" + quote(pulled.cord_id, safe=""))
        assert tab.errors == [], f"console errors: {tab.errors}"
    finally:
        tab.close()


def test_a_viewer_sees_no_operator_buttons(browser, board: Line) -> None:  # type: ignore[no-untyped-def]
    for role in ("viewer", None):
        tab = Page(browser, board, role)
        for path in ("/", "/assets/raw", "/assets/clean",
                     f"/runs/{board.service.runs('clean', limit=1)[0]['run_id']}"):
            page = tab.open(path)
            assert page.locator("form[data-api]").count() == 0, f"{role} {path}"
            assert page.locator("[data-action]").count() == 0, f"{role} {path}"
        if role == "viewer":
            assert page.locator(".role-viewer").count() == 1
            tab.shot("viewer-run")
        tab.close()
    tab = Page(browser, board, "operator")
    assert tab.open("/assets/clean").locator("[data-action]").count() >= 3
    tab.close()


def test_the_asset_page_draws_the_lineage_graph(browser, board: Line) -> None:  # type: ignore[no-untyped-def]
    tab = Page(browser, board)
    page = tab.open("/assets/daily")
    nodes = page.eval_on_selector_all("#lineage .node", "els => els.map(e => e.dataset.node)")
    assert sorted(nodes) == sorted(["a:raw", "p:clean", "a:clean", "p:aggregate", "a:daily",
                                    "p:report", "a:report"])
    assert page.locator("#lineage path.edge").count() == 6
    boxes = {n: page.locator(f'#lineage .node[data-node="{n}"] rect').bounding_box()
             for n in ("a:raw", "a:daily", "a:report")}
    assert all(b and b["width"] > 50 and b["height"] > 10 for b in boxes.values())
    assert boxes["a:raw"]["x"] < boxes["a:daily"]["x"] < boxes["a:report"]["x"], "left to right"
    assert page.locator('#lineage .node.focus[data-node="a:daily"]').count() == 1
    tab.shot("lineage")
    assert tab.errors == []
    tab.close()


def test_injected_markup_is_shown_escaped(browser, board: Line) -> None:  # type: ignore[no-untyped-def]
    tab = Page(browser, board, "operator")
    run_id = board.service.runs("odd", limit=1)[0]["run_id"]
    for path in ("/", "/assets/raw", "/search?q=odd", "/runs", f"/runs/{run_id}",
                 "/search?q=<b id=inj-q>"):
        page = tab.open(path)
        for marker in ("inj-owner", "inj-desc", "inj-error", "inj-q"):
            assert page.locator(f"#{marker}").count() == 0, f"{marker} became markup on {path}"
        assert page.evaluate("window.pwned") is None
    text = tab.open("/").inner_text("main")
    assert '<script id="inj-error">window.pwned = 1</script> broke' in text
    assert 'ops <b id="inj-owner">team</b>' in tab.open("/assets/raw").inner_text("main")
    tab.shot("escaped")
    assert tab.errors == []
    tab.close()


def test_a_running_runs_page_shows_its_log_as_it_is_written(browser, make_project) -> None:  # type: ignore[no-untyped-def]
    """A real process writes a line whenever the test feeds it one; the page shows each line
    without a reload, as text, and says when the run has ended. The health strip counts the
    run's slot and shows the fork server."""
    root = make_project(FED_PIPELINE)
    os.mkfifo(root / "feed.fifo")
    with running(root, executor="local") as line:
        run = Run(line)
        tab = Page(browser, line, "viewer")
        try:
            page = tab.open(f"/runs/{quote(run.run_id, safe='')}")
            log = page.locator("pre.log")
            assert log.get_attribute("data-stream"), "a running run's log is followed"
            page.evaluate("window.__sameDocument = true")  # gone if the page reloads
            assert page.inner_text("#h-workers") == "workers 1/4 busy"
            assert page.inner_text("#h-executor") in ("fork server alive",
                                                      "executor spawns each run")
            run.say("first line")
            page.locator("pre.log", has_text="got first line").wait_for(timeout=5000)
            run.say('<img src=x id="inj-log"> second')
            page.locator("pre.log", has_text='id="inj-log"> second').wait_for(timeout=5000)
            assert page.locator("#inj-log").count() == 0, "the log is text, not markup"
            text = log.inner_text()
            assert text.index("ready") < text.index("got first line") < text.index("second")
            assert text.count("got first line") == 1
            tab.shot("run-live")
            run.finish()
            page.wait_for_selector('pre.log[data-state="ended"]', timeout=10000)
            page.wait_for_selector(".pill.st-succeeded", timeout=10000)  # the live part too
            assert "done" in log.inner_text()
            assert page.inner_text("#log-state") == "run ended"
            assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"
            tab.shot("run-ended")
            assert tab.errors == [], f"console errors: {tab.errors}"
        finally:
            run.finish()
            tab.close()


DAY_PIPELINES = """
import time

import andon

andon.source("raw", expected_arrival="1h", owner="shop")
andon.source("fx", expected_arrival="30m", owner="treasury")


def gate(ctx, name):  # each run takes as long as the test keeps its gate shut
    deadline = time.monotonic() + 60  # a failure guard only
    while not (ctx.project_dir / "gates" / name).exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)


"""


def _gated(name: str, inputs: list[str], output: str, options: str) -> str:
    """A pipeline of DAY_PIPELINES: it writes ``output`` once the test opens its gate."""
    return (f'\n@andon.pipeline(inputs={inputs!r}, outputs=["{output}"], {options})\n'
            f'def {name}(ctx):\n    gate(ctx, "{name}")\n'
            f'    ctx.output("{output}").write_text("ok\\n")\n')


DAY_PIPELINES += "".join(_gated(*step) for step in [
    ("clean", ["raw"], "orders", 'expected_duration="30m"'),
    ("rates", ["fx"], "rates", 'expected_duration="15m", deadline="1h"'),
    ("aggregate", ["orders", "rates"], "daily", 'expected_duration="30m"'),
    ("report", ["daily"], "report", 'expected_duration="30m", deadline="3h"'),
    ("kpi", ["orders"], "kpi", 'expected_duration="20m", deadline="2h"'),
])


def test_the_deliveries_page_shows_drift_and_the_critical_path(browser, make_project) -> None:  # type: ignore[no-untyped-def]
    """A morning with a late source: runs take (fake) time because each waits for its gate
    while the test moves the clock. The page shows each deliverable's first plan, where the
    prediction moved to, the actual runs and the critical path under it."""
    end = datetime(2026, 1, 6, tzinfo=UTC)  # the end of partition 2026-01-05
    clock = FakeClock(end + timedelta(minutes=20))
    root = make_project(DAY_PIPELINES, start="2026-01-05")
    (root / "gates").mkdir()
    with running(root, executor="local", clock=clock) as line:
        seen: set[tuple[str, str]] = set()
        cond = threading.Condition()

        def listen(events) -> None:  # type: ignore[no-untyped-def]
            with cond:
                seen.update((type(e).__name__, e.pipeline) for e in events
                            if isinstance(e, (RunStarted, RunSucceeded)))
                cond.notify_all()

        def wait(kind: str, pipeline: str) -> None:
            with cond:
                assert cond.wait_for(lambda: (kind, pipeline) in seen, 30), f"{kind} {pipeline}"

        def at(minutes: int) -> None:
            clock.set(end + timedelta(minutes=minutes))
            assert line.runner.drain()

        def arrive(source: str) -> None:
            line.runner.submit(line.service.notify(source, "2026-01-05", clock.now())).result(10)

        def finish(pipeline: str) -> None:
            (root / "gates" / pipeline).write_text("")
            wait("RunSucceeded", pipeline)

        line.runner.subscribe(listen)
        assert line.runner.drain()  # the first plans are made at 00:20
        at(35)
        arrive("fx")
        wait("RunStarted", "rates")
        at(52)
        finish("rates")  # on time (due 01:00)
        at(100)  # raw, expected at 01:00, comes 40 minutes late
        arrive("raw")
        wait("RunStarted", "clean")
        at(135)
        finish("clean")  # aggregate and kpi start at 02:15
        wait("RunStarted", "kpi")
        at(150)

        tab = Page(browser, line)
        try:
            page = tab.open("/deliveries")
            rows = page.eval_on_selector_all(
                "table.deliveries tbody tr", "els => els.map(e => e.dataset.deliverable)")
            # late and at risk first: kpi is past its due time, report will be late
            assert rows == ["kpi 2026-01-05", "report 2026-01-05", "rates 2026-01-05"]
            report = page.locator('table.deliveries tr[data-deliverable="report 2026-01-05"]')
            assert report.locator("td.first-plan").inner_text() == "02:00–02:30"
            assert report.locator("td.predicted").inner_text() == "02:45–03:15 +45m"
            assert report.locator(".path").inner_text() == \
                "critical path: raw → clean → aggregate → report"
            gantt = page.locator('svg.gantt g[data-deliverable="report 2026-01-05"]')
            assert gantt.locator("g.step").count() == 3  # raw, clean, aggregate under report
            assert gantt.locator("rect.planned").count() == 1
            assert gantt.locator("rect.predicted").count() == 1
            box = gantt.locator('g.step[data-step="clean 2026-01-05"] rect.cp').bounding_box()
            assert box and box["width"] > 20, "clean's run is drawn as long as it took"
            tab.shot("deliveries-critical-path")
            assert tab.errors == [], f"console errors: {tab.errors}"
        finally:
            tab.close()
            for name in ("aggregate", "report", "kpi"):
                (root / "gates" / name).write_text("")


def test_a_quarantined_output_is_restored_from_the_cord_page_without_a_reload(
        browser, make_project) -> None:  # type: ignore[no-untyped-def]
    with running(make_project(QUARANTINING)) as line:
        for key in DAYS:
            path = line.project.root / f"data/raw/{key}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"a\n{key}\n")
            line.runner.submit(line.service.notify("raw", key, line.clock.now())).result(10)
        assert line.runner.drain()
        pulled = line.service.cord_pull("clean", DAYS[1], 'nulls in <b id="inj-reason">amount</b>',
                                        line.clock.now(), "alice")
        assert line.runner.submit(pulled).result(10)
        assert line.runner.drain()  # the quarantine is submitted after the pull's turn
        report = line.project.root / f"out/report/{DAYS[1]}.csv"
        assert not report.exists(), "quarantined"
        path = "/cords/" + quote(pulled.cord_id, safe="")
        row = f'tr[data-output="report {DAYS[1]} 1"]'

        for role in ("viewer", None):
            tab = Page(browser, line, role)
            page = tab.open(path)
            assert page.locator(f'{row}[data-state="quarantined"]').count() == 1
            assert page.locator("[data-action]").count() == 0, f"{role}: no buttons"
            assert page.locator("form[data-api]").count() == 0, f"{role}: no forms"
            tab.close()

        tab = Page(browser, line, "operator")
        try:
            page = tab.open("/")  # the board links the cord to its page
            page.click(f'article.cord a[href="{path}"]')
            page.wait_for_url(line.url + path)
            page.wait_for_selector('#heard[data-state="live"]', timeout=5000)
            assert page.title().startswith(f"Cord {pulled.cord_id}")
            assert page.locator("#inj-reason").count() == 0, "the reason is text"
            assert 'nulls in <b id="inj-reason">amount</b>' in page.inner_text("#incident")
            assert page.locator(f'#halts [data-halt="report {DAYS[1]}"]').count() == 1
            assert page.locator("button[data-action=resolve-cord]").count() == 1
            tab.shot("cord")
            page.evaluate("window.__sameDocument = true")  # gone if the page reloads
            page.click(f"{row} button[data-action=restore]")
            page.wait_for_selector(f'{row}[data-state="restored"]', timeout=2000)
            assert page.locator(f"{row} button").count() == 0, "nothing left to restore"
            assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"
            assert report.read_text() == "ok\n", "back where its run wrote it"
            tab.shot("cord-restored")
            assert tab.errors == [], f"console errors: {tab.errors}"
        finally:
            tab.close()


def test_a_model_page_and_a_service_page_render_without_console_errors(  # type: ignore[no-untyped-def]
        browser, make_project) -> None:
    from tests.web.test_entries import CATALOG, served

    with served(make_project, CATALOG) as line:
        tab = Page(browser, line)
        try:
            page = tab.open("/catalog/model/churn")
            assert page.title().startswith("churn (model)")
            assert page.locator("#versions tr[data-version]").count() == 2
            tab.shot("entry-model")
            page.click('#entry a[href="/catalog/pipeline/train"]')
            page.wait_for_url(line.url + "/catalog/pipeline/train")
            page = tab.open("/catalog/service/orders-api")
            assert page.locator('#used-by a[href="/catalog/pipeline/featurize"]').count() == 1
            assert page.inner_text(".lifecycle") == "deprecated"
            tab.shot("entry-service")
            page = tab.open("/assets/raw")
            assert page.locator("#consumers [data-observed]").count() == 2
            tab.shot("asset-consumers")
            assert tab.errors == [], f"console errors: {tab.errors}"
        finally:
            tab.close()
