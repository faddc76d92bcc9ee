"""A run's whole process tree, and ending it.

A run's process makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``), so that a
descendant whose parent dies (a double-forked daemon, ``setsid sleep 1000 &`` from a shell that
then exits) is re-parented to it rather than to init: while the run's process lives, every process
the run started is found by following parent pids down from it, even one that left the run's
session and process group. Ending a tree therefore walks ``/proc`` for:

- the descendants of the root (ppid chains),
- the members of every session and process group seen in the tree (the root leads its own
  session; ``setsid()`` in a descendant creates a session the walk then follows),
- every process seen before (pid and start time, so a reused pid is not taken for it), which
  catches one that was orphaned to init when the root died first.

The tree is frozen (SIGSTOP) and walked again until nothing new appears before SIGKILL, so a
process cannot fork a child between the walk and the kill. What this cannot catch: a descendant
that calls ``setsid()`` *and* is re-parented to init before any walk saw it (its parent, and the
root, died in between). A cgroup would close that gap; where andon runs (no writable
``/sys/fs/cgroup`` for an unprivileged user) it is not available. See docs/decisions.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
LEFTOVER_GRACE = 2.0  # seconds between SIGTERM and SIGKILL for what a finished run left running


@functools.cache
def libc() -> ctypes.CDLL:
    """The C library, loaded once (the fork server loads it before forking its runs)."""
    return ctypes.CDLL(None, use_errno=True)


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux 3.4+); False where the
    call is not available."""
    try:
        return bool(libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class Proc:
    pid: int
    state: str
    ppid: int
    pgrp: int
    sid: int
    start: int  # clock ticks since boot: tells a process from a later one with its pid

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def read_proc(pid: int | str) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return Proc(int(pid), fields[0], int(fields[1]), int(fields[2]), int(fields[3]),
                    int(fields[19]))
    except (IndexError, ValueError):
        return None


def snapshot() -> dict[int, Proc]:
    """Every process visible in /proc."""
    procs = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit():
                proc = read_proc(name)
                if proc is not None:
                    procs[proc.pid] = proc
    return procs


@dataclass
class Tree:
    """The processes of one run's tree as far as seen so far (``include_root``: whether the root
    itself belongs to what is ended, False when a run ends its own leftovers)."""

    root: int
    include_root: bool = True
    seen: dict[int, int] = field(default_factory=dict)  # pid -> start time
    groups: set[int] = field(default_factory=set)  # session and process group ids of the tree

    def __post_init__(self) -> None:
        self.groups.add(self.root)

    def members(self) -> list[Proc]:
        """The live processes of the tree now, remembering them (and their sessions and groups)
        for the next walk."""
        procs = snapshot()
        mine = {os.getpid()}
        me = procs.get(os.getpid())
        foreign = {me.sid, me.pgrp} if me is not None else set()  # never our own session
        proc: Proc | None
        children: dict[int, list[int]] = {}
        for proc in procs.values():
            children.setdefault(proc.ppid, []).append(proc.pid)
        found: dict[int, Proc] = {}
        todo = [self.root]
        todo += [p.pid for p in procs.values()
                 if (p.sid in self.groups and p.sid not in foreign)
                 or (p.pgrp in self.groups and p.pgrp not in foreign)]
        todo += [pid for pid, start in self.seen.items()
                 if pid in procs and procs[pid].start == start]
        while todo:
            pid = todo.pop()
            proc = procs.get(pid)
            if proc is None or pid in found or (pid in mine and pid != self.root):
                continue
            found[pid] = proc
            todo.extend(children.get(pid, ()))
        out = []
        for proc in found.values():
            if (proc.pid == self.root and not self.include_root) or proc.pid in mine:
                continue  # never this process itself
            self.seen[proc.pid] = proc.start
            self.groups.update(g for g in (proc.sid, proc.pgrp) if g not in foreign)
            if proc.alive:
                out.append(proc)
        return out


def _signal(procs: list[Proc], sig: int) -> None:
    for proc in procs:
        current = read_proc(proc.pid)
        if current is not None and current.start == proc.start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, sig)


def end_tree(tree: Tree, grace: float) -> None:
    """SIGTERM every process of the tree, SIGKILL what is left after ``grace`` s (frozen first,
    so that nothing forks past the walk). The short sleeps happen only while a kill is under
    way."""
    # the root first: a run's process told to stop before what it started, so that it cannot
    # see its work end (a shell whose job was killed) and record a result meanwhile
    members = sorted(tree.members(), key=lambda p: p.pid != tree.root)
    _signal(members, signal.SIGTERM)
    deadline = time.monotonic() + grace
    signalled = {p.pid for p in members}
    while members and time.monotonic() < deadline:
        time.sleep(0.02)
        members = tree.members()
        _signal([p for p in members if p.pid not in signalled], signal.SIGTERM)
        signalled.update(p.pid for p in members)
    deadline = time.monotonic() + 5.0
    while members and time.monotonic() < deadline:
        stopped: set[int] = set()
        while True:  # freeze until a walk finds nothing new
            fresh = [p for p in members if p.pid not in stopped]
            if not fresh:
                break
            _signal(fresh, signal.SIGSTOP)
            stopped.update(p.pid for p in fresh)
            members = tree.members()
        _signal(members, signal.SIGKILL)
        time.sleep(0.02)
        members = tree.members()


def kill_tree(root: int, grace: float) -> None:
    """End run process ``root`` and everything it started (timeout, cancel)."""
    end_tree(Tree(root), grace)


def end_leftovers(grace: float = LEFTOVER_GRACE, reaper: bool = False) -> None:
    """Called by a run's own process when its work is done: end every process the run started
    that is still running (a daemon it forked, a background job of its shell), and reap them.
    A run's tree ends with the run. ``reaper``: this process is the subreaper of its
    descendants (``become_subreaper``), so one that has no child has no descendant left at all
    (every orphan of its tree was handed to it): nothing to walk ``/proc`` for."""
    if reaper and not has_children():
        return
    end_tree(Tree(os.getpid(), include_root=False), grace)
    reap_children()


def has_children() -> bool:
    """Whether this process has a child, running or ended and not reaped yet (one system call;
    nothing is reaped)."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WSTOPPED | os.WCONTINUED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def reap_children() -> None:
    """Collect the exit statuses of this process's ended children (orphans re-parented to a
    subreaper stay zombies until it does)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
