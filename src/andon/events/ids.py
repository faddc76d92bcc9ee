"""Event ids: a fresh one for a happening, and the namespace of ids a client chooses."""

from __future__ import annotations

import re
import uuid


def new_id() -> str:
    """A fresh id for a happening nothing else names (a uuid, 32 hex digits)."""
    return uuid.uuid4().hex


# Ids a client chooses (``andon notify --id``, ``POST /api/v1/notify`` ``id``) live in their own
# namespace: stored with this prefix, which no id andon derives (``queued:``, ``ended:``,
# ``notify:``, a uuid...) begins with, so a client can never take the id of an event the engine
# will record and make it be dropped as a duplicate.
CLIENT_ID_PREFIX = "client:"
MAX_CLIENT_ID = 200
CLIENT_ID_CHARS = "A-Z a-z 0-9 . _ : -"
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN.strip("^$"))


def client_event_id(chosen: str) -> str:
    """The stored id of an event whose id a client chose: ``client:`` + ``chosen``. Raises
    ValueError (the reason, for the caller to report) unless ``chosen`` is 1 to
    ``MAX_CLIENT_ID`` characters of ``CLIENT_ID_CHARS``."""
    if not chosen:
        raise ValueError("is empty")
    if len(chosen) > MAX_CLIENT_ID:
        raise ValueError(f"is {len(chosen)} characters long, more than {MAX_CLIENT_ID}")
    if not _CLIENT_ID.fullmatch(chosen):
        bad = next(c for c in chosen if not _CLIENT_ID.fullmatch(c))
        raise ValueError(f"holds {bad!r}, not one of {CLIENT_ID_CHARS}")
    return CLIENT_ID_PREFIX + chosen
