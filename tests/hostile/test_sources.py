"""Hostile sources: a notified or watched source that is a FIFO, a socket, a device or a symlink
leading out of the project's roots is refused with the reason and never opened (opening a FIFO
would wait for a writer forever), and nothing is recorded. Regular files, folders of them and
symlinks that stay inside the roots keep working.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from andon.events import OutputSuspect
from andon.executors.outputs import fingerprint, real_roots
from andon.live.clock import RealClock
from andon.live.watcher import start_watcher
from andon.model.errors import UnsafePath
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line
from tests.conftest import ProjectFactory, utc
from tests.executors.helpers import GUARD
from tests.web.conftest import make_token, running

ANDON = str(Path(sys.executable).with_name("andon"))
KEY = "2026-01-05"
PIPELINES = """
import andon
andon.source("raw", location="data/raw/{partition}")
andon.source("landed", watch="landing/{partition}.csv")
andon.pipeline("clean", command="true", inputs=["raw"], outputs=["clean"])
"""


@pytest.fixture
def line(make_project: ProjectFactory) -> Iterator[Line]:
    root = make_project(PIPELINES)
    (root / "data/raw").mkdir(parents=True)
    line = open_line(load_project(root), resolve(root, {"executor": "inprocess"}, {}, {}),
                     RealClock())
    yield line
    line.close()


def within(seconds: float, work: Callable[[], Any]) -> Any:
    """``work()``'s result or exception, failing the test if it blocks (as opening a FIFO
    would) instead of hanging it."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # handed back to the test
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "it blocked: the file was opened"
    return out[0]


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_socket(path: Path) -> None:
    # a socket's path is limited to ~107 bytes: bind by a short relative name
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path.name)
        sock.close()  # the socket file stays
    finally:
        os.chdir(here)


def link_out(path: Path) -> None:
    project = next(p for p in path.parents if (p / "andon.toml").exists())
    secret = project.parent / "secret.txt"  # beside the project folder, not inside it
    secret.write_text("not andon's\n")
    path.symlink_to(secret)


def link_to_device(path: Path) -> None:
    path.symlink_to("/dev/null")


HOSTILE = {"fifo": (make_fifo, "is a FIFO (named pipe), not a regular file"),
           "socket": (make_socket, "is a socket, not a regular file"),
           "symlink out": (link_out, "outside the project's roots"),
           "device": (link_to_device, "leads to /dev/null, outside the project's roots")}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_notify_refuses_a_hostile_source_without_opening_it(line: Line, kind: str) -> None:
    make, reason = HOSTILE[kind]
    make(line.project.root / f"data/raw/{KEY}")
    error = within(GUARD, lambda: line.service.notify("raw", KEY, line.clock.now()))
    assert isinstance(error, UnsafePath), error
    assert reason in error.message
    assert error.http_status == 422 and error.exit_code == 2
    assert "regular file" in error.hint


def test_a_device_inside_a_declared_root_is_still_refused(tmp_path: Path) -> None:
    roots = real_roots(tmp_path, ("/dev",))
    error = within(GUARD, lambda: fingerprint(Path("/dev/zero"), roots))  # endless if read
    assert isinstance(error, UnsafePath) and "is a character device" in error.message


@pytest.mark.parametrize("kind", ["fifo", "socket", "symlink out"])
def test_a_folder_source_with_a_hostile_entry_is_refused(line: Line, kind: str) -> None:
    folder = line.project.root / f"data/raw/{KEY}"
    (folder / "sub").mkdir(parents=True)
    (folder / "part-0.csv").write_text("a\n")
    HOSTILE[kind][0](folder / "sub" / "part-1.csv")
    error = within(GUARD, lambda: line.service.notify("raw", KEY, line.clock.now()))
    assert isinstance(error, UnsafePath) and str(folder / "sub" / "part-1.csv") in error.message


def test_regular_files_folders_and_symlinks_inside_the_roots_are_read(line: Line) -> None:
    root = line.project.root
    (root / "elsewhere").mkdir()
    (root / "elsewhere/orders.csv").write_text("o1\no2\n")
    (root / f"data/raw/{KEY}").symlink_to(root / "elsewhere/orders.csv")
    event = line.service.notify("raw", KEY, line.clock.now())
    assert (event.size_bytes, event.fingerprint) == (6, hashlib.sha256(b"o1\no2\n").hexdigest())
    folder = root / "data/raw/2026-01-06"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n")
    (folder / "b.csv").symlink_to(root / "elsewhere/orders.csv")
    assert line.service.notify("raw", "2026-01-06", line.clock.now()).size_bytes == 8


def test_a_symlink_into_a_declared_data_root_is_read(make_project: ProjectFactory,
                                                     tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "orders.csv").write_text("x\n")
    root = make_project(PIPELINES)
    toml = root / "andon.toml"
    toml.write_text(toml.read_text().replace("[pools]", f'data_roots = ["{lake}"]\n\n[pools]'))
    (root / "data/raw").mkdir(parents=True)
    (root / f"data/raw/{KEY}").symlink_to(lake / "orders.csv")
    project = load_project(root)
    assert fingerprint(root / f"data/raw/{KEY}", real_roots(root, project.graph.data_roots))[0] \
        == 2


def test_the_api_answers_422_and_records_nothing(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "data/raw").mkdir(parents=True)
    os.mkfifo(root / f"data/raw/{KEY}")
    with running(root) as line, httpx.Client(base_url=line.url, timeout=GUARD) as client:
        auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
        res = client.post("/api/v1/notify", json={"asset": "raw", "partition": KEY},
                          headers=auth)
        assert res.status_code == 422, res.text
        body = res.json()
        assert body["error"] == "UnsafePath"
        assert "is a FIFO (named pipe)" in body["message"] and body["hint"]
        assert client.get("/api/v1/health").status_code == 200
        assert line.store.count_events("partition.available") == 0
        assert line.store.partitions("raw") == []


def test_the_command_exits_2_and_records_nothing(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "data/raw").mkdir(parents=True)
    os.mkfifo(root / f"data/raw/{KEY}")
    proc = subprocess.run([ANDON, "--project", str(root), "notify", "raw", KEY],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("Error: ") and "is a FIFO (named pipe)" in proc.stderr
    assert "Traceback" not in proc.stderr
    project = load_project(root)
    settings = resolve(root, {"executor": "inprocess"}, {}, {})
    line = open_line(project, settings, RealClock())
    try:
        assert line.store.count_events("partition.available") == 0
    finally:
        line.close()


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.seen = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.seen:
            self.messages.append(record.getMessage())
            self.seen.notify_all()


def test_the_watcher_logs_and_skips_hostile_files(line: Line) -> None:
    root = line.project.root
    landing = root / "landing"
    landing.mkdir()
    os.mkfifo(landing / "2026-01-04.csv")  # there before the start: found by the first scan
    handler = Warnings()
    logging.getLogger("andon.live.watcher").addHandler(handler)
    announced: list[tuple[str, str]] = []
    done = threading.Event()

    def announce(asset: str, partition: str) -> None:
        event = line.service.notify(asset, partition, line.clock.now(), "file")
        announced.append((asset, partition))
        line.runner.submit(event).result(GUARD)
        done.set()

    try:
        thread = start_watcher(line.project.graph, root, announce, line.stop_event)
        assert thread is not None
        with handler.seen:
            assert handler.seen.wait_for(lambda: handler.messages, GUARD)
        link_out(root / ".part")  # moved into place while watching
        os.replace(root / ".part", landing / "2026-01-05.csv")
        with handler.seen:
            assert handler.seen.wait_for(lambda: len(handler.messages) == 2, GUARD)
        (landing / "2026-01-06.csv").write_text("fine\n")  # the watcher goes on
        assert done.wait(GUARD)
    finally:
        logging.getLogger("andon.live.watcher").removeHandler(handler)
    assert "2026-01-04.csv for landed not announced" in handler.messages[0]
    assert "is a FIFO (named pipe)" in handler.messages[0]
    assert "outside the project's roots" in handler.messages[1]
    assert announced == [("landed", "2026-01-06")]
    assert [p["partition"] for p in line.store.partitions("landed")] == ["2026-01-06"]


def test_the_quarantine_never_leaves_its_folder(tmp_path: Path) -> None:
    from andon.cord.files import quarantine_path

    suspect = OutputSuspect(id="s", at=utc(2026, 1, 6), cord_id="c", asset="../../etc",
                            partition=KEY, version=1, pipeline="p", location="data/x",
                            fingerprint="", action="quarantine")
    with pytest.raises(UnsafePath, match="would leave"):
        quarantine_path(tmp_path / "quarantine", suspect)


def test_a_run_whose_output_a_symlink_leads_out_fails_before_it_starts(
        make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project("""\
        import andon
        andon.source("raw", location="landing/{partition}.csv")

        @andon.pipeline(inputs=["raw"], outputs=["clean"])
        def clean(ctx):
            ctx.output("clean").write_text("escaped\\n")
        """)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "data").symlink_to(outside)  # data/clean/... would land outside the project
    (root / "landing").mkdir()
    (root / f"landing/{KEY}.csv").write_text("a\n")
    line = open_line(load_project(root), resolve(root, {"executor": "inprocess"}, {}, {}),
                     RealClock())
    try:
        line.runner.submit(line.service.notify("raw", KEY, line.clock.now())).result(GUARD)
        assert line.runner.drain()
        (run,) = line.service.runs("clean")
        assert run["status"] == "failed"
        assert run["error_type"] == "UnsafePath"
        assert "leads outside the project's roots" in run["error_message"]
    finally:
        line.close()
    assert list(outside.iterdir()) == []  # nothing was written there
