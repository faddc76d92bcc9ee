"""``andon demo``: the retail + ML example, a week of daily partitions, sources arriving at
jittery times replayed on an accelerated clock, the story of the week narrated in the terminal as
it happens (``andon.serve.demo_narrator``) and summed up at its end.

The week's data is ``andon.serve.demo_data``; the people around the line play the stories
(``demo_incidents``: the late export, the bad FX rates; ``demo_story``: the recurring cut-short
export, the customers' shift, the readers, the waste); ``demo_clock`` slows the simulated clock
while runs execute; ``demo_done`` checks the demo's requirements and lists the failures;
``andon.serve.rest`` says when nothing more can run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from andon.audit.findings import audit
from andon.events import Event, RunFailed, RunStarted, RunSucceeded
from andon.examples import HERE as EXAMPLES
from andon.examples import write_example
from andon.model.errors import ConfigError
from andon.model.status import RunStatus
from andon.model.timefmt import day_key
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.demo_clock import StoryClock
from andon.serve.demo_data import (
    BAD_DAY,
    FIRST_DAY,
    LATE_DAY,
    SHIFT_DAY,
    day_of,
    flaky_days,
    schedule,
    write_source,
)
from andon.serve.demo_done import Failures, check_requirements
from andon.serve.demo_incidents import BAD_SOURCE, LATE_SOURCE, BadRates, LateExport
from andon.serve.demo_narrator import Narrator
from andon.serve.demo_story import FLAKY_SOURCE, FlakyExport, ModelStory, register_readers, waste_summary
from andon.serve.rest import Rest, look
from andon.serve.up import Line, ensure_local_token, open_line, serve

MARKER = ".andon-demo"
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
LOOK_AGAIN_S = 1.0  # real seconds between looks at "nothing more can run" once the feed is done
# real seconds one such look may wait for the runner and its helpers: short, so that while runs
# still execute the terminal loop goes back to printing their story and looks again
REST_LOOK_S = 0.5


def prepare(directory: Path, pipelines: str | None = None) -> None:
    """Write the example; in a previous demo's folder, reset its state and write the example
    again (the andon that runs it may have a newer one: a catalog, say). ``pipelines``: the
    text of its pipelines.py instead of the example's (``broken_source``)."""
    if (directory / MARKER).exists():
        for sub in (".andon", "data", "landing"):
            shutil.rmtree(directory / sub, ignore_errors=True)
        (directory / "andon.toml").unlink(missing_ok=True)
    write_example(directory, "retail")
    (directory / MARKER).write_text("written by `andon demo`; safe to delete\n")
    if pipelines is not None:
        (directory / "pipelines.py").write_text(pipelines)


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


def broken_source(names: Sequence[str]) -> str | None:
    """The example's pipelines.py with every run of the pipelines ``names`` failing (a first
    line that raises, in the written file for all to see), or None when ``names`` is empty. A
    name the example does not define is refused (ConfigError, exit 2) before anything is
    written."""
    if not names:
        return None
    text = (EXAMPLES / "retail" / "pipelines.py").read_text()
    for name in names:
        pattern = re.compile(rf"(?m)^def {re.escape(name)}\(ctx\):\n") if IDENT.match(name) \
            else None
        if pattern is None or not pattern.search(text):
            defined = re.findall(r"(?m)^def ([A-Za-z_]\w*)\(ctx\):", text)
            raise ConfigError(f"--break {name[:100]!r}: the demo has no pipeline of that name",
                              hint="break one of " + ", ".join(defined))
        first = f'    raise RuntimeError("broken on purpose by `andon demo --break {name}`")\n'
        text = pattern.sub(lambda m: m.group(0) + first, text, count=1)  # noqa: B023 (used at once)
    return text


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


class Feed:
    """Lands the week's source files on the story's clock (``run``, a thread), as the sources
    would: the late export is left to its story, the bad day's FX rates land bad, the second
    cut-short export waits until the first one's fix is in the manual. ``finished`` is set once
    the last delivery has landed."""

    def __init__(self, line: Line, clock: StoryClock, arrivals: list[tuple[datetime, str, str]],
                 flaky: FlakyExport, late: tuple[str, str], bad: tuple[str, str]) -> None:
        self.line, self.clock, self.arrivals = line, clock, arrivals
        self.flaky, self.late, self.bad = flaky, late, bad
        self.finished = threading.Event()

    def land(self, source: str, key: str, cut_short: bool = False, bad: bool = False) -> None:
        """Land one file of ``source`` (the FX rates, whose folder is not watched, announced as
        treasury's system does); the clock keeps the busy pace until andon has it."""
        self.clock.landing(source, key)
        write_source(self.line.project.root, source, key, cut_short, bad_rate=bad)
        if source == BAD_SOURCE:
            self.line.announce(source, key, "notify")

    def run(self) -> None:
        stop = self.line.stop_event
        for at, source, key in self.arrivals:
            if not self.clock.sleep_until(at, stop):
                return
            if (source, key) == self.late:
                continue  # the hung export: LateExport lands it
            cut_short = source == FLAKY_SOURCE and key in self.flaky.days
            if cut_short and key != self.flaky.days[0]:
                # the story's order: the first cut-short export is resolved in the manual before
                # the next one comes (at a high speed the next day is a fraction of a second away)
                while not self.flaky.resolved.wait(0.1):
                    if stop.is_set():
                        return
            self.land(source, key, cut_short, (source, key) == self.bad)
        self.finished.set()


def run_demo(directory: Path, speed: float = 3600.0, days: int = 7, port: int = 8765,
             exit_when_done: bool = False, executor: str = "local",
             broken: Sequence[str] = ()) -> int:
    """Run the demo; return 0 when every partition was made, 1 otherwise (with
    ``exit_when_done``: once nothing more can run, the failures listed). A missing requirement
    raises a ConfigError (exit 2) before anything is written."""
    check_requirements()
    prepare(directory, broken_source(broken))
    set_end(directory, days)
    project = load_project(directory.resolve())
    settings = resolve(project.root, {"port": port, "executor": executor}, os.environ,
                       project.settings_table)
    arrivals = schedule(days)
    clock = StoryClock(arrivals[0][0] - timedelta(minutes=30), speed)
    line = open_line(project, settings, clock)
    runner = line.runner
    runner.subscribe(clock.on_events)  # first: a run's start slows the clock at once
    ensure_local_token(settings, line.store)
    keys = [day_of(d) for d in range(days)]
    progress = Progress(list(project.graph.order), keys)
    narrator = Narrator(project.graph, progress.changed)
    failures = Failures(project.graph)
    late_key = day_of(LATE_DAY)
    late = LateExport(line, clock, late_key,
                      project.graph.assets[LATE_SOURCE].partitions.end(late_key),
                      lambda key: feed.land(LATE_SOURCE, key))
    story = FlakyExport(line, clock, flaky_days(days), lambda key: feed.land(FLAKY_SOURCE, key))
    bad_key = day_of(BAD_DAY) if days > BAD_DAY else ""
    feed = Feed(line, clock, arrivals, story, (LATE_SOURCE, late_key), (BAD_SOURCE, bad_key))
    bad = BadRates(line, clock, bad_key, lambda key, bad: feed.land(BAD_SOURCE, key, bad=bad))
    shift = ModelStory("buy_tomorrow", "buy_tomorrow_performance")
    for listener in (progress.on_events, narrator.on_events, failures.on_events, late.on_events,
                     story.on_events, bad.on_events, shift.on_events):
        runner.subscribe(listener)
    tty = sys.stdout.isatty()

    def over() -> bool:
        """Nothing more can run: the story delivered all it will, andon has seen every file
        land, and the line settled."""
        return feed.finished.is_set() and not (late.owed or story.owed or bad.owed) and \
            not clock.landings and look(line, REST_LOOK_S) is Rest.AT_REST

    def ready(line: Line) -> None:
        print(f"andon demo: {len(project.graph.pipelines)} pipelines x {days} days, "
              f"{len(arrivals)} source deliveries at {speed:g}x speed", flush=True)
        print(f"dashboard: {line.url}   project: {project.root}", flush=True)
        clock.begin()  # the story's first moment: now that the line is up
        register_readers(line)
        for name, target in (("feed", feed.run), ("late", late.run), ("flaky", story.run),
                             ("rates", bad.run)):
            threading.Thread(target=target, name=f"andon-demo-{name}", daemon=True).start()
        shown = 0
        while not line.stop_event.is_set():
            progress.changed.wait(0.25 if tty else LOOK_AGAIN_S)
            progress.changed.clear()
            told = narrator.take()
            if tty:
                if shown:
                    sys.stdout.write(f"\x1b[{shown}F\x1b[J")
                text = progress.render(clock.now())
                sys.stdout.write("".join(t + "\n" for t in told) + text + "\n")
                sys.stdout.flush()
                shown = text.count("\n") + 1
            elif told:
                print("\n".join(told), flush=True)
            if over():
                break
        told = narrator.take()
        if told:
            print("\n".join(told), flush=True)
        if not tty:
            print(progress.render(clock.now()), flush=True)
        summary(line, progress, failures, story, shift, clock.now(), days)
        if exit_when_done:
            line.stop_event.set()
        else:
            print(f"dashboard: {line.url}  (Ctrl-C to stop)", flush=True)

    def summary(line: Line, progress: Progress, failures: Failures, story: FlakyExport,
                shift: ModelStory, now: datetime, days: int) -> None:
        made = sum(1 for v in progress.cells.values() if v == "ok")
        print(f"done: {made} partitions made, {progress.failures} failed run(s); "
              f"outputs in {project.root / 'data'}", flush=True)
        missing = len(progress.pipelines) * len(progress.days) - made
        if missing:
            print(f"not made: {missing} partition(s), nothing more can run; failed for good:",
                  flush=True)
            print("\n".join(failures.lines()) or "  (none: they wait for data, or for an open "
                  "andon cord to be resolved: /cords)", flush=True)
        if story.days:
            print(f"recurring failure: the order export was cut short on "
                  f"{' and '.join(story.days)} (re-delivered each time, resolved once); "
                  f"the manual: {line.url}/manual", flush=True)
        if days > SHIFT_DAY:
            print(shift.summary(day_of(SHIFT_DAY)) +
                  f"; the model: {line.url}/catalog/model/buy_tomorrow", flush=True)
        # judged at the demo's simulated end, as the board's Audit page judges it meanwhile
        print(waste_summary(audit(line.store, project.graph, project.audit, now),
                            project.audit.currency, line.url), flush=True)

    serve(line, ready)
    return 0 if progress.done() else 1
