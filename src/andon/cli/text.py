"""What the commands print, as text, without click: tables, JSON and ``andon status``'s page.

The one rendering of each, shared by the click commands (``andon.cli.group``, which echoes it)
and by the fast door (``andon.cli.fast``, which writes it itself), so both print the same bytes.
Standard library only (``json``): the fast door imports this before anything heavy.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # typing itself is not imported: it costs the fast door a millisecond
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO, Any

ANSI = "\033"  # an escape sequence starts so (click strips them from output that is no terminal)


def table_lines(header: tuple[str, ...], rows: Sequence[Sequence[str]],
                notes: Sequence[str | None] = ()) -> list[str]:
    """Columns as wide as their widest cell, two spaces apart, no trailing blanks; ``notes[i]``
    (when given and not empty) on its own indented line under row ``i``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for i, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i < len(notes) and notes[i]:
            lines.append(f"  {notes[i]}")
    return lines


def json_text(data: Any, terminal: bool) -> str:
    """``data`` as JSON: indented for a person at a terminal, on one line for a program reading
    a pipe (the C encoder: ten times faster on a year of the manual)."""
    if terminal:
        return json.dumps(data, indent=2, default=str)
    return json.dumps(data, separators=(",", ":"), default=str)


def status_lines(data: Any) -> tuple[list[str], int]:
    """``andon status``'s page of a status answer (``GET /api/v1/status``) and its exit code:
    1 when a run failed, else 0. A malformed answer raises KeyError, TypeError or ValueError."""
    rows = [(p["name"], p["state"], str(p["partitions"]["succeeded"]),
             str(p["partitions"]["running"]), str(p["partitions"]["queued"]),
             str(p["partitions"]["failed"])) for p in data["pipelines"]]
    lines = table_lines(("PIPELINE", "STATE", "OK", "RUNNING", "QUEUED", "FAILED"), rows)
    lines.append("")
    lines += table_lines(("SOURCE", "PARTITIONS", "LATEST"),
                         [(s["name"], str(s["partitions"]), s["latest"] or "-")
                          for s in data["sources"]])
    for h in data.get("halted", []):
        why = "; ".join(f"cord {c['cord_id']} on {c['asset']} {c['partition']}: {c['reason']}"
                        for c in h["cords"])
        lines.append(f"halted: {h['pipeline']} {h['partition']} by {why}")
    failed = [f for p in data["pipelines"] for f in p["failures"]]
    lines += [f"failed: {f['run_id']}: {f['error_type']}: {f['error_message']}" for f in failed]
    return lines, 1 if failed else 0


def write(stream: IO[str], text: str) -> None:
    """``text`` and a newline on ``stream``, flushed, as ``click.echo`` writes it (escape
    sequences stripped when the stream is no terminal), so both doors print the same bytes."""
    if ANSI in text and not terminal(stream):
        import re

        text = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", text)  # click's own pattern
    stream.write(text + "\n")
    stream.flush()


def terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (a closed one is not)."""
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def quiet_broken_pipe() -> int:
    """After a BrokenPipeError on stdout (``andon ... | head``): point stdout at /dev/null so
    the exit's flush does not fail again; the exit code of a command killed by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE
