"""The API's drift of a profiled data set (``GET /api/v1/drift/{asset}``): the heat map's data,
``{"asset", "reference", "partitions", "columns", "cells": [{"partition", "column", "psi",
"js", "p", "band"}], "errors"}``, or with ``?partition=`` one partition's report
(``andon.live.drift``). Computed from the stored profiles in a worker thread."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.model.limits import MAX_NAME
from andon.model.views import Json
from andon.registry.declared import CONTROL
from andon.web.context import HTTPError, path_name, web_of

MAX_KEY = 64  # a partition key or a --since date: longer is no key andon makes


def key_param(request: Request, name: str) -> str | None:
    """Query parameter ``name`` as a partition key; 422 naming it when it cannot be one."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_KEY or CONTROL.search(value):
        raise HTTPError(422, f"{name} is not a partition key (at most {MAX_KEY} characters, "
                             "no control characters)", where=name, hint="e.g. 2026-01-05")
    return value


async def get_drift(request: Request) -> Response:
    """The heat map's data from ``?since=`` (default: the newest partitions), or one
    partition's report with ``?partition=``; 404 for a data set not profiled or a partition
    without a profile."""
    asset = path_name(request, "asset", MAX_NAME, "no profiled data set named",
                      "declare andon.profile(ASSET) to profile one")
    partition, since = key_param(request, "partition"), key_param(request, "since")
    drift = web_of(request).ctx.service.drift

    def read() -> Json:
        if partition is not None:
            return drift.report(asset, partition).to_json()
        return drift.heat(asset, since)

    return JSONResponse(await run_in_threadpool(read))
