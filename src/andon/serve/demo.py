"""``andon demo``: the retail + ML example, a week of daily partitions, sources arriving at
jittery times replayed on an accelerated clock, live progress in the terminal."""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from andon.audit.findings import audit
from andon.events import Event, RunFailed, RunStarted, RunSucceeded
from andon.examples import write_example
from andon.live.clock import SpeedClock
from andon.model.errors import ConfigError
from andon.model.status import RunStatus
from andon.model.timefmt import day_key
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.demo_story import FLAKY_SOURCE, FlakyExport, ModelStory, register_readers, waste_summary
from andon.serve.up import Line, ensure_local_token, open_line, serve

FIRST_DAY = datetime(2026, 1, 5, tzinfo=UTC)
MARKER = ".andon-demo"
# source -> (typical arrival after the partition ends, jitter), in minutes
ARRIVALS = {"raw_orders": (120, 30), "raw_clickstream": (60, 45), "fx_rates": (30, 15)}
# the labels of a day (who bought on the day after) land once the next day's orders are in:
# a day and three hours after the day ends
LABELS, LABELS_ARRIVAL = "bought", (24 * 60 + 180, 30)
CURRENCIES = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}
# the day (from the first) customers change: a new site, three times the page views, and who
# buys tomorrow is who browsed most today (the serving model's features drift red; its realised
# AUC falls until retrained versions learn the new behaviour)
SHIFT_DAY = 3


def prepare(directory: Path) -> None:
    """Write the example; in a previous demo's folder, reset its state and write the example
    again (the andon that runs it may have a newer one: a catalog, say)."""
    if (directory / MARKER).exists():
        for sub in (".andon", "data", "landing"):
            shutil.rmtree(directory / sub, ignore_errors=True)
        (directory / "andon.toml").unlink(missing_ok=True)
    write_example(directory, "retail")
    (directory / MARKER).write_text("written by `andon demo`; safe to delete\n")


def set_end(directory: Path, days: int) -> None:
    """Make the project end on the demo's last day (``[project] end``), so that after the demo
    no later partition is expected: on the real clock the plan is empty and the board all
    green, not a row of data that never comes."""
    path = directory / "andon.toml"
    last = day_key(FIRST_DAY + timedelta(days=days - 1))
    text = re.sub(r'(?m)^end = "[^"\n]*"[^\n]*\n', "", path.read_text(), count=1)
    line = f'end = "{last}"  # the demo\'s last day (`andon demo --days`)\n'
    text, found = re.subn(r'(?m)^(start = "[^"\n]*"\n)', lambda m: m.group(1) + line, text,
                          count=1)
    if not found:
        raise ConfigError(f"{path} has no [project] start line to put the demo's end after",
                          hint="run the demo in a new folder")
    path.write_text(text)


def schedule(days: int, seed: int = 7) -> list[tuple[datetime, str, str]]:
    """(arrival time, source, partition) for every source partition, in arrival order; one
    clickstream delivery is three hours late, as real ones sometimes are."""
    rng = random.Random(seed)
    out = []
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        key = day_key(day)
        for source, (after, jitter) in ARRIVALS.items():
            minutes = after + rng.uniform(-jitter, jitter)
            if source == "raw_clickstream" and d == 3:
                minutes += 180
            out.append((day + timedelta(days=1, minutes=minutes), source, key))
    labels = random.Random(f"{seed}/{LABELS}")  # its own draws: the others' times stay as they were
    for d in range(days):
        after, jitter = LABELS_ARRIVAL
        minutes = after + labels.uniform(-jitter, jitter)
        out.append((FIRST_DAY + timedelta(days=d + 1, minutes=minutes), LABELS,
                    day_key(FIRST_DAY + timedelta(days=d))))
    return sorted(out)


def flaky_days(days: int) -> list[str]:
    """The days whose order export arrives cut short (the demo's recurring failure): the second
    day and the fifth (the last, in a shorter demo)."""
    if days < 2:
        return []
    return [day_key(FIRST_DAY + timedelta(days=d)) for d in sorted({1, min(4, days - 1)})]


def write_source(root: Path, source: str, key: str, cut_short: bool = False) -> Path:
    """Generate one day of realistic-looking source data and land it atomically; ``cut_short``:
    an order export whose job stopped mid-write (its last line has two of five fields)."""
    rng = random.Random(f"{source}/{key}")
    customers = [f"C{i:03d}" for i in range(1, 201)]
    if source == "raw_orders":
        path = root / "landing/orders" / f"{key}.csv"
        lines = _orders(rng, key, customers, _buyers(key, customers))
    elif source == LABELS:  # who bought on the next day: from that day's orders, as the shop's
        path = root / "landing/bought" / f"{key}.csv"
        after = day_key(datetime.fromisoformat(key) + timedelta(days=1))
        buyers = {line.split(",")[1] for line in _orders(
            random.Random(f"raw_orders/{after}"), after, customers, _buyers(after, customers))[1:]
            if float(line.split(",")[2]) > 0}
        lines = ["customer_id,bought"] + [f"{c},{int(c in buyers)}" for c in customers]
    elif source == "raw_clickstream":
        path = root / "landing/clicks" / f"{key}.csv"
        lines = _clicks(rng, key, customers)
    else:
        path = root / "landing/fx" / f"{key}.csv"
        lines = ["currency,rate_to_eur"] + [
            f"{c},{r * (1 + rng.uniform(-0.01, 0.01)):.5f}" for c, r in CURRENCIES.items()]
    if cut_short:
        lines = lines[:int(len(lines) * rng.uniform(0.5, 0.9))]
        lines[-1] = ",".join(lines[-1].split(",")[:2])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)  # lands whole: the inotify watcher sees one complete file
    return path


def shifted(key: str) -> bool:
    """Whether customers behave the new way on day ``key`` (from ``SHIFT_DAY`` on)."""
    return key >= day_key(FIRST_DAY + timedelta(days=SHIFT_DAY))


def _clicks(rng: random.Random, key: str, customers: list[str]) -> list[str]:
    """A day's clickstream (its header first): a few hundred sessions of any customer, a few
    page views each; three times as many from the shift on (the new site)."""
    lines = ["session_id,customer_id,page,ts"]
    low, high = (3, 18) if shifted(key) else (1, 6)
    for s in range(rng.randint(500, 700)):
        customer = rng.choice(customers)
        for _ in range(rng.randint(low, high)):
            lines.append(f"{key}-s{s:05d},{customer},/p/{rng.randint(1, 80)},{key}T12:00:00Z")
    return lines


def _buyers(key: str, customers: list[str]) -> list[str]:
    """Who orders on day ``key``: the first 120 customers, every day; from the shift on, the 120
    who browsed most the day before (what the model trained on before cannot know)."""
    if not shifted(key):
        return customers[:120]
    before = day_key(datetime.fromisoformat(key) - timedelta(days=1))
    views = Counter(line.split(",")[1] for line in _clicks(
        random.Random(f"raw_clickstream/{before}"), before, customers)[1:])
    return sorted(customers, key=lambda c: (-views[c], c))[:120]


def _orders(rng: random.Random, key: str, customers: list[str], buyers: list[str]
            ) -> list[str]:
    """A day's order export (its header first): a few hundred orders of the day's ``buyers``,
    some with a bad amount, a few rows duplicated."""
    lines = ["order_id,customer_id,amount,currency,ts"]
    for i in range(rng.randint(250, 350)):
        cur = rng.choice(list(CURRENCIES))
        amount = round(rng.lognormvariate(3.5, 0.6), 2) if rng.random() > 0.01 else -1.0
        lines.append(f"{key}-{i:05d},{rng.choice(buyers)},{amount},{cur},"
                     f"{key}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z")
        if rng.random() < 0.02:
            lines.append(lines[-1])  # the export duplicates a few rows
    return lines


@dataclass
class Progress:
    """Partitions per pipeline and day, kept from the committed events."""

    pipelines: Sequence[str]
    days: Sequence[str]
    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Event = field(default_factory=threading.Event)

    def on_events(self, events: Sequence[Event]) -> None:
        with self.lock:
            for ev in events:
                key = (getattr(ev, "pipeline", ""), getattr(ev, "partition", ""))
                if isinstance(ev, RunStarted):
                    self.cells[key] = RunStatus.RUNNING
                elif isinstance(ev, RunSucceeded):
                    self.cells[key] = "ok"
                elif isinstance(ev, RunFailed):
                    self.cells[key] = RunStatus.FAILED
                    self.failures += 1
        self.changed.set()

    def done(self) -> bool:
        with self.lock:
            return all(self.cells.get((p, d)) == "ok" for p in self.pipelines for d in self.days)

    def render(self, now: datetime) -> str:
        marks = {"ok": "#", RunStatus.RUNNING: ">", RunStatus.FAILED: "X"}
        width = max(len(p) for p in self.pipelines)
        head = " " * width + "  " + " ".join(d[5:] for d in self.days)
        with self.lock:
            rows = [p.ljust(width) + "  " + " ".join(
                marks.get(self.cells.get((p, d), ""), ".").center(5) for d in self.days)
                for p in self.pipelines]
        return "\n".join([f"simulated time {now:%Y-%m-%d %H:%M} UTC   "
                          "(# made  > running  X failed  . waiting for data)", head, *rows])


def _feed(line: Line, clock: SpeedClock, arrivals: list[tuple[datetime, str, str]],
          story: FlakyExport) -> None:
    for at, source, key in arrivals:
        wait = clock.real_seconds(at - clock.now())
        if wait > 0 and line.stop_event.wait(wait):
            return
        cut_short = source == FLAKY_SOURCE and key in story.days
        if cut_short and key != story.days[0]:
            # the story's order: the first cut-short export is resolved in the manual before
            # the next one comes (at a high speed the next day is a fraction of a second away)
            while not story.resolved.wait(0.1):
                if line.stop_event.is_set():
                    return
        write_source(line.project.root, source, key, cut_short)
        if source == "fx_rates":  # not watched: announced like an external system would
            line.announce(source, key, "notify")


def run_demo(directory: Path, speed: float = 3600.0, days: int = 7, port: int = 8765,
             exit_when_done: bool = False, executor: str = "local") -> int:
    """Run the demo; return 0 when every partition was made, 1 otherwise."""
    prepare(directory)
    set_end(directory, days)
    project = load_project(directory.resolve())
    settings = resolve(project.root, {"port": port, "executor": executor}, os.environ,
                       project.settings_table)
    arrivals = schedule(days)
    clock = SpeedClock(arrivals[0][0] - timedelta(minutes=30), speed)
    line = open_line(project, settings, clock)
    ensure_local_token(settings, line.store)
    keys = [day_key(FIRST_DAY + timedelta(days=d)) for d in range(days)]
    progress = Progress(list(project.graph.order), keys)
    line.runner.subscribe(progress.on_events)
    story = FlakyExport(line, flaky_days(days),
                        lambda key: write_source(project.root, FLAKY_SOURCE, key))
    line.runner.subscribe(story.on_events)
    shift = ModelStory("buy_tomorrow", "buy_tomorrow_performance")
    line.runner.subscribe(shift.on_events)
    tty = sys.stdout.isatty()

    def ready(line: Line) -> None:
        print(f"andon demo: {len(project.graph.pipelines)} pipelines x {days} days, "
              f"{len(arrivals)} source deliveries at {speed:g}x speed", flush=True)
        print(f"dashboard: {line.url}   project: {project.root}", flush=True)
        register_readers(line)
        threading.Thread(target=_feed, args=(line, clock, arrivals, story), daemon=True).start()
        threading.Thread(target=story.run, name="andon-demo-story", daemon=True).start()
        shown = 0
        while not line.stop_event.is_set():
            progress.changed.wait(0.25 if tty else None)
            progress.changed.clear()
            if tty:
                text = progress.render(clock.now())
                if shown:
                    sys.stdout.write(f"\x1b[{shown}F\x1b[J")
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
                shown = text.count("\n") + 1
            if progress.done() and line.runner.drain(5):
                break
        if not tty:
            print(progress.render(clock.now()), flush=True)
        made = sum(1 for v in progress.cells.values() if v == "ok")
        print(f"done: {made} partitions made, {progress.failures} failed run(s); "
              f"outputs in {project.root / 'data'}", flush=True)
        if story.days:
            print(f"recurring failure: the order export was cut short on "
                  f"{' and '.join(story.days)} (re-delivered each time, resolved once); "
                  f"the manual: {line.url}/manual", flush=True)
        if days > SHIFT_DAY:
            print(shift.summary(day_key(FIRST_DAY + timedelta(days=SHIFT_DAY))) +
                  f"; the model: {line.url}/catalog/model/buy_tomorrow", flush=True)
        # judged at the demo's simulated end, as the board's Audit page judges it meanwhile
        print(waste_summary(audit(line.store, project.graph, project.audit, clock.now()),
                            project.audit.currency, line.url), flush=True)
        if exit_when_done:
            line.stop_event.set()
        else:
            print(f"dashboard: {line.url}  (Ctrl-C to stop)", flush=True)

    serve(line, ready)
    return 0 if progress.done() else 1
