"""Text as the words it is made of: what the catalog's search indexes and looks for."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+")


def words(text: str) -> str:
    """``text`` as the words it is made of, so that ``daily_orders`` is found by ``orders``
    and ``ml@example.com`` by ``example`` (the SQLite index, PostgreSQL's documents and both
    backends' queries split text alike)."""
    return " ".join(_WORD.findall(text.replace("_", " ")))


def did_you_mean(name: str, known: Iterable[str], most: int = 1, cutoff: float = 0.6) -> str:
    """"did you mean 'x'? " (or "'x' or 'y'", up to ``most`` names) for the ``known`` names
    closest to ``name``, or "" when none is close: the one way andon suggests a name."""
    close = difflib.get_close_matches(name[:200], list(known), most, cutoff)
    return f"did you mean {' or '.join(map(repr, close))}? " if close else ""
