"""The board's pages on a large project: server time, page weight and first paint.

The project is the one of ``bench_memory.py``: 20 daily sources and 1,000 no-op pipelines in
layers, 30 days of partitions all made (``benchlib.generate_history``), with a ``catalog.toml``
of ``--declared`` generated entries (models, services, libraries, data sets: ``bench_search``'s
generator), served by a real ``andon up`` on 127.0.0.1 (its own process, SQLite store, the log
replayed at start-up). The board's top page is the front door: the lines, the catalog's search
box, its facets and what changed recently. Once it has settled and every page was fetched once:

* *server time*: ``--gets`` GETs of each page one after another on a keep-alive connection from
  this process, asking for gzip as a browser does; from sending the request to the last byte of
  the body. The board home ``/`` is judged; the other pages are for information. A
  ``Server-Timing`` header would be recorded too (andon sends none).
* *results as you type*: the same for the search box's fragment (``/search/results?q=``) for a
  few queries (an exact pipeline name, a prefix, an exact declared name, two words of a
  description, a one-typo name), and the catalog's browse page.
* *page weight* of ``/``: its HTML and every style sheet, script and image it references (and
  the ``url()``s of the style sheets; ``data:`` URLs are inline), the body bytes as served with
  gzip, and uncompressed.
* *first paint* of ``/`` in the machine's headless Chromium (Playwright, never a downloaded
  browser): ``--loads`` loads, each in a fresh browser context (empty cache), after one warm-up
  load; ``first-contentful-paint`` (and ``first-paint``) from
  ``performance.getEntriesByType('paint')``, with the navigation timing and the bytes the browser
  itself counted.
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import statistics
import sys
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from bench_search import catalog_toml, entries, typo
from benchlib import Http, Result, Server, chromium, enable_bytecode, figure, percentile, settle
from benchprojects import made_history, scratch

SERVER_TARGET_S = 0.150
WEIGHT_TARGET_KB = 300.0
PAINT_TARGET_S = 1.0
PAINT_ENTRIES = """() => Object.fromEntries(
    performance.getEntriesByType('paint').map(e => [e.name, e.startTime]))"""
NAVIGATION = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const sum = (k) => res.reduce((a, r) => a + r[k], n[k]);
  return {response_start_ms: n.responseStart, response_end_ms: n.responseEnd,
          dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd,
          transfer_bytes: sum('transferSize'), encoded_bytes: sum('encodedBodySize'),
          decoded_bytes: sum('decodedBodySize'),
          resources: res.map(r => r.name)};
}"""


def pages(pipelines: int) -> dict[str, str]:
    """Page name -> path: the board home and the other pages (a mid-graph data set's page)."""
    return {"board": "/", "deliveries": "/deliveries", "runs": "/runs",
            "asset": f"/assets/a{pipelines // 2:04d}", "pools": "/pools",
            "catalog": "/catalog?kind=model"}


def searches(pipelines: int, declared: list[dict[str, Any]]) -> dict[str, str]:
    """What the search box is asked as one types -> the fragment's path."""
    mid, entry = f"p{pipelines // 2:04d}", declared[len(declared) // 2]
    asked = {"exact pipeline": mid, "prefix": mid[:3], "exact declared": entry["name"],
             "words": " ".join(entry["description"].split()[:2]),
             "typo": typo(random.Random(3), entry["name"])}
    return {what: "/search/results?" + urlencode({"q": q}) for what, q in asked.items()}


def server_times(url: str, path: str, gets: int) -> dict[str, Any]:
    """``gets`` timed GETs of ``path`` (gzip), one after another on one connection."""
    http = Http(url)
    seconds, encodings, server_timing, sizes = [], [], [], []
    try:
        for _ in range(gets):
            status, headers, body, took = http.get(path)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")
            seconds.append(took)
            sizes.append(len(body))
            if "server-timing" in headers:
                server_timing.append(headers["server-timing"])
            encodings.append(headers.get("content-encoding", "identity"))
    finally:
        http.close()
    return {"path": path, "seconds": seconds, "p50_s": statistics.median(seconds),
            "p95_s": percentile(seconds, 95), "min_s": min(seconds), "max_s": max(seconds),
            "body_bytes": sizes[-1], "content_encoding": encodings[-1],
            "server_timing": server_timing or None}


class _References(HTMLParser):
    """The URLs a page makes the browser fetch: style sheets, icons, scripts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("href") and a.get("rel") not in ("preconnect", "dns-prefetch"):
            self.urls.append(str(a["href"]))
        elif tag in ("script", "img", "source", "iframe", "video", "audio") and a.get("src"):
            self.urls.append(str(a["src"]))


def page_weight(url: str, path: str) -> dict[str, Any]:
    """The page and everything it references, as served with gzip and uncompressed."""
    http = Http(url)
    files: list[dict[str, Any]] = []
    try:
        todo, seen = [path], set()
        while todo:
            ref = todo.pop(0)
            target = urljoin(url + path, ref)
            if ref.startswith("data:") or target in seen:
                continue
            seen.add(target)
            parts = urlsplit(target)
            if parts.netloc != urlsplit(url).netloc:
                files.append({"url": target, "external": True})
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            status, headers, body, _ = http.get(local)
            _, _, plain, _ = http.get(local, gzip=False)
            encoding = headers.get("content-encoding", "identity")
            if encoding == "gzip" and gzip.decompress(body) != plain:
                raise RuntimeError(f"{local}: the gzip body differs from the plain one")
            files.append({"url": local, "status": status, "type": headers.get("content-type", ""),
                          "encoding": encoding, "transferred_bytes": len(body),
                          "uncompressed_bytes": len(plain)})
            text = plain.decode("utf-8", "replace")
            if "html" in headers.get("content-type", ""):
                parser = _References()
                parser.feed(text)
                todo += parser.urls
            elif "css" in headers.get("content-type", ""):
                todo += [u.strip("'\"") for u in re.findall(r"url\(([^)]+)\)", text)]
    finally:
        http.close()
    local_files = [f for f in files if not f.get("external")]
    return {"files": files,
            "transferred_bytes": sum(f["transferred_bytes"] for f in local_files),
            "uncompressed_bytes": sum(f["uncompressed_bytes"] for f in local_files),
            "external": [f["url"] for f in files if f.get("external")]}


def first_paint(url: str, loads: int) -> dict[str, Any]:
    """Load ``url`` ``loads`` times in headless Chromium, each in a fresh context (after one
    warm-up load); the paint and navigation timings of each."""
    samples = []
    with chromium() as browser:
        for i in range(loads + 1):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            try:
                page = context.new_page()
                page.goto(url, wait_until="load", timeout=60_000)
                paints = page.evaluate(PAINT_ENTRIES)
                for _ in range(100):  # the entries may be reported just after "load"
                    if len(paints) >= 2:
                        break
                    page.wait_for_timeout(50)
                    paints = page.evaluate(PAINT_ENTRIES)
                sample = {**paints, **page.evaluate(NAVIGATION)}
            finally:
                context.close()
            if i:  # the first load warms the browser process up
                samples.append(sample)
    fcp = [s["first-contentful-paint"] / 1000 for s in samples]
    fp = [s["first-paint"] / 1000 for s in samples]
    return {"loads": samples, "fcp_s": fcp, "fp_s": fp, "fcp_p50_s": statistics.median(fcp),
            "fp_p50_s": statistics.median(fp), "fcp_max_s": max(fcp)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--gets", type=int, default=20, help="timed GETs of each page")
    parser.add_argument("--loads", type=int, default=7, help="browser loads of the board")
    parser.add_argument("--declared", type=int, default=1000,
                        help="entries of the generated catalog.toml")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    args = parser.parse_args()
    enable_bytecode()

    result = Result("board", f"the board's pages with {args.pipelines} pipelines x {args.days} "
                    f"daily partitions made and {args.declared} declared catalog entries: "
                    "server time, page weight, first paint in Chromium, results as you type")
    with scratch("board", args.keep) as root:
        generated = made_history(root, args.pipelines, args.days)
        declared = entries(args.declared)
        (root / "catalog.toml").write_text(catalog_toml(declared))
        asked = searches(args.pipelines, declared)
        with Server(root) as server:
            url = server.wait_ready(timeout=300)
            settled = settle(server.pid)
            warm = Http(url)
            for path in pages(args.pipelines).values():  # the first view loads the read models
                warm.get(path)
            warm.close()
            times = {name: server_times(url, path, args.gets)
                     for name, path in pages(args.pipelines).items()}
            typed = {what: server_times(url, path, args.gets) for what, path in asked.items()}
            for name, t in [*times.items(), *typed.items()]:
                print(f"  {name:14s} {t['path'][:36]:36s} p50 {t['p50_s'] * 1000:7.1f} ms  p95 "
                      f"{t['p95_s'] * 1000:7.1f} ms  {t['body_bytes'] / 1024:6.1f} KB "
                      f"{t['content_encoding']}", flush=True)
            weight = page_weight(url, "/")
            print(f"  page weight of /: {weight['transferred_bytes'] / 1024:.1f} KB as served, "
                  f"{weight['uncompressed_bytes'] / 1024:.1f} KB uncompressed "
                  f"({len(weight['files'])} files)", flush=True)
            paint = first_paint(url + "/", args.loads)
            print(f"  first contentful paint p50 {paint['fcp_p50_s'] * 1000:.0f} ms "
                  f"(max {paint['fcp_max_s'] * 1000:.0f} ms), first paint p50 "
                  f"{paint['fp_p50_s'] * 1000:.0f} ms", flush=True)
            ready_s = server.ready_seconds

    board = times["board"]
    result.add(
        figure(f"board / the front page with the catalog: server time, median of {args.gets} "
               "(client on 127.0.0.1, gzip)",
               board["p50_s"], "s", SERVER_TARGET_S),
        figure(f"board / server time, p95 of {args.gets}", board["p95_s"], "s"),
        figure("board / page weight as served (HTML + CSS + JS + images, gzip)",
               weight["transferred_bytes"] / 1024, "KB", WEIGHT_TARGET_KB),
        figure("board / page weight uncompressed", weight["uncompressed_bytes"] / 1024, "KB"),
        figure(f"board / first contentful paint in headless Chromium, median of {args.loads} "
               "fresh contexts", paint["fcp_p50_s"], "s", PAINT_TARGET_S),
        figure(f"board / first paint, median of {args.loads}", paint["fp_p50_s"], "s"),
    )
    every = [s for t in typed.values() for s in t["seconds"]]
    result.add(
        figure(f"search box results fragment (/search/results), server time, median of "
               f"{len(typed)} queries x {args.gets}", statistics.median(every), "s",
               note="for information: one request per pause in typing"),
        figure("search box results fragment, server time, p95", percentile(every, 95), "s"))
    for what, t in typed.items():
        result.add(figure(f"search box results for {what} ({t['path']}), server time, median",
                          t["p50_s"], "s", note="for information"))
    for name in ("deliveries", "runs", "asset", "pools", "catalog"):
        t = times[name]
        result.add(figure(f"{name} page ({t['path']}) server time, median", t["p50_s"], "s",
                          note="for information"),
                   figure(f"{name} page server time, p95", t["p95_s"], "s"))
    result.details = {"pipelines": args.pipelines, "days": args.days, "gets": args.gets,
                      "declared": args.declared, "catalog_entries": args.declared
                      + 2 * args.pipelines + 20,
                      "loads": args.loads, "generation": generated, "ready_s": ready_s,
                      "settle_s": settled, "server_times": times, "search_results": typed,
                      "page_weight": weight,
                      "first_paint": paint,
                      "server_timing_header": any(t["server_timing"] for t in times.values()),
                      "unit": "KB = KiB (bytes / 1024)"}
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
