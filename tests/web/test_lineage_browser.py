"""The asset page's lineage graph in a real browser when the line is longer than the page: every
node can be seen (the graph fits the panel), and at actual size it scrolls, starting on the page's
data set, with both ends of the line reachable. Screenshots go to test-artifacts/board/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from andon.serve.up import Line
from tests.web.conftest import running
from tests.web.test_browser import Page, browser  # noqa: F401  (the module's browser fixture)

STEPS = 7  # pipelines in a row: 15 columns of nodes, twice as wide as a 1280-pixel page


def _chain() -> str:
    lines = ["import andon", "", 'andon.source("s0", location="data/s0/{partition}.csv")', ""]
    for i in range(1, STEPS + 1):
        lines += [f'@andon.pipeline(inputs=["{"s0" if i == 1 else f"d{i - 1}"}"], '
                  f'outputs=["d{i}"])', f"def step{i}(ctx):",
                  f'    ctx.output("d{i}").write_text("ok\\n")', ""]
    return "\n".join(lines)


NODES = ["a:s0"] + [n for i in range(1, STEPS + 1) for n in (f"p:step{i}", f"a:d{i}")]
FOCUS = f"a:d{STEPS // 2 + 1}"


@pytest.fixture
def long_line(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    with running(make_project(_chain())) as line:
        yield line


def _inside(page, node: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the node's box lies within the lineage panel's visible box and the viewport."""
    return bool(page.evaluate("""node => {
        const rect = document.querySelector(`#lineage .node[data-node="${node}"] rect`);
        const wrap = document.querySelector('.lineage-wrap').getBoundingClientRect();
        const r = rect.getBoundingClientRect();
        return r.width > 0 && r.left >= wrap.left - 0.5 && r.right <= wrap.right + 0.5
            && r.left >= 0 && r.right <= window.innerWidth;
    }""", node))


def test_a_long_lineage_fits_the_page_and_scrolls_at_actual_size(
        browser, long_line: Line) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tab = Page(browser, long_line)
    page = tab.open(f"/assets/{FOCUS[2:]}")
    drawn = page.eval_on_selector_all("#lineage .node", "els => els.map(e => e.dataset.node)")
    assert sorted(drawn) == sorted(NODES)
    width = float(page.get_attribute("#lineage", "width") or 0)
    assert width > 1280, "the line is longer than the page"
    # fitted: every node of the line is on screen, none cut off at either side
    assert [n for n in NODES if not _inside(page, n)] == []
    tab.shot("lineage-long-fit")
    # at actual size the graph scrolls, starting with the page's data set in view ...
    zoom = page.locator(".lineage-zoom")
    assert zoom.is_visible() and zoom.inner_text() == "actual size"
    zoom.click()
    assert zoom.inner_text() == "fit to width"
    box = page.locator("#lineage").bounding_box()
    assert box is not None and box["width"] == pytest.approx(width, abs=1)
    assert _inside(page, FOCUS) and not _inside(page, NODES[0]) and not _inside(page, NODES[-1])
    tab.shot("lineage-long-actual")
    # ... and both ends are reachable by scrolling the panel
    for end in (NODES[0], NODES[-1]):
        page.locator(f'#lineage .node[data-node="{end}"] rect').scroll_into_view_if_needed()
        assert _inside(page, end), end
    # and back to the whole line at a glance
    zoom.click()
    assert zoom.inner_text() == "actual size" and _inside(page, NODES[0])
    assert tab.errors == []
    tab.close()
