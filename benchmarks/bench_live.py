"""Live updates: how soon a recorded event reaches an open board over server-sent events.

The project of ``bench_board.py`` (20 daily sources, 1,000 pipelines in layers, 30 days made,
replayed by a real ``andon up`` on 127.0.0.1) plus one daily source ``ping`` that nothing reads,
so that announcing it records one event and starts nothing. ``--events`` partitions of ``ping``
are announced with ``POST /api/v1/notify`` (the project's admin token, a keep-alive connection),
one every ``--interval`` seconds, each with its own event id. Two phases:

* *raw*: one client in this process follows ``/api/v1/events/stream`` over plain HTTP
  (``http.client``, a reader thread) and notes the wall time at which each message is read;
* *board*: the board ``/`` open in the machine's headless Chromium (Playwright), whose own
  ``EventSource`` is wrapped by an init script that notes ``performance.timeOrigin +
  performance.now()`` as each message arrives, before the board's handler runs (which then
  refreshes the page, as it does for a person watching it). The raw client follows the stream
  during this phase too, for comparison. The browser's clock is compared with this process's
  clock before and after (the offset with the shortest round trip is subtracted).

Latency = arrival minus the event's ``at`` (the time the server recorded it, taken when the
request was handled, before the commit): an upper bound of the time from the commit. Also
reported: arrival minus the moment the notify's answer (sent after the commit) was read, which is
a lower bound and negative when the stream was faster than the answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
from datetime import date, timedelta
from typing import Any

from benchlib import Http, Result, Server, chromium, enable_bytecode, figure, settle, summary_stats
from benchprojects import made_history, scratch

TARGET_P99_S = 0.100
PING = '\nandon.source("ping", partitions="daily")  # read by nothing: an event, no runs\n'
FIRST = date(2026, 1, 1)  # the project's start
WRAP_EVENTSOURCE = """(() => {
  const Original = window.EventSource;
  window.__arrivals = [];
  window.__streamOpen = false;
  window.EventSource = function (url, options) {
    const source = new Original(url, options);
    source.addEventListener('open', () => { window.__streamOpen = true; });
    source.addEventListener('message', (e) => {
      window.__arrivals.push([performance.timeOrigin + performance.now(), e.data]);
    });
    return source;
  };
  window.EventSource.prototype = Original.prototype;
})();"""
BROWSER_NOW = "() => performance.timeOrigin + performance.now()"


class StreamReader:
    """Follows the event stream in a thread; ``arrivals`` maps event id -> (wall time, data)."""

    def __init__(self, url: str) -> None:
        self.http = Http(url, timeout=300)
        self.arrivals: dict[str, tuple[float, dict[str, Any]]] = {}
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        conn = self.http.conn
        conn.request("GET", "/api/v1/events/stream", headers={"Accept": "text/event-stream"})
        resp = conn.getresponse()
        self.opened.set()
        named, data = False, b""
        try:
            while line := resp.readline():
                if line in (b"\n", b"\r\n"):  # a message ends
                    if data and not named:  # an event of the log, not a heartbeat or a reset
                        arrived = time.time()
                        event = json.loads(data)
                        self.arrivals[event["id"]] = (arrived, event)
                    named, data = False, b""
                elif line.startswith(b"event:"):
                    named = True
                elif line.startswith(b"data:"):
                    data += line[5:].strip()
        except (OSError, ValueError):  # closed when the benchmark is done
            pass

    def close(self) -> None:
        sock = self.http.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the reader's readline returns
        self.thread.join(10)
        self.http.close()


def _wait(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def announce(url: str, token: str, first: int, n: int, interval: float, tag: str
             ) -> dict[str, dict[str, float]]:
    """Notify ``n`` partitions of ``ping``, one every ``interval`` s; id -> sent / answered."""
    http = Http(url)
    sent: dict[str, dict[str, float]] = {}
    start = time.monotonic()
    try:
        for i in range(n):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            key = (FIRST + timedelta(days=first + i)).isoformat()
            event_id = f"ping-{tag}-{i}"
            t0 = time.time()
            status, _ = http.post_json("/api/v1/notify", {"asset": "ping", "partition": key,
                                                          "id": event_id}, token)
            if status != 201:
                raise RuntimeError(f"notify {key} answered {status}")
            sent[event_id] = {"sent": t0, "answered": time.time()}
    finally:
        http.close()
    return sent


def latencies(sent: dict[str, dict[str, float]], arrivals: dict[str, float],
              recorded: dict[str, float]) -> dict[str, Any]:
    """Per event: arrival minus recorded time (``at``), minus the answer, minus the request."""
    missing = sorted(set(sent) - set(arrivals))
    got = [i for i in sent if i in arrivals]
    out: dict[str, Any] = {"events": len(sent), "arrived": len(got), "missing": missing[:20]}
    if got:
        out["from_recorded_s"] = summary_stats([arrivals[i] - recorded[i] for i in got])
        out["from_answer_s"] = summary_stats([arrivals[i] - sent[i]["answered"] for i in got])
        out["from_request_s"] = summary_stats([arrivals[i] - sent[i]["sent"] for i in got])
        out["notify_round_trip_s"] = summary_stats([sent[i]["answered"] - sent[i]["sent"]
                                                    for i in got])
    return out


def _recorded(reader: StreamReader) -> dict[str, float]:
    from andon.events.codec import parse_time

    return {i: parse_time(data["at"]).timestamp() for i, (_, data) in reader.arrivals.items()}


def raw_phase(url: str, token: str, n: int, interval: float, warmup: int) -> dict[str, Any]:
    reader = StreamReader(url)
    try:
        reader.opened.wait(30)
        announce(url, token, 0, warmup, interval, "raw-warmup")
        sent = announce(url, token, warmup, n, interval, "raw")
        _wait(lambda: set(sent) <= set(reader.arrivals), 10)
    finally:
        reader.close()
    return latencies(sent, {i: t for i, (t, _) in reader.arrivals.items()}, _recorded(reader))


def _clock_offset(page: Any, tries: int = 20) -> dict[str, float]:
    """The browser's clock minus this process's (s), from the read with the shortest round trip."""
    best = (float("inf"), 0.0)
    for _ in range(tries):
        t0 = time.time()
        browser_now = page.evaluate(BROWSER_NOW) / 1000
        t1 = time.time()
        best = min(best, (t1 - t0, browser_now - (t0 + t1) / 2))
    return {"offset_s": best[1], "round_trip_s": best[0]}


def board_phase(url: str, token: str, n: int, interval: float, warmup: int) -> dict[str, Any]:
    from andon.events.codec import parse_time

    reader = StreamReader(url)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            context.add_init_script(WRAP_EVENTSOURCE)
            page = context.new_page()
            page.goto(url + "/", wait_until="load", timeout=60_000)
            for _ in range(600):
                if page.evaluate("() => window.__streamOpen"):
                    break
                page.wait_for_timeout(50)
            before = _clock_offset(page)
            reader.opened.wait(30)
            first = 10 * (n + warmup)  # partitions the raw phase did not use
            announce(url, token, first, warmup, interval, "board-warmup")
            sent = announce(url, token, first + warmup, n, interval, "board")
            for _ in range(200):
                if page.evaluate("() => window.__arrivals.length") >= n + warmup:
                    break
                page.wait_for_timeout(50)
            arrived = page.evaluate("() => window.__arrivals")
            refreshed = page.evaluate(
                "() => document.documentElement.getAttribute('data-refreshed')") is not None
            after = _clock_offset(page)
        finally:
            context.close()
    reader.close()
    clock = min(before, after, key=lambda c: c["round_trip_s"])
    browser_arrivals, recorded = {}, {}
    for at_ms, data in arrived:
        event = json.loads(data)
        browser_arrivals[event["id"]] = at_ms / 1000 - clock["offset_s"]
        recorded[event["id"]] = parse_time(event["at"]).timestamp()
    raw = {i: t for i, (t, _) in reader.arrivals.items()}
    return {"browser": latencies(sent, browser_arrivals, recorded),
            "raw_meanwhile": latencies(sent, raw, {**_recorded(reader), **recorded}),
            "clock": {"before": before, "after": after, "used": clock},
            "board_refreshed": refreshed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=200, help="events measured per phase")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between events")
    parser.add_argument("--warmup", type=int, default=10, help="events before measuring")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    args = parser.parse_args()
    enable_bytecode()

    result = Result("live", f"recorded event -> open board over server-sent events, "
                    f"{args.pipelines} pipelines x {args.days} days made, {args.events} events "
                    f"{args.interval * 1000:g} ms apart")
    with scratch("live", args.keep) as root:
        generated = made_history(root, args.pipelines, args.days, PING)
        with Server(root) as server:
            url = server.wait_ready(timeout=300)
            settle(server.pid)
            token = server.token()
            raw = raw_phase(url, token, args.events, args.interval, args.warmup)
            board = board_phase(url, token, args.events, args.interval, args.warmup)

    def stat(data: dict[str, Any], key: str, which: str = "from_recorded_s") -> float | None:
        return data.get(which, {}).get(key)

    browser = board["browser"]
    result.add(
        figure(f"recorded -> open board in Chromium (EventSource), p99 of {browser['arrived']}",
               stat(browser, "p99"), "s", TARGET_P99_S),
        figure("recorded -> open board in Chromium, p50", stat(browser, "p50"), "s"),
        figure(f"recorded -> raw HTTP stream client, p99 of {raw['arrived']}", stat(raw, "p99"),
               "s", TARGET_P99_S),
        figure("recorded -> raw HTTP stream client, p50", stat(raw, "p50"), "s"),
        figure("events that never arrived (board, raw)",
               browser["events"] - browser["arrived"] + raw["events"] - raw["arrived"], "count", 1),
    )
    result.details = {"pipelines": args.pipelines, "days": args.days, "events": args.events,
                      "interval_s": args.interval, "warmup": args.warmup, "generation": generated,
                      "raw": raw, "board": board}
    for label, data in (("raw", raw), ("board (Chromium)", browser),
                        ("raw while the board refreshes", board["raw_meanwhile"])):
        print(f"  {label:30s} recorded -> arrived p50 {stat(data, 'p50') * 1000:6.1f} ms "
              f"p99 {stat(data, 'p99') * 1000:6.1f} ms max {stat(data, 'max') * 1000:6.1f} ms; "
              f"answer -> arrived p50 {stat(data, 'p50', 'from_answer_s') * 1000:6.1f} ms "
              f"({data['arrived']}/{data['events']})", flush=True)
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
