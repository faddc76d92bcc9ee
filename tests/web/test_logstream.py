"""A run's log streamed while it runs: a real `andon up` with the local executor (a real process
per run) and a pipeline that writes a line each time the test feeds it one through a FIFO, so
the test decides when the run writes and when it ends, and never waits for the clock."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from andon.events import RunLaunched
from andon.serve.up import Line
from andon.web import logstream
from andon.web.routes import PERMISSIONS
from tests.web.conftest import make_token, running
from tests.web.test_live import messages

GUARD = 60.0  # seconds: only a failure guard, never a measure of speed

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    print("ready", flush=True)
    with open(ctx.project_dir / "feed.fifo") as feed:  # the test writes when it wants
        for line in feed:
            if line.startswith("big"):
                print("é" * 40000, flush=True)  # 80 KB of two-byte characters at once
            elif line.startswith("fail"):
                raise ValueError("told to fail")
            else:
                ctx.log.info("got %s", line.rstrip())
    print("done", flush=True)
    ctx.output("clean").write_text("ok\\n")
"""
STREAM = "/api/v1/runs/{run_id}/log/stream"


class Run:
    """A run of ``clean`` in its own process, executing until ``finish``; ``say`` makes it
    write a line."""

    def __init__(self, line: Line) -> None:
        self.line = line
        launched = threading.Event()
        found: list[str] = []

        def listen(events) -> None:  # type: ignore[no-untyped-def]
            for event in events:
                if isinstance(event, RunLaunched):
                    found.append(event.run_id)
                    launched.set()

        line.runner.subscribe(listen)
        root = line.project.root
        (root / "data/raw").mkdir(parents=True)
        (root / "data/raw/2026-01-05.csv").write_text("a\n1\n")
        line.runner.submit(line.service.notify("raw", "2026-01-05", line.clock.now())).result(10)
        assert launched.wait(GUARD), "the run was not launched"
        assert line.runner.drain(GUARD)
        self.run_id = found[0]
        self.path = STREAM.format(run_id=quote(self.run_id, safe=""))
        self._feed = None

    def say(self, text: str) -> None:
        if self._feed is None:  # blocks until the run opens its end of the FIFO
            self._feed = open(self.line.project.root / "feed.fifo", "w")  # noqa: SIM115
        self._feed.write(text + "\n")
        self._feed.flush()

    def finish(self) -> None:
        """Let the run end (once; later calls do nothing)."""
        if self._feed is None:
            self.say("")
        assert self._feed is not None
        self._feed.close()

    @property
    def status(self) -> str:
        return str(self.line.service.run(self.run_id)["status"])

    def log_bytes(self) -> bytes:
        return Path(self.line.service.run(self.run_id)["log_path"]).read_bytes()


@pytest.fixture
def served(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINES)
    os.mkfifo(root / "feed.fifo")
    with running(root, executor="local") as line:
        yield line


def chunks_until(stream: Iterator[dict[str, str]], text: str) -> list[dict[str, str]]:
    """Messages of the log stream up to the one whose text completes ``text``."""
    got, seen = [], ""
    for msg in stream:
        if msg["event"] == "message":
            got.append(msg)
            seen += json.loads(msg["data"])["text"]
            if text in seen:
                return got
    raise AssertionError(f"the stream ended before {text!r} came: {seen!r}")


def text_of(msgs: list[dict[str, str]]) -> str:
    return "".join(json.loads(m["data"])["text"] for m in msgs if m["event"] == "message")


def test_the_log_comes_while_the_run_executes_and_a_reconnect_gets_the_rest(served: Line) -> None:
    run = Run(served)
    with httpx.Client(base_url=served.url, timeout=GUARD) as client:
        with client.stream("GET", run.path) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            stream = messages(r.iter_lines())
            hello = next(stream)
            assert hello["event"] == "heartbeat" and "retry" in hello
            first = chunks_until(stream, "ready\n")
            run.say("one")
            got = chunks_until(stream, "got one\n")
            assert run.status == "running", "the line came while the run was executing"
            # the board's health strip counts the slot the run holds, from the scheduler
            workers = client.get("/api/v1/health").json()["workers"]
            assert workers["busy"] == 1 and workers["total"] == 4
            assert workers["executor"]["alive"] is True
            assert workers["executor"]["mode"] in ("fork", "spawn")
            page = client.get("/").text
            assert "workers <b>1/4</b> busy" in page
        seen = first + got
        offset = int(seen[-1]["id"])
        assert run.log_bytes()[:offset].decode() == text_of(seen), "id = the byte offset after it"

        run.say("two <b id=x>")  # written while nobody listens
        with client.stream("GET", run.path, headers={"Last-Event-ID": str(offset)}) as r:
            stream = messages(r.iter_lines())
            assert next(stream)["event"] == "heartbeat"
            rest = chunks_until(stream, "got two <b id=x>\n")
            assert text_of(rest).endswith(" INFO got two <b id=x>\n")
            assert "got one" not in text_of(rest), "a reconnect gets only what it missed"
            run.say("big")
            run.finish()
            tail = list(stream)
        assert [m["event"] for m in tail][-1] == "end", "the stream ends when the run has ended"
        end = json.loads(tail[-1]["data"])
        assert end["status"] == "succeeded" and run.status == "succeeded"
        log = run.log_bytes()
        assert end["offset"] == len(log)
        assert (text_of(seen) + text_of(rest) + text_of(tail)).encode() == log

        # after the end: the whole log, in pieces of at most MAX_CHUNK bytes that never split
        # a character, then "end" at once
        with client.stream("GET", run.path) as r:
            everything = list(messages(r.iter_lines()))
        pieces = [m for m in everything if m["event"] == "message"]
        assert len(pieces) >= 5
        assert all(len(json.loads(m["data"])["text"].encode()) <= logstream.MAX_CHUNK
                   for m in pieces)
        assert text_of(pieces).encode() == log and "\ufffd" not in text_of(pieces)
        assert everything[-1]["event"] == "end"
        # resuming by the offset in the query (what the run page sends) gets only the rest
        r = client.get(run.path, params={"offset": offset})
        assert text_of(list(messages(iter(r.text.split("\n"))))).encode() == log[offset:]


def test_reading_a_log_stream_needs_the_role_the_permission_table_says(served: Line) -> None:
    run = Run(served)
    run.finish()
    assert served.runner.quiet(GUARD)
    needed = PERMISSIONS[("GET", "/api/v1/runs/{run_id}/log/stream")]
    assert needed == PERMISSIONS[("GET", "/api/v1/runs/{run_id}/log")], "the same as the log"
    with httpx.Client(base_url=served.url, timeout=GUARD) as client:
        viewer = {"Authorization": f"Bearer {make_token(served, 'viewer')}"}
        r = client.get(run.path, headers=viewer)
        assert r.status_code == 200 and "ready" in r.text and "event: end" in r.text
        r = client.get(run.path)
        assert r.status_code == (200 if needed is None else 401)
        r = client.get(STREAM.format(run_id="nope"))
        assert r.status_code == 404 and r.json()["error"]
        for bad in ("-1", "x", str(2**60)):
            r = client.get(run.path, headers={"Last-Event-ID": bad})
            assert r.status_code == 422 and r.json()["field"] == "offset", bad


def test_a_queued_run_streams_from_its_launch(make_project) -> None:  # type: ignore[no-untyped-def]
    """A stream opened before the run has a log waits for the launch (told by the event hub)."""
    root = make_project(PIPELINES, pools={"default": 1})
    os.mkfifo(root / "feed.fifo")
    with running(root, executor="local") as line, \
            httpx.Client(base_url=line.url, timeout=GUARD) as client:
        first = Run(line)  # holds the only slot
        (root / "data/raw/2026-01-06.csv").write_text("a\n2\n")
        line.runner.submit(line.service.notify("raw", "2026-01-06", line.clock.now())).result(10)
        assert line.runner.drain(GUARD)
        queued = line.service.runs("clean", "queued")
        assert len(queued) == 1
        path = STREAM.format(run_id=quote(queued[0]["run_id"], safe=""))
        with client.stream("GET", path) as r:
            stream = messages(r.iter_lines())
            assert next(stream)["event"] == "heartbeat"
            first.finish()  # the slot frees: the queued run starts and writes
            chunks_until(stream, "ready\n")
            second = open(root / "feed.fifo", "w")  # noqa: SIM115
            second.close()
            tail = list(stream)
        assert tail[-1]["event"] == "end"
        assert json.loads(tail[-1]["data"])["status"] == "succeeded"


def test_the_health_strip_shows_the_workers(client: httpx.Client) -> None:
    health = client.get("/api/v1/health").json()
    assert health["workers"] == {"busy": 0, "total": 4, "executor": {
        "name": "inprocess", "mode": "in-process", "alive": True, "runs": 0}}
    page = client.get("/runs").text
    assert "workers <b>0/4</b> busy" in page and "executor in-process" in page


def test_an_open_log_stream_ends_when_the_server_stops(served: Line) -> None:
    run = Run(served)
    try:
        with httpx.Client(base_url=served.url, timeout=GUARD) as client, \
                client.stream("GET", run.path) as r:
            stream = messages(r.iter_lines())
            chunks_until(stream, "ready\n")
            served.stop_event.set()
            assert [m["event"] for m in stream] == [], "no end: the run has not ended"
    finally:
        run.finish()  # its process goes on without a scheduler: let it end


def test_one_inotify_descriptor_wakes_the_streams_of_a_file_and_is_closed_after_them(
        tmp_path: Path) -> None:
    import asyncio

    log = tmp_path / "run" / "log.txt"
    log.parent.mkdir()

    async def scenario() -> None:
        files = logstream.FileWatch()
        woken = {name: asyncio.Event() for name in ("a", "b", "other")}
        stops = [files.watch(log, woken["a"].set), files.watch(log, woken["b"].set),
                 files.watch(log.with_name("result.json"), woken["other"].set)]
        assert files._inotify is not None and len(files._folders) == 1, "one watch per folder"
        log.write_text("hello\n")  # created and written: both streams of the file wake
        await asyncio.wait_for(asyncio.gather(woken["a"].wait(), woken["b"].wait()), GUARD)
        assert not woken["other"].is_set(), "another file of the folder wakes no one"
        for stop in stops:
            stop()
        assert files._inotify is None and not files._folders, "closed after the last stream"
        stops[0]()  # stopping twice does no harm

    asyncio.run(scenario())


def test_a_follower_goes_on_when_the_capped_log_is_cut_behind_it(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINES)
    os.mkfifo(root / "feed.fifo")
    with running(root, {"ANDON_MAX_LOG_BYTES": "4096"}, executor="local") as line:
        run = Run(line)
        guard = threading.Timer(GUARD, run.finish)  # a follower that hangs fails, not blocks
        guard.start()
        try:
            with httpx.Client(base_url=line.url, timeout=GUARD) as client, \
                    client.stream("GET", run.path) as r:
                stream = messages(r.iter_lines())
                chunks_until(stream, "ready\n")
                # each big write cuts the file back to the same size (head, marker, tail); a
                # long line read after one cut puts the follower past the file's end after the
                # next cut, which a short line then does not reach again
                for word in ("L" * 600, "s", "M" * 600, "t"):
                    run.say("big")
                    run.say(word)
                    chunks_until(stream, f"got {word}\n")
                log = run.log_bytes()
                assert len(log) <= 4096 and b"bytes left out" in log
                assert log.endswith(b"got t\n")
        finally:
            guard.cancel()
            run.finish()
