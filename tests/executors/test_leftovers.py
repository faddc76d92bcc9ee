"""``tree.end_leftovers`` in a run's own process (a subreaper): the look for children that spares
a run which started nothing the walk of ``/proc``, and still ends a daemon the run left behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.executors.helpers import alive, read_pid

SCRIPT = textwrap.dedent('''
    import os, subprocess, sys, time
    from andon.executors import tree
    out = sys.argv[1]
    assert tree.become_subreaper()
    assert not tree.has_children()
    subprocess.run(["true"], check=True)  # started, ended and reaped: none left
    assert not tree.has_children()
    # a daemon: its parent exits at once, so it is handed to this process, the subreaper
    subprocess.run(["sh", "-c", f"(setsid sh -c 'echo $$ > {out}/daemon.pid; exec sleep 1000' &)"],
                   check=True)
    while not os.path.exists(f"{out}/daemon.pid") or not open(f"{out}/daemon.pid").read():
        time.sleep(0.01)
    assert tree.has_children()
    tree.end_leftovers(grace=5, reaper=True)
    assert not tree.has_children()
    print("ok")
''')


def test_a_subreaper_without_children_has_nothing_to_end_and_a_left_daemon_is_ended(
        tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert not alive(read_pid(tmp_path / "daemon.pid"))
