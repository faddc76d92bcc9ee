"""API tokens: 256 random bits with a recognisable prefix; only the SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "andon_"
ROLES = ("viewer", "operator", "admin")


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_at_least(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def csrf_for(token: str) -> str:
    """The CSRF token of a browser session: derived from the session's API token, so it needs
    no server-side state, survives a restart and dies with the token; a cross-site page cannot
    compute it (the session cookie is HttpOnly)."""
    return hmac.new(token.encode(), b"andon-csrf", hashlib.sha256).hexdigest()[:40]


def safe_next(target: str) -> str:
    """Where to go after signing in: only a path on this server (no scheme, host or ``//``), so
    a link cannot send a fresh session to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
