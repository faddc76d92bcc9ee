"""What a definition may declare: names that are identifiers, lengths of time within sane bounds,
partition keys within the supported years, and locations inside the project's roots.

Pure functions over strings (no I/O): each returns the problem as a sentence ending in the fix,
or None, so the loader can list every problem at once with its file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

# asset, pipeline, pool and check names: they become folder names, URL path segments and parts
# of event ids, so no '/', no '=', no leading '.', nothing empty and nothing endless
NAME_CHARS = "[A-Za-z_][A-Za-z0-9_.-]*"
NAME_RE = re.compile(NAME_CHARS)
MAX_NAME = 128

# lengths of time a definition may declare (a deadline may be negative: before the partition's end)
MAX_DEADLINE = timedelta(days=366)
MAX_DURATION = timedelta(days=7)  # expected_duration, retry_delay
MAX_TIMEOUT = timedelta(days=30)
MAX_ARRIVAL = timedelta(days=366)  # expected_arrival, measured from the partition's end
LIMITS = {"deadline": MAX_DEADLINE, "expected_duration": MAX_DURATION,
          "retry_delay": MAX_DURATION, "timeout": MAX_TIMEOUT, "expected_arrival": MAX_ARRIVAL}
MAX_WINDOW = 366 * 24  # partitions in andon.window(asset, n): a year of hours

# the partitions that exist: every key's window, plus a year of deadlines or windows after it,
# stays inside what datetime can hold
FIRST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(9998, 12, 31, 23, tzinfo=UTC)


def name_problem(kind: str, name: object) -> str | None:
    """Why ``name`` cannot name a ``kind`` (asset, pipeline, pool, check), or None."""
    if not isinstance(name, str):
        return f"{kind} name {name!r} is not a string; name it with letters, digits and _ . -"
    shown = repr(name) if len(name) <= 60 else repr(name[:40]) + f"... ({len(name)} characters)"
    if len(name) > MAX_NAME:
        return (f"{kind} name {shown} is longer than {MAX_NAME} characters; "
                "give it a shorter name")
    if not NAME_RE.fullmatch(name):
        return (f"{kind} name {shown} is not an identifier; names start with a letter or _ and "
                f"hold only letters, digits, _ . and - (at most {MAX_NAME} characters), "
                f"e.g. {_suggest(name)!r}")
    return None


def _suggest(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.-")[:MAX_NAME] or "my_name"
    return cleaned if NAME_RE.fullmatch(cleaned) else f"_{cleaned}"[:MAX_NAME]


def duration_problem(field: str, delta: timedelta) -> str | None:
    """Why ``field`` cannot last ``delta``, or None (fields without a limit always pass)."""
    limit = LIMITS.get(field)
    if limit is None or abs(delta) <= limit:
        return None
    return f"{field} is longer than the most andon accepts ({_days(limit)}); give a shorter one"


def _days(delta: timedelta) -> str:
    return f"{delta.days} days"


def moment_problem(moment: datetime) -> str | None:
    """Why a partition cannot begin at ``moment``, or None."""
    if FIRST_MOMENT <= moment <= LAST_MOMENT:
        return None
    return (f"{moment.date().isoformat()} is outside the supported partitions "
            f"({FIRST_MOMENT.date().isoformat()} to {LAST_MOMENT.date().isoformat()})")


def inside(path: str, roots: Sequence[str]) -> bool:
    """Whether absolute ``path``, normalised lexically (``..`` folded, no symlinks followed), is
    one of ``roots`` (absolute, normalised) or under one."""
    norm = os.path.normpath(path)
    return any(norm == root or norm.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def location_problem(field: str, template: str, asset: str, example_key: str, project_dir: str,
                     roots: Sequence[str]) -> str | None:
    """Why a location template cannot be ``field`` (``location``, ``watch``, ``locations``) of
    ``asset``, or None: it must format with ``{asset}`` and ``{partition}`` only and land inside
    the project folder or one of ``roots`` (the project's ``data_roots``)."""
    if not isinstance(template, str) or not template.strip():
        return f"{field}={template!r} is not a path; write e.g. 'data/{asset}/{{partition}}.csv'"
    try:
        path = template.format(asset=asset, partition=example_key)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        return (f"{field}={template!r} cannot be filled in ({type(exc).__name__}: {exc}); only "
                "{asset} and {partition} may appear in braces")
    if "\0" in path:
        return f"{field}={template!r} holds a NUL character; remove it"
    full = os.path.join(project_dir, path)
    if os.path.normpath(full) in (project_dir, *roots):  # deleting "it" would delete them all
        return (f"{field}={template!r} is the folder {os.path.normpath(full)} itself; name a "
                "file or folder inside it, e.g. 'data/{asset}/{partition}'")
    if inside(full, [project_dir, *roots]):
        return None
    declared = f" and its [project] data_roots ({', '.join(roots)})" if roots else ""
    return (f"{field}={template!r} resolves to {os.path.normpath(full)}, outside the project "
            f"folder{declared}; write a path inside the project, or add its folder to "
            "[project] data_roots in andon.toml")
