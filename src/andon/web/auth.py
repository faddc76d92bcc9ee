"""Signing in with API tokens (made in ``andon.tokens``): roles, sessions, CSRF."""

from __future__ import annotations

import hashlib
import hmac

from andon.tokens import ROLES


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
