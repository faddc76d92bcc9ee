"""``/api/v1/health`` latency while the server is under hostile load (a real ``andon up`` in its
own process, SQLite store):

(a) while ``POST /api/v1/notify`` hashes a ``--gigabytes`` source file (sparse: no disk used,
    every byte still read and hashed), which andon does off the event loop;
(b) while ``--slow`` slow clients are connected from 10 loopback addresses (127.0.0.2-11, each
    below the per-client cap): half connect and say nothing, half send their headers a byte every
    half second; a client the header timeout drops connects again at once;
(c) the same slow clients all from 127.0.0.1, the health checker's own address: the per-client
    cap drops the oldest of them still sending headers to let new connections in.

Health is asked on one keep-alive connection every 20 ms; when the server has dropped it (in (c)
the cap may: between asks it is an idle connection of the flooding address) the ask is sent again
on a new one, inside the measured time. Reported: p50 / p99 of its latency in each phase (target
p99 < 100 ms), the failed asks, and the asks sent again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from benchlib import Http, Result, Server, enable_bytecode, figure, summary_stats
from benchprojects import NOOP_HEADER, scratch, write_project

TARGET_MS = 100.0
DEFINITIONS = NOOP_HEADER + '''

andon.source("raw", location="data/raw/{partition}.csv")
'''


class Sampler:
    """Asks ``/api/v1/health`` every ``interval`` seconds until stopped; latencies in ms."""

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self.url, self.interval = url, interval
        self.latencies: list[float] = []
        self.failures = 0
        self.dropped = 0  # kept-alive connections the server had dropped (asked again)

    def run_while(self, busy: threading.Event | None = None, seconds: float = 0.0) -> None:
        http = Http(self.url, timeout=30)
        deadline = time.monotonic() + seconds
        try:
            while (busy.is_set() if busy is not None else time.monotonic() < deadline):
                t0 = time.perf_counter()
                ok = False
                for _attempt in range(3):
                    try:
                        status, _h, _b, _s = http.get("/api/v1/health")
                        ok = status == 200
                        break
                    except OSError:  # dropped while kept alive and idle: ask on a new one
                        self.dropped += 1
                        http.close()
                        http = Http(self.url, timeout=30)
                self.latencies.append((time.perf_counter() - t0) * 1000)
                self.failures += not ok
                time.sleep(self.interval)
        finally:
            http.close()


def hashing_phase(url: str, token: str, root: Path, gigabytes: float) -> dict[str, Any]:
    source = root / "data/raw/2026-01-05.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    with source.open("wb") as fh:
        fh.truncate(int(gigabytes * 2**30))
    busy = threading.Event()
    busy.set()
    answer: dict[str, Any] = {}

    def notify() -> None:
        t0 = time.perf_counter()
        request = urllib.request.Request(
            url + "/api/v1/notify", method="POST",
            data=json.dumps({"asset": "raw", "partition": "2026-01-05"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=3600) as resp:
            answer["status"] = resp.status
        answer["seconds"] = time.perf_counter() - t0
        busy.clear()

    sampler = Sampler(url)
    thread = threading.Thread(target=notify)
    thread.start()
    sampler.run_while(busy)
    thread.join()
    source.unlink()
    return {"latencies": sampler.latencies, "failures": sampler.failures,
            "dropped_keepalive": sampler.dropped, "notify_seconds": answer.get("seconds"),
            "notify_status": answer.get("status")}


async def _slow_client(host: str, port: int, source: str, kind: str, stop: asyncio.Event,
                       counts: dict[str, int]) -> None:
    """One slow client, connected again whenever the server drops it, until ``stop``."""
    request = f"GET /api/v1/health HTTP/1.1\r\nHost: {host}\r\nX-Pad: {'a' * 4000}\r\n\r\n"
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        except OSError:
            await asyncio.sleep(0.1)
            continue
        counts["open"] += 1
        counts["connects"] += 1
        try:
            if kind == "silent":
                await asyncio.wait([asyncio.ensure_future(reader.read()),
                                    asyncio.ensure_future(stop.wait())],
                                   return_when=asyncio.FIRST_COMPLETED)
            else:
                for char in request:
                    if stop.is_set() or reader.at_eof():
                        break
                    writer.write(char.encode())
                    await writer.drain()
                    await asyncio.sleep(0.5)
        except OSError:
            pass
        finally:
            counts["open"] -= 1
            writer.close()
        await asyncio.sleep(0.05)  # dropped: connect again (a pause, not a busy loop)


def slow_phase(url: str, slow: int, sources: list[str], seconds: float) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    host, port = str(parts.hostname), int(parts.port or 80)
    counts = {"open": 0, "connects": 0, "min_open": slow}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    async def all_clients() -> None:
        tasks = [asyncio.ensure_future(_slow_client(
            host, port, sources[i % len(sources)], "silent" if i % 2 else "bytewise", stop,
            counts)) for i in range(slow)]
        while counts["open"] < slow * 0.95 and counts["connects"] < slow * 4:
            await asyncio.sleep(0.05)
        ready.set()
        await asyncio.gather(*tasks)

    thread = threading.Thread(target=loop.run_until_complete, args=(all_clients(),))
    thread.start()
    ready.wait(60)
    opened_before = counts["open"]
    sampler = Sampler(url)
    watcher_stop = threading.Event()

    def watch() -> None:
        while not watcher_stop.is_set():
            counts["min_open"] = min(counts["min_open"], counts["open"])
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    sampler.run_while(seconds=seconds)
    watcher_stop.set()
    watcher.join()
    loop.call_soon_threadsafe(stop.set)
    thread.join(60)
    loop.close()
    return {"latencies": sampler.latencies, "failures": sampler.failures,
            "dropped_keepalive": sampler.dropped, "open_at_start": opened_before,
            "min_open": counts["min_open"], "connects": counts["connects"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gigabytes", type=float, default=3.0)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=8.0, help="per slow-client phase")
    args = parser.parse_args()
    enable_bytecode()
    result = Result("hostile_http", f"/api/v1/health latency while a notify hashes a "
                    f"{args.gigabytes:g} GB source and while {args.slow} slow clients are "
                    "connected; andon up in its own process, SQLite store")
    with scratch("hostile") as root:
        write_project(root, DEFINITIONS, {"default": 4})
        with Server(root) as server:
            url = server.wait_ready()
            hashing = hashing_phase(url, server.token(), root, args.gigabytes)
            spread = slow_phase(url, args.slow, [f"127.0.0.{i}" for i in range(2, 12)],
                                args.seconds)
            same = slow_phase(url, args.slow, ["127.0.0.1"], args.seconds)
            server.stop()
    phases = {"hashing": hashing, "slow_spread": spread, "slow_same_address": same}
    labels = {"hashing": f"while a notify hashes {args.gigabytes:g} GB",
              "slow_spread": f"with {args.slow} slow clients on 10 addresses",
              "slow_same_address": f"with {args.slow} slow clients on its own address"}
    for name, phase in phases.items():
        stats = summary_stats(phase["latencies"])
        phase["latency_ms"] = stats
        phase["asks"] = len(phase.pop("latencies"))
        result.add(figure(f"health latency {labels[name]}, p50", stats["p50"], "ms"),
                   figure(f"health latency {labels[name]}, p99", stats["p99"], "ms", TARGET_MS),
                   figure(f"failed health asks {labels[name]}", phase["failures"], "count", 1))
        print(f"  {labels[name]}: p50 {stats['p50']:.1f} ms p99 {stats['p99']:.1f} ms "
              f"({phase['asks']} asks, {phase['failures']} failed, "
              f"{phase['dropped_keepalive']} asked again on a new connection)", flush=True)
    result.details = {**phases, "gigabytes": args.gigabytes, "slow": args.slow,
                      "seconds": args.seconds}
    print(f"  notify of {args.gigabytes:g} GB took {hashing['notify_seconds']:.1f} s "
          f"(status {hashing['notify_status']}); slow clients open: {spread['min_open']} at least "
          f"(spread), {same['min_open']} at least (same address)", flush=True)
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
