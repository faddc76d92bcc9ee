"""``/metrics`` in the Prometheus text format (version 0.0.4), written by hand: a dozen lines of
formatting instead of a client library and its process-wide registry. Every value is read from
the shared Service when scraped, so the numbers agree with the board and the API."""

from __future__ import annotations

from collections.abc import Iterable

from andon.live.service import Service
from andon.model.status import RunStatus
from andon.planner.views import PlanView

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# seconds from a run's inputs all being there (it is queued) to its start
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   300.0, 900.0, 3600.0)
RUN_STATES = tuple(s.value for s in RunStatus)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_: str,
               samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{text}}} {_num(value)}" if text else f"{name} {_num(value)}")

    def histogram(self, name: str, help_: str, bounds: Iterable[float], counts: list[int],
                  total: float, count: int) -> None:
        self.lines += [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
        for bound, n in zip(bounds, counts):
            self.lines.append(f'{name}_bucket{{le="{bound:g}"}} {n}')
        self.lines += [f'{name}_bucket{{le="+Inf"}} {count}', f"{name}_sum {_num(total)}",
                       f"{name}_count {count}"]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(svc: Service, plan: PlanView, scheduler_alive: bool) -> str:
    """The metrics text."""
    w = _Writer()
    counts = {s.value: n for s, n in svc.store.run_counts().items()}
    w.metric("andon_up", "gauge", "1 while the scheduler loop is running",
             [({}, 1 if scheduler_alive else 0)])
    w.metric("andon_runs", "gauge", "Runs by state (the newest attempt and every earlier one)",
             [({"state": s}, counts.get(s, 0)) for s in sorted({*RUN_STATES, *counts})])
    w.metric("andon_queue_length", "gauge", "Runs whose inputs are all there, waiting for a slot",
             [({}, counts.get(RunStatus.QUEUED.value, 0))])
    graph = svc.graph
    running = svc.runs(status=RunStatus.RUNNING.value, limit=100_000)
    used = {p: 0 for p in graph.pools}
    for r in running:
        pipe = graph.pipelines.get(r.pipeline)
        pool = r.pool or (pipe.pool if pipe else "")
        used[pool] = used.get(pool, 0) + (r.slots or 1)
    w.metric("andon_pool_slots", "gauge", "Slots of each pool",
             [({"pool": p.name}, p.capacity) for p in sorted(graph.pools.values(),
                                                              key=lambda p: p.name)])
    w.metric("andon_pool_slots_used", "gauge", "Slots held by running runs, per pool",
             [({"pool": p}, n) for p, n in sorted(used.items())])
    counts_le, total, count = svc.store.queue_seconds_histogram(LATENCY_BUCKETS)
    w.histogram("andon_event_to_start_seconds",
                "Seconds from the event that made a run ready (its last input arrived, or it was "
                "requested) to its start", LATENCY_BUCKETS, counts_le, total, count)
    w.metric("andon_deliverables_at_risk", "gauge",
             "Deliverables the plan predicts to finish after their due time",
             [({}, plan.at_risk)])
    w.metric("andon_open_cords", "gauge", "Andon cords pulled and not yet resolved",
             [({}, len(svc.cords()))])
    # the engine queues a run only once its inputs are all there and it takes its slots at the
    # start, so no slot is ever held while waiting for data: zero by construction, shown proudly
    # (the simulator measures the same quantity for the cron-poke baseline)
    w.metric("andon_slot_wait_seconds_total", "counter",
             "Slot time held by runs whose inputs were not there yet (zero: runs take slots "
             "only once their inputs are there)", [({}, 0.0)])
    w.metric("andon_events_total", "counter", "Events recorded in the log",
             [({}, svc.store.count_events())])
    return w.text()
