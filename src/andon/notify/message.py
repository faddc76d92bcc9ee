"""What a notification says, and to whom: pure functions from an event and the graph.

A message has a one-line ``subject``, a plain ``text`` body (for e-mail and chat) and structured
``fields`` (for receivers that parse JSON); ``assets`` are the data sets whose owners and
subscribers hear about it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from andon.events import CheckFailed, Event, RunFailed
from andon.events.codec import format_time
from andon.model.durations import format_duration
from andon.model.graph import Graph
from andon.notify.config import NotifyConfig, is_address

AFFECTED_LIMIT = 10_000  # partitions walked downstream for a message; more are counted as "more"
LISTED = 20  # partitions listed in the text
# the planner's forecast: (asset, partition, affected downstream) -> expected delay, if known
DelayForecast = Callable[[str, str, Sequence[tuple[str, str]]], timedelta | None]


@dataclass(frozen=True)
class Message:
    about: str  # the event type it is about
    about_id: str
    subject: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    assets: tuple[str, ...] = ()
    to: tuple[str, ...] = ()  # people told besides the assets' (an access request's)


@dataclass(frozen=True)
class Recipient:
    channel: str  # webhook | email
    name: str  # shown and recorded: an address or a webhook's name
    address: str = field(default="", repr=False)  # where it is sent (a URL may hold a token)


def downstream(graph: Graph, asset: str, partition: str,
               limit: int = AFFECTED_LIMIT) -> tuple[list[tuple[str, str]], bool]:
    """Every (asset, partition) made from ``asset`` ``partition``, transitively, in breadth-first
    order; and whether the walk stopped at ``limit``."""
    seen: set[tuple[str, str]] = {(asset, partition)}
    out: list[tuple[str, str]] = []
    todo = deque([(asset, partition)])
    while todo:
        name, key = todo.popleft()
        if name not in graph.assets:
            continue
        for pipeline, down_key in graph.consumer_keys(name, key):
            for produced in graph.pipelines[pipeline].outputs:
                node = (produced, down_key)
                if node in seen:
                    continue
                if len(out) >= limit:
                    return out, True
                seen.add(node)
                out.append(node)
                todo.append(node)
    return out, False


def recipients(graph: Graph, config: NotifyConfig, assets: Sequence[str],
               consumers: Mapping[str, Sequence[str]] | None = None,
               to: Sequence[str] = ()) -> list[Recipient]:
    """Owners, subscribers and registered ``consumers`` (data set -> names) of ``assets``,
    the names ``to``, plus the project-wide subscribers, each once. A name that is neither an
    address nor a known webhook is skipped (owners are free text); e-mail addresses are
    skipped while e-mail is off."""
    names: list[str] = list(to)
    for name in assets:
        asset = graph.assets.get(name)
        if asset is not None:
            names.extend(o.strip() for o in asset.owner.split(",") if o.strip())
            names.extend(asset.subscribers)
        names.extend((consumers or {}).get(name, ()))
    names.extend(config.subscribers)
    out: list[Recipient] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        if name in config.webhooks:
            out.append(Recipient("webhook", name, config.webhooks[name]))
        elif is_address(name) and config.smtp is not None:
            out.append(Recipient("email", name, name))
    return out


def _listing(nodes: Sequence[tuple[str, str]], more: bool) -> str:
    lines = [f"  - {a} {p}" for a, p in nodes[:LISTED]]
    rest = len(nodes) - LISTED
    if rest > 0 or more:
        lines.append(f"  ... and {max(rest, 0)}{'+' if more else ''} more")
    return "\n".join(lines) if lines else "  (nothing downstream)"


def halted_assets(graph: Graph, halted: Sequence[Any], bad: tuple[str, str]) -> list[tuple[str, str]]:
    """The asset partitions made by the halted pipeline partitions (the engine's ``cord.halted``
    list), without the bad partition itself."""
    out: dict[tuple[str, str], None] = {}
    for item in halted:
        pipe = graph.pipelines.get(item.pipeline)
        for name in pipe.outputs if pipe else ():
            if (name, item.partition) != bad:
                out[(name, item.partition)] = None
    return list(out)


def cord_message(event: Event, graph: Graph, forecast: DelayForecast | None = None,
                 halted: Sequence[Any] | None = None) -> Message:
    """A cord was pulled: the reason, who pulled it, what is halted downstream (``halted``: the
    engine's list of halted pipeline partitions; else walked along the graph) and the expected
    delay (when the planner can tell)."""
    asset, partition = str(getattr(event, "asset", "")), str(getattr(event, "partition", ""))
    reason, by = str(getattr(event, "reason", "")), str(getattr(event, "by", ""))
    cord_id = str(getattr(event, "cord_id", event.id))
    if halted is not None:
        affected, more = halted_assets(graph, halted, (asset, partition)), False
    else:
        affected, more = downstream(graph, asset, partition)
    delay = forecast(asset, partition, affected) if forecast else None
    delay_text = format_duration(delay) if delay is not None else "unknown"
    subject = f"andon cord pulled on {asset} {partition}: {reason}"
    text = (f"The andon cord was pulled on {asset} {partition}.\n"
            f"Reason: {reason}\nPulled by: {by or 'unknown'}\nCord: {cord_id}\n"
            f"Halted downstream ({len(affected)}{'+' if more else ''}):\n{_listing(affected, more)}\n"
            f"Expected delay: {delay_text}\n"
            f"Resolve it with: andon cord resolve {cord_id} --note \"...\"")
    fields = {"cord_id": cord_id, "asset": asset, "partition": partition, "reason": reason,
              "by": by, "at": format_time(event.at),
              "affected": [{"asset": a, "partition": p} for a, p in affected[:1000]],
              "affected_count": len(affected), "affected_truncated": more or len(affected) > 1000,
              "expected_delay_seconds": delay.total_seconds() if delay is not None else None}
    assets = tuple(dict.fromkeys([asset, *(a for a, _ in affected)]))
    return Message(event.name, event.id, subject, text, fields, assets)


def check_message(event: CheckFailed) -> Message:
    """A warning check failed (a blocking one pulls the cord, whose message says it all)."""
    numbers = ", ".join(f"{k}={v:g}" for k, v in list(event.numbers.items())[:12])
    subject = f"check {event.check} failed on {event.asset} {event.partition}: {event.message}"
    text = (f"The {'blocking' if event.blocking else 'warning'} check {event.check} failed on "
            f"{event.asset} {event.partition} (version {event.version}).\n"
            f"{event.message}\nNumbers: {numbers or 'none'}")
    fields = {"asset": event.asset, "partition": event.partition, "version": event.version,
              "check": event.check, "blocking": event.blocking, "numbers": dict(event.numbers),
              "message": event.message, "at": format_time(event.at)}
    return Message(event.name, event.id, subject[:300], text, fields, (event.asset,))


def failure_message(event: RunFailed, graph: Graph, hint: str | None = None) -> Message:
    """A run failed for good (its retries spent): the error, and ``hint``, what the operations
    manual knows of the problem ("seen N times since DATE; last fixed by: NOTE (LINK)"), when
    it knows something."""
    pipe = graph.pipelines.get(event.pipeline)
    error = ": ".join(p for p in (event.error_type, event.error_message) if p) or \
        f"exit code {event.exit_code}"
    first_line = error.splitlines()[0] if error.strip() else error
    subject = f"run failed: {event.pipeline} {event.partition}: {first_line}"
    text = (f"Run {event.run_id} of {event.pipeline} {event.partition} failed "
            f"(attempt {event.attempt}, no retry left).\n{error}\n"
            f"Exit code: {'none' if event.exit_code is None else event.exit_code}\n"
            + (f"Known problem: {hint}\n" if hint else "")
            + f"Its log: andon logs {event.run_id}")
    fields = {"run_id": event.run_id, "pipeline": event.pipeline, "partition": event.partition,
              "attempt": event.attempt, "error_type": event.error_type,
              "error_message": event.error_message, "exit_code": event.exit_code,
              "hint": hint or None, "at": format_time(event.at)}
    return Message(event.name, event.id, subject[:300], text, fields,
                   tuple(pipe.outputs) if pipe else ())


def at_risk_message(event: Event, graph: Graph) -> Message:
    """A deliverable is predicted to miss its deadline, or is back on plan (fields read by name,
    so any version of the planner's events works)."""
    recovered = event.name.endswith("recovered")
    data = {k: v for k, v in vars(event).items() if k not in ("id", "at")}
    pipeline = str(data.get("pipeline", ""))
    partition = str(data.get("partition", ""))
    reason = str(data.get("reason", ""))
    pipe = graph.pipelines.get(pipeline)
    assets = tuple(pipe.outputs) if pipe else tuple(a for a in [str(data.get("asset", ""))] if a)
    subject = (f"{'back on plan' if recovered else 'deadline at risk'}: "
               f"{pipeline or ', '.join(assets)} {partition}") + (f": {reason}" if reason else "")
    details = "\n".join(f"{k}: {format_time(v) if hasattr(v, 'tzinfo') else v}"
                        for k, v in data.items() if k not in ("pipeline", "partition"))
    text = (f"{pipeline} {partition} is "
            f"{'back on plan' if recovered else 'predicted to miss its deadline'}.\n{details}")
    fields = {k: format_time(v) if hasattr(v, "tzinfo") else v for k, v in data.items()}
    fields["at"] = format_time(event.at)
    return Message(event.name, event.id, subject[:300], text, fields, assets)
