"""API tokens: 256 random bits with a recognisable prefix; only the SHA-256 is stored.

A token is named (listed, revoked) by its id: the first 12 hex digits of that SHA-256. The id
tells tokens apart and says nothing that helps to guess one, so it may be shown and put in URLs;
the token itself never is.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "andon_"
ROLES = ("viewer", "operator", "admin")
ID_LENGTH = 12


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(sha256: str) -> str:
    """The id of the token with this SHA-256."""
    return sha256[:ID_LENGTH]


def is_token_id(text: str) -> bool:
    return len(text) == ID_LENGTH and all(c in "0123456789abcdef" for c in text)
