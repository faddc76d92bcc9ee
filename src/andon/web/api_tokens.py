"""The API's tokens (admin only): listing, making and revoking them. The store is read and
written on worker threads."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.model.tokens import PREFIX
from andon.model.views import to_json
from andon.web.context import HTTPError, json_fields, web_of


async def list_tokens(request: Request) -> Response:
    return JSONResponse(to_json(await run_in_threadpool(web_of(request).svc.tokens)))


async def create_token(request: Request) -> Response:
    body = await json_fields(request, {"role": str, "name?": str})
    ctx = web_of(request).ctx
    made = await run_in_threadpool(ctx.service.token_create, body["role"],
                                   body.get("name", ""), ctx.now())
    # the only answer that holds a token: shown once, kept by no cache
    return JSONResponse(made.to_json(), status_code=201, headers={"Cache-Control": "no-store"})


async def revoke_token(request: Request) -> Response:
    ident = request.path_params["token_id"]
    if ident.startswith(PREFIX):
        raise HTTPError(422, "the path names a token by its id, not by the token itself",
                        where="token_id", hint="find its id with GET /api/v1/tokens; a token "
                        "sent in a URL may be in logs now: revoke it by its id")
    ctx = web_of(request).ctx
    return JSONResponse(to_json(await run_in_threadpool(ctx.service.token_revoke, ident,
                                                        ctx.now())))
