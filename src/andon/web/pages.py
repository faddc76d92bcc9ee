"""The board's HTML pages, rendered on the server with Jinja2 (autoescaping every value).

Each handler gathers what its page shows from the shared Service (through ``andon.web.board``)
and renders one template. The pages carry no inline script or style (the Content-Security-Policy
forbids them); ``static/board.js`` follows the event stream and swaps the ``data-live`` parts of
the page when something happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from andon.events import parse_time
from andon.model.durations import format_duration
from andon.model.errors import NotFound
from andon.model.status import ACTIVE_STATUSES, RunStatus
from andon.model.timefmt import format_minute
from andon.web import board, charts, lineage
from andon.web.auth import safe_next

if TYPE_CHECKING:
    from andon.web.app import WebContext

HERE = Path(__file__).parent
PAGE_SIZE = 50
LOG_TAIL = 65536  # bytes of a run's log on its page; the rest through the API or `andon logs`
RUN_STATUSES = tuple(s.value for s in RunStatus)
CORD_FILTERS = ("all", "open")  # the cord list's ?status=; the first is the default
Handler = Callable[[Request], Awaitable[Response]]


def _time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment (datetime or stored text) in UTC; '-' for none."""
    if not value:
        return "-"
    moment = parse_time(value) if isinstance(value, str) else value
    return format_minute(moment, fmt)


def _seconds(value: Any) -> str:
    """A duration in words a person reads at a glance: 850 ms, 12 s, 4m05s, 2h10m."""
    return "-" if value is None else format_duration(float(value), spaced=True)


def _size(value: Any) -> str:
    n = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html", "svg"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(t=_time, dur=_seconds, size=_size)
    return env


class Pages:
    """The page handlers over one WebContext."""

    def __init__(self, ctx: WebContext, env: Environment) -> None:
        self.ctx = ctx
        self.svc = ctx.service
        self.env = env

    def routes(self) -> dict[tuple[str, str], Handler]:
        """The pages by (method, path). Each is built in a worker thread: a page takes tens of
        milliseconds on a large project, and the event loop must keep pushing the event streams
        (and answering the API) meanwhile."""
        pages: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/"): self.board, ("GET", "/runs"): self.runs,
            ("GET", "/runs/{run_id}"): self.run, ("GET", "/assets/{name}"): self.asset,
            ("GET", "/cords"): self.cords, ("GET", "/cords/{cord_id}"): self.cord,
            ("GET", "/pools"): self.pools, ("GET", "/deliveries"): self.deliveries,
            ("GET", "/search"): self.search, ("GET", "/login"): self.login_form}
        return {route: _in_thread(page) for route, page in pages.items()}

    # -- shared ------------------------------------------------------------------------------------

    def health(self, counts: dict[str, int] | None = None, open_cords: int | None = None
               ) -> dict[str, Any]:
        """The health strip: scheduler, database, queue depth, running runs, executor slots
        busy of total and whether the executor is alive, open cords."""
        svc = self.svc
        counts = svc.store.run_counts() if counts is None else counts
        return {"scheduler": self.ctx.alive(), "database": svc.store.ping(),
                "queued": counts.get(RunStatus.QUEUED, 0), "running": counts.get(RunStatus.RUNNING, 0),
                "workers": svc.workers(),
                "cords": len(svc.cords()) if open_cords is None else open_cords,
                "now": self.ctx.now()}

    def render(self, request: Request, template: str, status_code: int = 200,
               **values: Any) -> HTMLResponse:
        session = getattr(request.state, "session", None)
        values.setdefault("health", None)
        if values["health"] is None:
            values["health"] = self.health()
        text = self.env.get_template(template).render(
            project=self.ctx.project, session=session, path=request.url.path,
            query=request.url.query, **values)
        return HTMLResponse(text, status_code=status_code)

    def error(self, request: Request, status: int, message: str, hint: str = "") -> HTMLResponse:
        return self.render(request, "error.html", status, title="Error", message=message,
                           hint=hint)

    # -- pages -------------------------------------------------------------------------------------

    def board(self, request: Request) -> Response:
        svc, now = self.svc, self.ctx.now()
        status = svc.status()
        plan = svc.plan(now, detail=False)
        checks = board.check_states(svc)
        by_cord: dict[str, list[dict[str, str]]] = {}
        for h in status["halted"]:
            for c in h["cords"]:
                by_cord.setdefault(c["cord_id"], []).append(
                    {"pipeline": h["pipeline"], "partition": h["partition"]})
        cords = [{**c, "halts": by_cord.get(c["cord_id"], [])} for c in status["cords"]]
        lines = board.lines(status, plan, now)
        totals = {colour: sum(1 for line in lines if line["colour"] == colour)
                  for colour in ("green", "amber", "red")}
        outputs = {name: list(pipe.outputs) for name, pipe in svc.graph.pipelines.items()}
        return self.render(request, "board.html", title="Board", lines=lines, cords=cords,
                           outputs=outputs,
                           attention=board.attention(status, plan, checks, now),
                           sources=status["sources"], totals=totals,
                           health=self.health(status["runs"], len(status["cords"])))

    def runs(self, request: Request) -> Response:
        q = request.query_params
        pipeline, status, partition = q.get("pipeline", ""), q.get("status", ""), q.get("partition", "")
        page = _page(request)
        rows = self.svc.runs(pipeline or None, status or None, partition or None,
                             PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        filters = {k: v for k, v in (("pipeline", pipeline), ("status", status),
                                     ("partition", partition)) if v}
        return self.render(request, "runs.html", title="Runs", runs=rows[:PAGE_SIZE],
                           page=page, more=len(rows) > PAGE_SIZE, filters=filters,
                           pipelines=list(self.svc.graph.order), statuses=RUN_STATUSES)

    def run(self, request: Request) -> Response:
        run = self.svc.run(request.path_params["run_id"])
        attempts = self.svc.runs(run["pipeline"], None, run["partition"], 20, 0)
        history = [{"step": "queued", "at": run["queued_at"], "note": run["reason"]}]
        if run["started_at"]:
            history.append({"step": "started", "at": run["started_at"],
                            "note": f"pool {run['pool']}, {run['slots']} slot(s)"})
        if run["ended_at"]:
            note = f"{run['error_type']}: {run['error_message']}".strip(": ")
            history.append({"step": run["status"], "at": run["ended_at"], "note": note})
        # the page shows the log's tail; a running run's page follows the rest from log_end
        log, log_end, log_cut = self.svc.log_tail(run["run_id"], LOG_TAIL)
        return self.render(request, "run.html", title=f"Run {run['run_id']}", run=run,
                           history=history, attempts=attempts, log=log, log_cut=log_cut,
                           log_end=log_end, following=run["status"] in ACTIVE_STATUSES)

    def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        graph = self.svc.graph
        if name not in graph.assets:
            raise NotFound(f"no data set named {name!r}", hint="search for it in the box above")
        now = self.ctx.now()
        view = board.asset_view(self.svc, name, now)
        status = self.svc.status()
        colours = {line["name"]: line["colour"]
                   for line in board.lines(status, self.svc.plan(now, detail=False), now)}
        states = {"p:" + p: c for p, c in colours.items()}
        layout = lineage.layout(graph, name, states)
        charts_ = [{**s, "chart": charts.series_chart(s["points"])} for s in view["check_series"]]
        return self.render(request, "asset.html", title=name, a=view, lineage=layout,
                           node_w=lineage.NODE_WIDTH, node_h=lineage.NODE_HEIGHT,
                           check_charts=charts_,
                           health=self.health(status["runs"], len(status["cords"])))

    def cords(self, request: Request) -> Response:
        status = request.query_params.get("status", "")
        if status not in CORD_FILTERS:
            status = CORD_FILTERS[0]
        page = _page(request)
        rows = board.cord_list(self.svc, status == "all", PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        filters = {"status": status} if status != CORD_FILTERS[0] else {}
        return self.render(request, "cords.html", title="Cords", cords=rows[:PAGE_SIZE],
                           page=page, more=len(rows) > PAGE_SIZE, filters=filters,
                           status=status, statuses=CORD_FILTERS)

    def cord(self, request: Request) -> Response:
        cord_id = request.path_params["cord_id"]
        try:
            view = board.cord_view(self.svc, cord_id)
        except NotFound as exc:  # the Service's hint is for the command line
            raise NotFound(exc.message, hint="every cord is listed at /cords (ids look like "
                           "ASSET:PARTITION:N)") from None
        return self.render(request, "cord.html", title=f"Cord {cord_id}", c=view)

    def pools(self, request: Request) -> Response:
        now = self.ctx.now()
        pools = board.pools_view(self.svc, now)
        for p in pools:
            p["use_chart"] = charts.step_chart(p["use"], p["since"], now, p["capacity"])
            p["queue_chart"] = charts.step_chart(p["queue"], p["since"], now)
        return self.render(request, "pools.html", title="Pools", pools=pools)

    def deliveries(self, request: Request) -> Response:
        now = self.ctx.now()
        plan = self.svc.plan(now)
        view = board.deliveries(self.svc, plan, now)
        chart = charts.gantt(view["items"], view["day"], view["end"], now)
        return self.render(request, "deliveries.html", title="Today's deliveries", view=view,
                           chart=chart, plan=plan, now=now,
                           yesterday=view["day"] - timedelta(days=1))

    def search(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        found = board.search(self.svc, q)
        return self.render(request, "search.html", title="Search", q=q, found=found)

    def login_form(self, request: Request) -> Response:
        return self.render(request, "login.html", title="Sign in",
                           next=safe_next(request.query_params.get("next", "/")),
                           failed=request.query_params.get("failed", ""))


def _page(request: Request) -> int:
    """The page number in ``?page=``: 1 for none or nonsense, and never an offset past a
    database integer."""
    try:
        return min(max(int(request.query_params.get("page", 1)), 1), 10**9)
    except ValueError:
        return 1


def _in_thread(page: Callable[[Request], Response]) -> Handler:
    async def handler(request: Request) -> Response:
        return await run_in_threadpool(page, request)

    return handler
