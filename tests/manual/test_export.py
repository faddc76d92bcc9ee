"""The manual as documents: an index and a page per entry, named by id; HTML whole and escaped,
Markdown with its markup characters escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from andon.manual.entries import ManualEntry, Occurrence, Resolution
from andon.manual.export import filename, html, markdown, render, safe_link

EVIL = '<script>alert(1)</script> | *x* [a](javascript:alert(1)) "q" & \'s\''


def entries() -> list[ManualEntry]:
    fail = ManualEntry(
        "3f2a9c1b7e44", "failure", "TimeoutError: timed out after <n>s fetching <url>",
        ("daily_sales",), ("sales",), occurrences=[
            Occurrence("failure", "3f2a9c1b7e44", "daily_sales", "sales", "2026-01-05",
                       "2026-01-05T06:00:00.000000Z", began="2026-01-05T05:59:00.000000Z",
                       recovered="2026-01-05T07:00:00.000000Z", run_id="daily_sales:2026-01-05:1",
                       code_version="c0ffee00", commit="abc1234"),
            Occurrence("failure", "3f2a9c1b7e44", "daily_sales", "sales", "2026-01-09",
                       "2026-01-09T06:00:00.000000Z", run_id="daily_sales:2026-01-09:1",
                       regression=True)],
        resolutions=[Resolution("3f2a9c1b7e44", "raised the export timeout", "2026-01-05T08:00Z",
                                link="https://git.example.com/pr/12", commit="abc1234",
                                by="cli:ana")],
        partitions=("sales 2026-01-05", "sales 2026-01-09"), consumers=("weekly",),
        regression=True, error_type="TimeoutError", file="lib/load.py", function="fetch")
    evil = ManualEntry("../x/<y>", "check", EVIL, (EVIL,), occurrences=[
        Occurrence("check", "../x/<y>", EVIL, EVIL, EVIL, "2026-01-06T00:00:00Z", check=EVIL)],
        resolutions=[Resolution("../x/<y>", EVIL, "2026-01-07T00:00:00Z",
                                link="javascript:alert(1)", by=EVIL)])
    return [evil, fail]


def test_markdown_has_an_index_and_a_page_per_entry() -> None:
    docs = markdown(entries(), "2026-01-10T00:00:00Z")
    assert sorted(docs) == ["3f2a9c1b7e44.md", "_x__y_.md", "index.md"]
    index = docs["index.md"]
    # kinds in the manual's order: failures before checks
    assert index.index("## failure") < index.index("## check")
    assert ("| [TimeoutError: timed out after &lt;n>s fetching &lt;url>](3f2a9c1b7e44.md) | "
            "daily\\_sales | 2 | 2026-01-05T06:00:00.000000Z | 2026-01-09T06:00:00.000000Z | "
            "regression |") in index
    page = docs["3f2a9c1b7e44.md"]
    assert "- 2026-01-05T08:00Z by cli:ana: raised the export timeout " \
           "([https://git.example.com/pr/12](https://git.example.com/pr/12), commit abc1234)" \
           in page
    assert "- **Time to detect:** 60 s on average" in page
    assert "- **Time to recover:** 3600 s on average" in page
    assert "| 2026-01-09T06:00:00.000000Z | daily\\_sales | 2026-01-09 | " \
           "daily\\_sales:2026-01-09:1 |  (regression) |" in page


def test_markdown_escapes_what_it_shows() -> None:
    page = markdown(entries())["_x__y_.md"]
    assert "<script>" not in page and "[a](javascript:" not in page
    assert "&lt;script>alert(1)&lt;/script> \\| \\*x\\* \\[a\\](javascript:alert(1))" in page
    for line in page.splitlines():
        if line.startswith("| 2026"):
            assert line.count(" | ") == 4, "a cell's | is escaped: the row keeps its columns"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        self.srcs += [v or "" for k, v in attrs if k == "src"]


def test_html_is_whole_and_escaped() -> None:
    docs = html(entries(), "2026-01-10T00:00:00Z")
    assert sorted(docs) == ["3f2a9c1b7e44.html", "_x__y_.html", "index.html"]
    for name, text in docs.items():
        parsed = _Tags()
        parsed.feed(text)
        assert "script" not in parsed.tags and not parsed.srcs, name
        assert "link" not in parsed.tags, f"{name}: no stylesheet fetched"
        assert all(h.startswith(("https://", "_x__y_", "3f2a", "index.html"))
                   for h in parsed.hrefs), (name, parsed.hrefs)
        assert "default-src 'none'" in text
    evil = docs["_x__y_.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evil and "javascript:" not in evil.split(
        "href=")[-1].split(">")[0]
    good = docs["3f2a9c1b7e44.html"]
    assert '<a href="https://git.example.com/pr/12" rel="noopener noreferrer">' in good
    assert 'class="reg">regression' in good
    assert '<a href="3f2a9c1b7e44.html">' in docs["index.html"]


def test_an_empty_manual_says_so() -> None:
    assert "No problem recorded yet." in markdown([])["index.md"]
    assert "No problem recorded yet." in html([])["index.html"]


def test_file_names_are_safe_and_unique() -> None:
    assert filename("3f2a9c1b7e44", ".md") == "3f2a9c1b7e44.md"
    assert filename("...", ".md") == "_.md"
    assert filename("a/b\x00c" + "x" * 500, ".html") == "a_b_c" + "x" * 95 + ".html"
    twins = [ManualEntry("a:b", "cord", "one"), ManualEntry("a/b", "cord", "two"),
             ManualEntry("index", "cord", "three")]
    assert sorted(markdown(twins)) == ["a_b-2.md", "a_b.md", "index-2.md", "index.md"]


@pytest.mark.parametrize("url,safe", [("https://x.example/a?b=1", True), ("HTTP://x", True),
                                      ("javascript:alert(1)", False), ("ftp://x", False),
                                      ('https://x"onmouseover=1', False), ("", False)])
def test_only_http_links_are_links(url: str, safe: bool) -> None:
    assert bool(safe_link(url)) is safe


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError):
        render("pdf", [])


def test_an_entry_comes_back_whole_from_its_json() -> None:
    from andon.manual.views import entry_from_json, entry_json

    for e in entries():
        again = entry_from_json(entry_json(e))
        assert entry_json(again) == entry_json(e)
        assert [o.regression for o in again.occurrences] == [o.regression for o in e.occurrences]
