"""The board in a real browser: the machine's Chromium (installed by `make test` from Debian's
packages; Playwright never downloads one), driven by Playwright against a real server.

Screenshots of every page go to test-artifacts/board/ (look at them after a change)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.up import Line
from tests.web.conftest import make_token, running

CHROMIUM = "/usr/bin/chromium"
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

@andon.pipeline("odd<i id=inj-name>", inputs=["raw"], outputs=["side"])
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
             "pools": "/pools", "search": "/search?q=r"}
    for name, path in pages.items():
        page = tab.open(path)
        assert page.title().endswith("test"), path
        tab.shot(name)
    page = tab.open("/")
    assert _colours(page)["clean"] in ("green", "amber")
    assert _colours(page)["odd<i id=inj-name>"] == "red"
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
    run_id = board.service.runs("odd<i id=inj-name>", limit=1)[0]["run_id"]
    for path in ("/", "/assets/raw", "/search?q=odd", "/runs", f"/runs/{run_id}",
                 "/search?q=<b id=inj-q>"):
        page = tab.open(path)
        for marker in ("inj-owner", "inj-desc", "inj-name", "inj-error", "inj-q"):
            assert page.locator(f"#{marker}").count() == 0, f"{marker} became markup on {path}"
        assert page.evaluate("window.pwned") is None
    text = tab.open("/").inner_text("main")
    assert "odd<i id=inj-name>" in text
    assert '<script id="inj-error">window.pwned = 1</script> broke' in text
    assert 'ops <b id="inj-owner">team</b>' in tab.open("/assets/raw").inner_text("main")
    tab.shot("escaped")
    assert tab.errors == []
    tab.close()
