"""Sustained ``POST /api/v1/notify`` against a real ``andon up`` (its own process, SQLite store).

A local load generator (``--procs`` processes of ``--connections`` asyncio keep-alive connections
to 127.0.0.1 each) posts notifications of one daily source for
``--seconds`` seconds; every request names a distinct event id, and partitions are spread over
decades of days. Reported: requests per second answered 2xx, the latency of those answers, and
the events counted in the store afterwards (the server stopped, the database reopened): every 2xx
answer's id must be in the log (none lost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchlib import Result, Server, enable_bytecode, figure, summary_stats
from benchprojects import NOOP_HEADER, scratch, write_project

TARGET_RPS = 1000.0
DEFINITIONS = NOOP_HEADER + '''

andon.source("src", partitions="daily")
'''
FIRST = date(2026, 1, 1)  # the project's start
SPREAD = 36_500  # days of partitions the requests cycle through


async def _connection(host: str, port: int, token: str, worker: str, stop_at: float,
                      out: dict[str, Any]) -> None:
    """One keep-alive connection posting notifications one after another until ``stop_at``
    (requests written by hand, answers read by Content-Length: the generator stays light, so
    that the server, not the load generator, is what is measured on a small machine)."""
    reader, writer = await asyncio.open_connection(host, port)
    head = (f"POST /api/v1/notify HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n")
    i = 0
    while time.time() < stop_at:
        event_id = f"load-{worker}-{i}"
        key = (FIRST + timedelta(days=zlib.crc32(event_id.encode()) % SPREAD)).isoformat()
        body = json.dumps({"asset": "src", "partition": key, "id": event_id}).encode()
        t0 = time.perf_counter()
        writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        try:
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            reply = await reader.readexactly(length)
            status = int(status_line.split()[1])
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            out["errors"] += 1
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
            continue
        out["latencies"].append((time.perf_counter() - t0) * 1000)
        out["statuses"][status] = out["statuses"].get(status, 0) + 1
        if 200 <= status < 300:
            out["ok"].append(json.loads(reply)["id"])
        i += 1
    writer.close()


def _process(args: tuple[str, str, int, int, float]) -> dict[str, Any]:
    url, token, proc, connections, stop_at = args
    parts = urlsplit(url)
    out: dict[str, Any] = {"ok": [], "latencies": [], "statuses": {}, "errors": 0}

    async def all_connections() -> None:
        await asyncio.gather(*(_connection(str(parts.hostname), int(parts.port or 80), token,
                                           f"{proc}.{c}", stop_at, out)
                               for c in range(connections)))

    asyncio.run(all_connections())
    return out


def load(url: str, token: str, procs: int, connections: int, seconds: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        start_at = time.time() + 2.0  # every process is up before the clock starts
        stop_at = start_at + seconds
        pending = pool.map_async(_process, [(url, token, p, connections, stop_at)
                                            for p in range(procs)])
        results = pending.get(seconds + 120)
    statuses: dict[int, int] = {}
    for r in results:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return {"ok": [i for r in results for i in r["ok"]],
            "latencies": [v for r in results for v in r["latencies"]],
            "statuses": statuses, "errors": sum(r["errors"] for r in results)}


def count_in_store(root: Path, ids: list[str]) -> tuple[int, int]:
    """(notifications in the log, 2xx ids missing from it)."""
    from andon.events import PartitionAvailable
    from andon.store.sql import Store

    store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
    try:
        logged = {ev.id for _, ev in store.events() if isinstance(ev, PartitionAvailable)}
    finally:
        store.close()
    return len(logged), len(set(ids) - logged)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--connections", type=int, default=64, help="connections per process")
    args = parser.parse_args()
    enable_bytecode()

    result = Result("notify_load", f"POST /api/v1/notify for {args.seconds:g} s from "
                    f"{args.procs} x {args.connections} keep-alive connections on 127.0.0.1, "
                    "andon up in its own process, SQLite store")
    with scratch("notify") as root:
        write_project(root, DEFINITIONS, {"default": 4})
        with Server(root) as server:
            url = server.wait_ready()
            token = server.token()
            measured = load(url, token, args.procs, args.connections, args.seconds)
            server.stop()
        logged, missing = count_in_store(root, measured["ok"])
    answered = len(measured["ok"])
    rps = answered / args.seconds
    stats = summary_stats(measured["latencies"]) if measured["latencies"] else {}
    result.add(
        {**figure("sustained notify rate (2xx answers)", rps, "req/s"), "target": TARGET_RPS,
         "pass": rps >= TARGET_RPS, "bound": "lower",
         "note": "a rate to reach: pass when value >= target"},
        figure("2xx answers whose event is missing from the log", missing, "count", 1),
        figure("notify latency under load, p50", stats.get("p50"), "ms"),
        figure("notify latency under load, p99", stats.get("p99"), "ms"))
    result.details = {"seconds": args.seconds, "procs": args.procs, "connections": args.connections,
                      "answered_2xx": answered, "statuses": measured["statuses"],
                      "connection_errors": measured["errors"], "events_in_log": logged,
                      "missing": missing, "latency_ms": stats}
    print(f"  {rps:.0f} notify/s sustained ({answered} answered 2xx in {args.seconds:g} s, "
          f"statuses {measured['statuses']}, {measured['errors']} connection errors); "
          f"{logged} events in the log, {missing} missing; p50 {stats.get('p50', 0):.1f} ms "
          f"p99 {stats.get('p99', 0):.1f} ms", flush=True)
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
