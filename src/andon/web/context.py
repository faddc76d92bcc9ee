"""What every handler of the web layer works with: the context the server is given
(``WebContext``), what the app adds to it (``Web``, on ``request.app.state.web``), and the HTTP
error and request-body conventions of the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.events import Event
from andon.live.service import Service
from andon.model.errors import AndonError, NotFound
from andon.project.waste import AuditSettings
from andon.registry.declared import CONTROL
from andon.web.limits import Limits, parse_json, read_body

if TYPE_CHECKING:
    from jinja2 import Environment

    from andon.web.live import EventHub
    from andon.web.logstream import FileWatch

Handler = Callable[[Request], Awaitable[Response]]
MAX_OFFSET = 2**53  # larger offsets (paging, log bytes) are refused: they fit no database integer


def _always() -> bool:
    return True


@dataclass
class WebContext:
    """What the web layer needs: the service, a way to submit events (to the running scheduler)
    and answer whether they were new, a clock, a token lookup, whether the scheduler loop is
    alive, and a way to hear of committed events (``Runner.subscribe``) for live updates."""

    service: Service
    submit: Callable[[Sequence[Event]], Awaitable[list[bool]]]
    now: Callable[[], datetime]
    token_role: Callable[[str], str | None]
    project: str = ""
    alive: Callable[[], bool] = _always
    subscribe: Callable[[Callable[[Sequence[Event]], None]], None] | None = None
    token_name: Callable[[str], str] | None = None  # who did it, in events ("api" without)
    limits: Limits = Limits()  # what one request may be (the server's settings)
    audit: AuditSettings = AuditSettings()  # [audit] of andon.toml (andon.project.waste)
    # a team on PostgreSQL: this process's role and the lease (andon.serve.up.team_view)
    team: Callable[[], dict[str, Any]] | None = None


@dataclass(frozen=True)
class Web:
    """One app's shared parts: its context, the live-event hub, the log files' watcher, the
    pages' template environment, the static files (name -> body, media type, ETag) and the
    OpenAPI document."""

    ctx: WebContext
    hub: EventHub
    log_files: FileWatch
    templates: Environment
    static: dict[str, tuple[bytes, str, str]]
    openapi: dict[str, Any]

    @property
    def svc(self) -> Service:
        return self.ctx.service


def web_of(request: Request) -> Web:
    """The shared parts of the app serving ``request``."""
    return cast(Web, request.app.state.web)


def path_name(request: Request, key: str, most: int, missing: str, listing: str) -> str:
    """The path's ``key``; 404 at once ("``missing`` '...'...", hint ``listing``) for a value
    nothing can be named: longer than ``most`` characters, or holding control characters."""
    value: str = request.path_params[key]
    if len(value) > most or CONTROL.search(value):
        raise NotFound(f"{missing} {CONTROL.sub('?', value[:40])!r}...", hint=listing)
    return value


class HTTPError(AndonError):
    def __init__(self, status: int, message: str, hint: str = "", where: str = "") -> None:
        super().__init__(message, hint=hint, where=where)
        self.http_status = status


def error_response(exc: AndonError) -> JSONResponse:
    """An error as the API answers it: its status, and ``field`` naming what a 422 refused."""
    body = exc.to_dict()
    if exc.http_status == 422 and exc.where:
        body["field"] = exc.where
    return JSONResponse(body, status_code=exc.http_status)


async def json_fields(request: Request, fields: dict[str, type],
                      strict: bool = False) -> dict[str, Any]:
    """Parse a JSON object body within the server's limits (413 past the size cap, 422 past the
    depth or a string's length); 422 naming the field for anything missing or mistyped (and,
    ``strict``, for a field not in ``fields``). ``name?``: an optional field."""
    limits = web_of(request).ctx.limits
    data = parse_json(await read_body(request, limits), limits)
    if not isinstance(data, dict):
        raise HTTPError(422, "the body must be a JSON object", hint="send a JSON object")
    known = {name.rstrip("?") for name in fields}
    unknown = sorted(str(k) for k in data if k not in known)
    if strict and unknown:
        raise HTTPError(422, f"field {unknown[0][:100]!r} is not one this route takes",
                        where=unknown[0][:100], hint="it takes " + ", ".join(sorted(known)))
    out = {}
    for name, typ in fields.items():
        optional = name.endswith("?")
        key = name.rstrip("?")
        if key not in data or data[key] is None:
            if optional:
                continue
            raise HTTPError(422, f"field {key!r} is required", where=key,
                            hint=f"send {key!r} as a {typ.__name__}")
        if not isinstance(data[key], typ) or (typ is not bool and isinstance(data[key], bool)):
            raise HTTPError(422, f"field {key!r} must be a {typ.__name__}", where=key,
                            hint=f"send {key!r} as a {typ.__name__}")
        out[key] = data[key]
    return out
