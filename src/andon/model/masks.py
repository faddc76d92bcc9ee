"""A message with its variable parts masked: what stays the same when the same problem happens
again with other numbers, dates, ids, paths or values. Pure; the store records each problem's
masked message once, as it is appended (``andon.store.manual``), and the manual's signatures
are built from it (``andon.manual.signature``)."""

from __future__ import annotations

import re

# what a run's failure records of its exception's message (longer text is cut)
MAX_ERROR_MESSAGE = 2000

# The variable parts of a message, most specific first: a URL holds a path, a path may hold a
# date, a quoted value anything. Each becomes its placeholder.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), placeholder) for pattern, placeholder in (
        (r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+", "<url>"),
        (r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", "<email>"),
        (r"'[^'\n]*'|\"[^\"\n]*\"", "<value>"),
        (r"\b[A-Za-z]:\\[^\s'\"]*|\\\\[^\s'\"]+", "<path>"),
        (r"(?:~|\.{1,2})?(?:/[\w.@%+=:,-]+)+/?", "<path>"),
        (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
         "<uuid>"),
        (r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
         r"(?:Z|[+-]\d{2}:?\d{2})?)?\b", "<date>"),
        (r"\b\d{4}-W\d{2}\b|\b\d{4}-\d{2}\b", "<date>"),
        (r"\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b", "<time>"),
        (r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{16,}\b"  # a long run of digits is a hash too
         r"|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b", "<hex>"),
        (r"\b[A-Za-z_]*\d[A-Za-z0-9_]*[-_][A-Za-z0-9_-]*\d[A-Za-z0-9_-]*\b", "<id>"),
        (r"[-+]?\b\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?", "<n>"),
    ))


def mask(message: str) -> str:
    """``message`` with its variable parts (URLs, e-mail addresses, quoted values, paths, UUIDs,
    dates and times and partition keys, hex ids and hashes, ids with digits, numbers) replaced by
    placeholders, and its whitespace collapsed; at most ``MAX_ERROR_MESSAGE`` characters read and
    returned."""
    text = message[:MAX_ERROR_MESSAGE]
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())[:MAX_ERROR_MESSAGE]  # placeholders may be longer
