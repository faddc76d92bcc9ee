"""Parse human durations such as ``"90s"``, ``"20m"``, ``"6h"``, ``"1h30m"`` or ``"2d"``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
# spelled-out units people write by habit ("6 hours"), to suggest the short form
_WORDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(milliseconds?|millis|seconds?|secs?|minutes?|mins?|"
                    r"hours?|hrs?|days?|[smhd])\s*$", re.IGNORECASE)
FORMS = "'90s', '20m', '6h', '1h30m' or '2d'"


class DurationFormatError(ValueError):
    """The text is not a duration; the message shows the accepted forms."""


def parse_duration(text: str | int | float) -> timedelta:
    """Return the duration ``text`` denotes; numbers are seconds.

    Raises DurationFormatError naming the text and the accepted forms.
    """
    if isinstance(text, bool):
        raise DurationFormatError(f"{text!r} is not a duration; write e.g. {FORMS}")
    if isinstance(text, (int, float)):
        if text < 0:
            raise DurationFormatError(f"{text!r} is negative; durations are zero or more")
        return _seconds(text, text)
    stripped = str(text).strip().replace(" ", "")
    sign = 1
    if stripped.startswith("-"):
        sign, stripped = -1, stripped[1:]
    pos, total = 0, 0.0
    for match in _PART.finditer(stripped):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not stripped or pos != len(stripped):
        raise DurationFormatError(f"{text!r} is not a duration; {_suggest(str(text))}write e.g. {FORMS}")
    return _seconds(text, sign * total)


def _seconds(text: object, seconds: float) -> timedelta:
    """The timedelta of ``seconds``; DurationFormatError for an endless or not-a-number one."""
    try:
        return timedelta(seconds=float(seconds))
    except (OverflowError, ValueError):
        raise DurationFormatError(f"{text!r} is too long (or not a number) to be a duration; "
                                  f"write e.g. {FORMS}") from None


def _suggest(text: str) -> str:
    """``"did you mean '6h'? "`` for ``"6 hours"``; empty when there is no obvious reading."""
    match = _WORDS.match(text)
    if not match:
        return ""
    word = match.group(2).lower()
    if word in ("ms", "millis") or word.startswith("milli"):
        unit = "ms"
    else:
        unit = {"se": "s", "mi": "m", "ho": "h", "hr": "h", "da": "d"}.get(word[:2], word)
    return f"did you mean '{match.group(1)}{unit}'? "


def format_duration(delta: timedelta | float, spaced: bool = False) -> str:
    """Render a duration compactly (``"1h05m"``, ``"4m05s"``, ``"42s"``, ``"4.2s"``,
    ``"350ms"``). ``spaced``: the pages' form, a space before a unit under a minute (``"42 s"``,
    ``"350 ms"``) and whole seconds cut rather than rounded, as a stopwatch shows them."""
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    unit = " " if spaced else ""
    if seconds < 1:
        return f"{sign}{seconds * 1000:.0f}{unit}ms"
    if seconds < 60:
        return f"{sign}{seconds:.1f}{unit}s" if seconds < 10 else f"{sign}{seconds:.0f}{unit}s"
    minutes, secs = divmod(int(seconds) if spaced else int(round(seconds)), 60)
    if minutes < 60:
        return f"{sign}{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m"
