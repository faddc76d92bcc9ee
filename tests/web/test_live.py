"""Live updates: server-sent events over a real server, and the hub's slow-client rule."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from andon.events import PartitionAvailable
from andon.serve.up import Line
from andon.store.sql import Store
from andon.web import live
from andon.web.live import EventHub
from tests.web.conftest import make_token


def messages(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Server-sent-event messages as dicts of their fields (``event`` defaults to message)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if fields:
                yield {"event": "message", **fields}
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def _until(stream: Iterator[dict[str, str]], event_type: str) -> dict[str, str]:
    for msg in stream:
        if msg["event"] == "message" and json.loads(msg["data"])["type"] == event_type:
            return msg
    raise AssertionError(f"the stream ended before a {event_type} event")


def test_an_event_reaches_an_open_stream_and_a_reconnect_resumes(client: httpx.Client,
                                                                  line: Line) -> None:
    auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
    with client.stream("GET", "/api/v1/events/stream") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = messages(r.iter_lines())
        first = next(stream)  # the stream says hello before any event: it is subscribed
        assert first["event"] == "heartbeat" and first["retry"] == str(live.RETRY_MS)
        sent = time.perf_counter()
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-05"},
                           headers=auth).status_code == 201
        msg = _until(stream, "partition.available")
        latency = time.perf_counter() - sent
        data = json.loads(msg["data"])
        assert (data["asset"], data["partition"]) == ("raw", "2026-01-05")
        seen = int(msg["id"])
    assert latency < 1.0, f"the event took {latency:.3f} s to reach the stream"
    assert dict(line.store.events())[seen].name == "partition.available", "id is the seq"

    # while no one listens, more happens
    assert client.post("/api/v1/runs", json={"pipeline": "clean", "partition": "2026-01-05"},
                       headers=auth).status_code == 202
    assert line.runner.drain()
    missed = [s for s, _ in line.store.events(seen)]
    assert missed, "the run request was recorded after the stream closed"
    with client.stream("GET", "/api/v1/events/stream",
                       headers={"Last-Event-ID": str(seen)}) as r:
        stream = messages(r.iter_lines())
        assert next(stream)["event"] == "heartbeat"
        ids = [int(next(stream)["id"]) for _ in missed]
    assert ids == missed, "the reconnect gets exactly what it missed, in log order"


def test_a_bad_last_event_id_is_a_422_naming_it(client: httpx.Client) -> None:
    r = client.get("/api/v1/events/stream", headers={"Last-Event-ID": "yesterday"})
    assert r.status_code == 422 and r.json()["field"] == "Last-Event-ID"


def test_a_client_that_falls_behind_is_dropped_and_resumes_from_the_log(tmp_path: Path,
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 3)
    store = Store(f"sqlite:///{tmp_path / 'andon.db'}")
    at = datetime(2026, 1, 6, tzinfo=UTC)
    events = [PartitionAvailable(id=f"e{i}", at=at, asset="raw", partition=f"2026-01-0{i}")
              for i in range(1, 9)]

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        hub = EventHub(store, lambda: at)
        stream = hub.stream(None)
        hello = [await anext(stream)]
        store.append(events)  # 8 events for a client that reads none of them: its queue fills
        hub.on_events(events)
        for _ in range(50):
            await asyncio.sleep(0.01)
            if hub.last_seq == 8:
                break
        rest = [chunk async for chunk in stream]  # dropped: the stream ends
        again = hub.stream(3)
        resumed = [await anext(again) for _ in range(6)]
        await again.aclose()
        return hello + rest, resumed

    try:
        first, resumed = asyncio.run(scenario())
    finally:
        store.close()
    assert len(first) < 1 + len(events), "a slow client is cut off instead of buffering forever"
    ids = [line.split(b": ")[1] for chunk in resumed[1:] for line in chunk.split(b"\n")
           if line.startswith(b"id: ")]
    assert ids == [b"4", b"5", b"6", b"7", b"8"], "Last-Event-ID 3 resumes at 4, from the log"


def test_an_open_stream_does_not_hold_the_server_up(client: httpx.Client, line: Line) -> None:
    with client.stream("GET", "/api/v1/events/stream") as r:
        stream = messages(r.iter_lines())
        assert next(stream)["event"] == "heartbeat"
        started = time.monotonic()
        line.stop_event.set()
        assert list(stream) == [], "the stream ends when the server stops"
    assert time.monotonic() - started < 3
