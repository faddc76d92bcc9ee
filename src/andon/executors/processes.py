"""Finding a run's process (after a restart, guarding against pid reuse); ending its tree is
``andon.executors.tree``."""

from __future__ import annotations

import os
from pathlib import Path

from andon.executors.tree import read_proc

CHILD_MODULE = "andon.executors.child"
SERVER_MODULE = "andon.executors.forkserver"


def spec_path(run_dir: str) -> Path:
    return Path(run_dir) / "spec.json"


def _holds(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has the file at ``path`` open."""
    want = os.stat(path)
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            return True
    return False


def is_run_process(pid: int, run_dir: str) -> bool:
    """Guard against pid reuse: the process must be the run's own. A spawned one names its spec
    on its command line; one forked by a fork server leads its own session and holds its spec
    open (the very file: a spec written again for a new start is another one)."""
    spec = spec_path(run_dir)
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if CHILD_MODULE.encode() in args:
            return str(spec).encode() in args
        proc = read_proc(pid)
        return (SERVER_MODULE.encode() in args and proc is not None and proc.sid == pid
                and _holds(pid, spec))
    except (OSError, ValueError, IndexError):
        return False


def find_run_process(run_dir: str) -> int:
    """Scan /proc once for the run's process (used at recovery only, when no pid was recorded
    because the scheduler died between starting the process and writing the pid down)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if name.isdigit() and is_run_process(int(name), run_dir):
            return int(name)
    return 0


def pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):  # gone already, or a kernel without pidfd
        return -1


def pidfd_works() -> bool:
    fd = pidfd(os.getpid())
    if fd < 0:
        return False
    os.close(fd)
    return True
