"""Text as the words it is made of: what the catalog's search indexes and looks for."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")


def words(text: str) -> str:
    """``text`` as the words it is made of, so that ``daily_orders`` is found by ``orders``
    and ``ml@example.com`` by ``example`` (the SQLite index, PostgreSQL's documents and both
    backends' queries split text alike)."""
    return " ".join(_WORD.findall(text.replace("_", " ")))
