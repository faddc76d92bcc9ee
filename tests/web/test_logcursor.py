"""A follower of a capped log (``LogCursor``) sends only what the log held, and has sent all of it
whenever nothing is left to wake it, however the writer's steps fall between its reads.

No process, clock or thread: a real ``CappedLog`` plans its file operations (truncate, append,
record the cut) as steps, and the test runs them one at a time on a real file, between the
follower's look-ups and inside them (before and after its read of the log). A step that writes
the log itself wakes the follower, as inotify does; replacing the cut record does not."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from andon.executors.logcap import CappedLog, Cut, write_cut
from andon.live.service import Service
from andon.web.logstream import LogCursor

CAP = 4096  # head 2048, tail 1024


def script() -> list[bytes]:
    """What the run writes: lines short and long, and writes that each cut the log (some
    several times), so the file is cut back to the same size again and again."""
    writes = [b"ready\n"]
    for n, word in enumerate([b"L" * 600, b"s", b"M" * 600, b"t", b"u" * 30, b"N" * 900]):
        writes += [bytes([65 + n % 26]) * 5000 + b"\n", b"got " + word + b"\n"]
        writes += [b"big " + bytes([97 + n]) * 80_000 + b"\n" + b"got " + word + b" again\n"]
    return writes + [b"done\n"]


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


class PlannedLog(CappedLog):
    """A CappedLog whose file operations are planned as steps (wakes: whether the step writes
    the log itself) instead of being done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.steps: list[tuple[bool, Callable[[], None]]] = []
        self.ends: set[int] = set()  # step counts at which a write is complete
        super().__init__(-1, CAP, [], on_cut=self._record)

    def write(self, data: bytes, final: bool = False) -> None:
        super().write(data, final)
        self.ends.add(len(self.steps))

    def _record(self, *cut: object) -> None:
        self.steps.append((False, partial(write_cut, self.path, *cut)))

    def _truncate(self, size: int) -> None:
        self.steps.append((True, partial(os.truncate, self.path, size)))

    def _append(self, data: bytes) -> None:
        self.steps.append((True, partial(_append, self.path, bytes(data))))


class World:
    """The log, its writer's steps, and one follower with what a client made of its messages."""

    def __init__(self, tmp_path: Path, rng: random.Random | None) -> None:
        self.log = tmp_path / "log.txt"
        self.log.touch()
        planned = PlannedLog(self.log)
        for data in script():
            planned.write(data)
        self.steps, self.ends, self.done = planned.steps, planned.ends, 0
        self.cuts = 0  # truncations so far: the log's generation
        self.states: list[tuple[int, bytes]] = [(0, b"")]  # every content the log had
        self.rng = rng
        self.woken = True
        self.cursor = LogCursor(self.log, 0, self._read)
        self.seen = bytearray()  # the log as the client rebuilds it (a cut drops what follows)
        self.gens = set(range(len(self.steps) + 1))  # generations the chunks since a cut fit

    def step(self) -> None:
        wakes, do = self.steps[self.done]
        do()
        self.done += 1
        self.cuts += isinstance(do, partial) and do.func is os.truncate
        self.states.append((self.cuts, self.log.read_bytes()))
        self.woken |= wakes

    def _some_steps(self) -> None:
        for _ in range(self.rng.choice((0, 0, 1, 2, 3)) if self.rng else 0):
            if self.done < len(self.steps):
                self.step()

    def _read(self, path: Path | None, offset: int, limit: int, whole: bool) -> bytes:
        self._some_steps()  # after the follower looked at the cut record, before it reads
        data = Service.log_chunk(path, offset, limit, whole)
        self._some_steps()  # after it read, before it looks at the cut record again
        return data

    def follow(self) -> None:
        self.woken = False  # as the stream clears its wake-up before it reads
        for message in self.cursor.news(self.log, False):
            self.take(message)

    def take(self, message: bytes) -> None:
        head, data = message.decode().split("\n")[:2]
        body = json.loads(data.removeprefix("data: "))
        if head == "event: cut":  # the log was cut behind the follower: on from the marker
            del self.seen[body["offset"]:]
            self.gens = set(range(min(self.gens) + 1, len(self.steps) + 1))  # newer ones
            return
        text = body["text"].encode()
        assert int(head.removeprefix("id: ")) == len(self.seen) + len(text), "id: the offset"
        self.seen += text
        if len(self.seen) > CAP // 2:  # past the head, which no cut changes
            fits = {g for g, content in self.states if content.startswith(self.seen)}
            assert self.gens & fits, f"a chunk the log never held after what was sent: {text[:60]!r}"
            self.gens &= fits

    def check_caught_up(self) -> None:
        """Between two writes, a follower that nothing will wake has sent the whole log."""
        if self.done in self.ends and not self.woken:
            assert bytes(self.seen) == self.log.read_bytes(), (
                f"the follower waits at {self.cursor.offset} of {self.log.stat().st_size} bytes "
                f"and nothing will wake it (after step {self.done})")


def test_a_follower_woken_by_each_write_of_the_log_sends_it_whole(tmp_path: Path) -> None:
    """The follower reads as soon as the log is written (truncated or appended to), before the
    writer goes on: what the CI machine did to the end-to-end test under load."""
    world = World(tmp_path, None)
    while world.done < len(world.steps):
        world.step()
        while world.woken:
            world.follow()
        world.check_caught_up()
    assert bytes(world.seen) == world.log.read_bytes()
    assert world.cuts >= 10 and len(world.seen) <= CAP


@pytest.mark.parametrize("seed", range(200))
def test_a_follower_sends_only_what_the_log_held_whatever_the_interleaving(
        tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    world = World(tmp_path, rng)
    while world.done < len(world.steps):
        if world.woken and rng.random() < 0.5:
            world.follow()
        else:
            world.step()
        world.check_caught_up()
    while world.woken:
        world.follow()
    assert bytes(world.seen) == world.log.read_bytes()


def test_a_cut_left_under_way_waits_while_the_run_executes_and_is_taken_as_made_once_it_ended(
        tmp_path: Path) -> None:
    """The run's process was killed in the middle of a cut: the file is as it stays."""
    log = tmp_path / "log.txt"
    log.write_bytes(b"h" * 2048 + b"\n... [andon: 9 bytes left out] ...\n" + b"t" * 100)
    write_cut(log, Cut(2048, 3, settled=False))
    cursor = LogCursor(log, 2500, Service.log_chunk)
    assert list(cursor.news(log, ended=False)) == [], "nothing while a cut is under way"
    messages = list(cursor.news(log, ended=True))
    assert messages[0] == b'event: cut\ndata: {"offset":2048}\n\n'
    assert cursor.offset == log.stat().st_size and len(messages) == 2
