"""Members of a team on one PostgreSQL store: real ``andon up`` processes (tests, bench)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ANDON = str(Path(sys.executable).with_name("andon"))
PIPELINES = """
import andon

andon.source("raw", partitions="daily")

@andon.pipeline(inputs=["raw"], outputs=["clean"], partitions="daily", retries=2)
def clean(ctx):
    ctx.output("clean").write_text(ctx.partition + "\\n")
"""


class Member:
    """One ``andon up`` of a team: its URL once it serves, its role as it started ("leader" or
    "standby"), its token (the state folder's), what it said on stderr."""

    def __init__(self, root: Path, database_url: str, state_dir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.root, self.state_dir = root, state_dir
        self.url = ""
        self.started_as = ""
        self.lines: list[str] = []
        self._said = threading.Condition()
        full = {**os.environ, "ANDON_DATABASE_URL": database_url,
                "ANDON_STATE_DIR": str(state_dir), "ANDON_PORT": "0",
                "ANDON_EXECUTOR": "inprocess", "ANDON_LOG_FORMAT": "text", **(env or {})}
        self.proc = subprocess.Popen([ANDON, "up"], cwd=root, env=full, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._said:
                self.lines.append(line.rstrip())
                for role, prefix in (("leader", "andon is up: "), ("standby", "andon stands by: ")):
                    if line.startswith(prefix):
                        self.url = line[len(prefix):].split()[0]
                        self.started_as = self.started_as or role
                self._said.notify_all()

    def wait_serving(self, timeout: float = 60.0) -> Member:
        with self._said:
            if not self._said.wait_for(lambda: bool(self.url) or self.proc.poll() is not None,
                                       timeout):
                raise AssertionError(f"andon up did not serve: {self.lines[-20:]}")
        assert self.url, f"andon up exited: {self.lines[-20:]}"
        # answering: its server runs (and has its signal handlers: SIGTERM is a clean stop)
        assert until(lambda: bool(self.status()), timeout), f"no answer: {self.lines[-20:]}"
        return self

    def said(self, text: str) -> bool:
        with self._said:
            return any(text in line for line in self.lines)

    @property
    def token(self) -> str:
        return (self.state_dir / "token").read_text().strip()

    def status(self) -> dict[str, Any]:
        """``/api/v1/status``; {} while the server does not answer (a take-over reopens it)."""
        try:
            return dict(httpx.get(self.url + "/api/v1/status", timeout=10).json())
        except httpx.HTTPError:
            return {}

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def pair(root: Path, database_url: str, state_dirs: tuple[Path, Path],
         env: dict[str, str] | None = None) -> tuple[Member, Member]:
    """Two members started at once (their start-ups, seconds of imports and store opening each,
    overlap; the store's migrations and the lead are safe to race for): (leader, standby) by the
    role each started in. Each is in the pair whatever it said, so a caller's check of
    ``started_as`` still fails if both lead or both stand by."""
    members = [Member(root, database_url, state_dir, env) for state_dir in state_dirs]
    try:
        for member in members:
            member.wait_serving()
    except BaseException:
        for member in members:
            member.stop()
        raise
    first, second = sorted(members, key=lambda m: m.started_as != "leader")
    return first, second


def notify(urls: list[str], token: str, partition: str, deadline: float = 60.0) -> str:
    """POST a notification of raw ``partition`` to the first of ``urls`` that takes it, retrying
    on connection errors and 503 (a take-over) until ``deadline`` seconds; the URL that took it."""
    end = time.monotonic() + deadline
    while True:
        for url in urls:
            try:
                answer = httpx.post(url + "/api/v1/notify", timeout=10,
                                    headers={"Authorization": f"Bearer {token}"},
                                    json={"asset": "raw", "partition": partition})
            except httpx.HTTPError:
                continue
            if answer.status_code < 300:
                return url
            if answer.status_code != 503:
                raise AssertionError(f"{url} refused the notify: {answer.status_code} "
                                     f"{answer.text}")
        if time.monotonic() > end:
            raise AssertionError(f"no server took the notification of {partition}")
        time.sleep(0.02)


def until(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
