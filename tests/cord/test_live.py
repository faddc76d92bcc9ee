"""The andon cord on a live runner: a real SQLite store, real processes, files on disk, a fake
clock that never moves by itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from andon.cord.files import restore
from andon.events import (
    CordHalted,
    CordRecovered,
    CordReleased,
    Event,
    OutputDeleted,
    OutputQuarantined,
    OutputRestored,
    RunCancelled,
    RunStarted,
    RunSucceeded,
)
from andon.live.clock import FakeClock
from tests.conftest import utc
from tests.executors.helpers import alive, read_pid, wait_until
from tests.runner.harness import Live, open_live

DAY = "2026-01-05"

PIPELINES = r'''
import os
import signal
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")


def copy(ctx, src, dst):
    ctx.output(dst).write_text(ctx.inputs[src].read_text() + f"{dst}\n")


@andon.pipeline(inputs=["raw"], outputs=["orders"], locations={"orders": "out/orders/{partition}.csv"})
def clean(ctx):
    copy(ctx, "raw", "orders")


@andon.pipeline(inputs=["orders"], outputs=["report"], bad_outputs="quarantine",
                locations={"report": "out/report/{partition}.csv"})
def report(ctx):
    copy(ctx, "orders", "report")


@andon.pipeline(inputs=["report"], outputs=["mail"], bad_outputs="delete",
                locations={"mail": "out/mail/{partition}"})
def mail(ctx):
    folder = ctx.output("mail")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "body.txt").write_text(ctx.inputs["report"].read_text())


@andon.pipeline(inputs=["orders"], outputs=["slow"])
def slow(ctx):
    # a long consumer: says it got SIGTERM, then dies of it
    def stop(signum, frame):
        (ctx.project_dir / f"term-{ctx.partition}").write_text("SIGTERM")
        os._exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    (ctx.project_dir / f"slow-{ctx.partition}.pid").write_text(str(os.getpid()))
    while not (ctx.project_dir / f"gate-{ctx.partition}").exists():
        time.sleep(0.02)
    ctx.output("slow").write_text("done\n")


@andon.pipeline(inputs=["orders"], outputs=["patient"], on_cord="finish")
def patient(ctx):
    (ctx.project_dir / f"patient-{ctx.partition}.pid").write_text(str(os.getpid()))
    while not (ctx.project_dir / f"gate-{ctx.partition}").exists():
        time.sleep(0.02)
    ctx.output("patient").write_text("done\n")
'''


@pytest.fixture
def live(make_project) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINES, pools={"default": 8})
    line = open_live(root, FakeClock(utc(2026, 1, 6, 3)), executor="local", kill_grace=5.0)
    yield line
    (root / f"gate-{DAY}").write_text("")
    line.close()


def made_then_stopped(make_project: Callable[..., Path]) -> tuple[Path, FakeClock, Live]:
    """A project whose day DAY was made by a scheduler (in-process runs) that has stopped since:
    (its folder, the fake clock, the stopped line)."""
    root = make_project(PIPELINES)
    (root / f"gate-{DAY}").write_text("")
    clock = FakeClock(utc(2026, 1, 6, 3))
    live = open_live(root, clock, executor="inprocess")
    try:
        (root / "data/raw").mkdir(parents=True)
        (root / f"data/raw/{DAY}.csv").write_text("id\n1\n")
        live.notify("raw", DAY)
        assert live.runner.quiet()
    finally:
        live.close()
    return root, clock, live


def of(log: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in log if isinstance(e, kind)]


def _made(live: Live) -> None:
    """raw DAY arrives; clean, report and mail finish; slow and patient are running."""
    (live.root / "data/raw").mkdir(parents=True)
    (live.root / f"data/raw/{DAY}.csv").write_text("id\n1\n")
    live.notify("raw", DAY)
    live.wait_for(lambda log: any(isinstance(e, RunSucceeded) and e.pipeline == "mail"
                                  for e in log), "mail made")
    read_pid(live.root / f"slow-{DAY}.pid")
    read_pid(live.root / f"patient-{DAY}.pid")


def _pull(live: Live, asset: str, reason: str = "duplicated rows") -> str:
    event = live.service.cord_pull(asset, DAY, reason, live.now(), "test")
    assert live.submit(event) == [True]
    return event.cord_id


def _resolve(live: Live, cord_id: str, manual_fix: bool = False) -> None:
    assert live.submit(live.service.cord_resolve(cord_id, "fixed", live.now(), "test",
                                                 manual_fix)) == [True]


def _quarantined(live: Live) -> tuple[str, Path, str]:
    """DAY made, then a cord pulled on orders and report quarantined: the cord's id, report's
    location and the content it had."""
    _made(live)
    report = live.root / f"out/report/{DAY}.csv"
    content = report.read_text()
    cord_id = _pull(live, "orders")
    live.wait_for(lambda log: of(log, OutputQuarantined), "the report quarantined")
    return cord_id, report, content


def test_pulling_cancels_a_running_consumer_with_sigterm_and_lets_a_finisher_finish(
        live: Live) -> None:
    _made(live)
    slow_pid = int((live.root / f"slow-{DAY}.pid").read_text())

    cord_id = _pull(live, "orders")

    live.wait_for(lambda log: any(isinstance(e, RunCancelled) and e.pipeline == "slow"
                                  for e in log), "slow cancelled")
    assert (live.root / f"term-{DAY}").read_text() == "SIGTERM"  # the process got SIGTERM
    wait_until(lambda: not alive(slow_pid), "the slow process to be gone")
    (cancelled,) = [e for e in of(live.log, RunCancelled) if e.pipeline == "slow"]
    assert cancelled.by == f"cord:{cord_id}" and "duplicated rows" in cancelled.reason
    (halt,) = of(live.log, CordHalted)
    assert halt.finishing == (f"patient:{DAY}:1",)
    patient_pid = int((live.root / f"patient-{DAY}.pid").read_text())
    assert alive(patient_pid)  # on_cord="finish": it goes on

    (live.root / f"gate-{DAY}").write_text("")
    live.wait_for(lambda log: any(isinstance(e, RunSucceeded) and e.pipeline == "patient"
                                  for e in log), "patient finished")
    assert live.runner.quiet()
    rows = {(o["asset"], o["version"]): o["state"] for o in live.store.cord_outputs(cord_id)}
    assert rows[("patient", 1)] == "suspect"  # made from bad data, after the pull
    halted = {(h["pipeline"], h["partition"]) for h in live.service.status()["halted"]}
    assert halted == {(p, DAY) for p in ("clean", "report", "mail", "slow", "patient")}
    # nothing new started under the cord
    started = [e for e in live.log if isinstance(e, RunStarted)
               and live.log.index(e) > live.log.index(halt)]
    assert started == []


def test_quarantine_moves_the_output_aside_and_restore_brings_it_back(live: Live) -> None:
    cord_id, report, content = _quarantined(live)
    (moved,) = of(live.log, OutputQuarantined)
    assert (moved.asset, moved.version, moved.location) == ("report", 1, f"out/report/{DAY}.csv")
    assert not report.exists()
    aside = Path(moved.quarantine_path)
    assert aside.read_text() == content
    assert aside.is_relative_to(live.root / ".andon/quarantine")
    assert (live.root / f"out/orders/{DAY}.csv").exists()  # the bad partition itself stays

    done = restore(live.root, moved, live.now(), "test")
    assert live.submit(done) == [True]

    assert report.read_text() == content and not aside.exists()
    assert isinstance(done, OutputRestored)
    states = {o["asset"]: o["state"] for o in live.store.cord_outputs(cord_id)}
    assert states["report"] == "restored"


def test_delete_removes_produced_outputs_and_never_source_data(live: Live) -> None:
    _made(live)
    source = live.root / f"data/raw/{DAY}.csv"

    cord_id = _pull(live, "raw", "bad export")  # a bad source partition

    live.wait_for(lambda log: of(log, OutputDeleted) and of(log, OutputQuarantined),
                  "mail deleted and report quarantined")
    assert [(e.asset, e.version) for e in of(live.log, OutputDeleted)] == [("mail", 1)]
    assert not (live.root / f"out/mail/{DAY}").exists()
    assert source.read_text() == "id\n1\n"  # a source is never touched
    assert (live.root / f"out/orders/{DAY}.csv").exists()  # keep (clean's default)
    outputs = {o["asset"]: (o["action"], o["state"]) for o in live.store.cord_outputs(cord_id)}
    assert outputs["mail"] == ("delete", "deleted")
    assert outputs["orders"] == ("keep", "suspect")
    assert "raw" not in outputs


def test_an_output_changed_since_andon_wrote_it_is_left_alone(live: Live) -> None:
    _made(live)
    report = live.root / f"out/report/{DAY}.csv"
    report.write_text("edited by a person\n")

    cord_id = _pull(live, "orders")
    live.wait_for(lambda log: of(log, CordHalted), "the halt")
    assert live.runner.drain()

    assert report.read_text() == "edited by a person\n"
    assert of(live.log, OutputQuarantined) == []
    assert {o["asset"]: o["state"] for o in live.store.cord_outputs(cord_id)}["report"] == "suspect"


def test_resolve_remakes_then_reruns_everything_affected_and_records_the_incident(
        live: Live) -> None:
    _made(live)
    (live.root / f"gate-{DAY}").write_text("")  # let slow and patient finish
    assert live.runner.quiet()
    (live.root / f"gate-{DAY}").unlink()
    cord_id = _pull(live, "orders")
    live.wait_for(lambda log: of(log, OutputQuarantined), "quarantine")
    mark = len(live.log)

    (live.root / f"gate-{DAY}").write_text("")
    _resolve(live, cord_id)

    live.wait_for(lambda log: of(log, CordRecovered), "the cord recovered")
    assert live.runner.quiet()
    (released,) = of(live.log, CordReleased)
    assert released.run_id == f"clean:{DAY}:2"
    order = [e.pipeline for e in live.log[mark:] if isinstance(e, RunStarted)]
    assert order[0] == "clean" and sorted(order) == ["clean", "mail", "patient", "report", "slow"]
    assert order.index("report") < order.index("mail")
    assert (live.root / f"out/report/{DAY}.csv").exists()  # re-made in place
    assert (live.root / f"out/mail/{DAY}/body.txt").exists()
    incident = live.service.cord(cord_id)
    assert incident["status"] == "recovered" and incident["halted"] == []
    assert [s["step"] for s in incident["timeline"]] == [
        "produced_bad", "detected", "pulled", "resolved", "remade", "recovered"]
    assert incident["time_to_detect_seconds"] >= 0
    assert incident["time_to_recover_seconds"] >= 0
    assert live.service.status()["halted"] == [] and live.service.cords() == []


def test_overlapping_cords_release_a_partition_only_when_both_are_resolved(live: Live) -> None:
    _made(live)
    (live.root / f"gate-{DAY}").write_text("")
    assert live.runner.quiet()
    upper = _pull(live, "orders")
    lower = _pull(live, "report")
    live.wait_for(lambda log: len(of(log, CordHalted)) == 2, "both halts")

    _resolve(live, upper, manual_fix=True)
    live.wait_for(lambda log: of(log, CordReleased), "the upper cord released")
    assert live.runner.quiet()
    halted = {(h["pipeline"], h["partition"]): [c["cord_id"] for c in h["cords"]]
              for h in live.service.status()["halted"]}
    assert halted == {("report", DAY): [lower], ("mail", DAY): [lower]}
    assert live.store.runs("mail", "running") == [] and live.store.runs("mail", "queued") == []

    _resolve(live, lower)
    live.wait_for(lambda log: len(of(log, CordRecovered)) == 2, "both recovered")
    assert live.service.status()["halted"] == []
    assert [r["status"] for r in live.runs("mail")][-1] == "succeeded"



def test_a_cord_pulled_while_no_scheduler_runs_halts_from_the_next_start(  # type: ignore[no-untyped-def]
        make_project) -> None:
    from andon.live.service import Service
    from andon.store.sql import Store

    root, clock, live = made_then_stopped(make_project)
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")  # what `andon cord pull` does offline
    svc = Service(live.project.graph, store, root)
    store.append([svc.cord_pull("orders", DAY, "found while it was down", clock.now(), "cli")])
    store.close()

    again = open_live(root, clock, executor="inprocess")
    try:
        again.wait_for(lambda log: of(log, OutputQuarantined), "the halt and the quarantine")
        assert {(h["pipeline"], h["partition"]) for h in again.service.status()["halted"]} == \
            {(p, DAY) for p in ("clean", "report", "mail", "slow", "patient")}
        assert not (root / f"out/report/{DAY}.csv").exists()
    finally:
        again.close()


def test_a_suspect_output_left_in_place_by_a_crash_is_quarantined_at_the_next_start(  # type: ignore[no-untyped-def]
        make_project) -> None:
    """The scheduler commits a cord's turn (halt, suspect outputs) and is killed before it moves
    the files: the next start finds the suspect outputs nobody disposed of and does it then; a
    move that happened just before the crash, unrecorded, is recorded."""
    from andon.engine.core import handle, replay
    from andon.events import OutputSuspect
    from andon.live.service import Service
    from andon.store.sql import Store

    root, clock, live = made_then_stopped(make_project)
    report = root / f"out/report/{DAY}.csv"
    mail = root / f"out/mail/{DAY}"
    content = report.read_text()

    # what the killed scheduler had committed: the pull and everything its turn decided
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    graph = live.project.graph
    state = replay(graph, store.iter_events())
    pull = Service(graph, store, root).cord_pull("orders", DAY, "bad rows", clock.now(), "test")
    turn = [pull, *handle(graph, state, pull, clock.now()).events]
    suspects = [e for e in turn if isinstance(e, OutputSuspect) and e.action != "keep"]
    assert {e.asset for e in suspects} == {"report", "mail"}
    store.append(turn)
    store.close()
    # ... and the mail folder had been deleted just before the crash, unrecorded
    import shutil
    shutil.rmtree(mail)

    again = open_live(root, clock, executor="inprocess")
    try:
        again.wait_for(lambda log: of(log, OutputQuarantined), "the quarantine after the restart")
        assert again.runner.drain()
        (moved,) = of(again.log, OutputQuarantined)
        assert moved.asset == "report" and not report.exists()
        assert Path(moved.quarantine_path).read_text() == content
        assert [e.asset for e in of(again.log, OutputDeleted)] == ["mail"]
        cord_id = pull.cord_id
        states = {o["asset"]: o["state"] for o in again.store.cord_outputs(cord_id)}
        assert states["report"] == "quarantined" and states["mail"] == "deleted"
    finally:
        again.close()

    # a third start disposes of nothing again
    third = open_live(root, clock, executor="inprocess")
    try:
        assert third.runner.drain()
        assert of(third.log, OutputQuarantined) == [] and of(third.log, OutputDeleted) == []
    finally:
        third.close()

