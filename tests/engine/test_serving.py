"""``andon.serving`` inputs in the pure core: a run reads the artifact of the version that serves
when it starts, waits while none does, is not re-run by a new promotion, and a cord on the
serving version halts its readers until a promotion of another version lets them go."""

from __future__ import annotations

from datetime import timedelta

from andon.engine.cords import CordStatus
from andon.events import CordReleased, RunQueued, RunStarted
from andon.events.models import ModelPromoted
from andon.events.serving import CordServingMoved
from andon.model.definitions import Input
from andon.model.partitions import Serving
from tests.engine.cordlib import cord, of_type, pull
from tests.engine.harness import Line, graph, pipe, rebuilt, restart, source

D1, D2, D3, D4 = "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"
SERVED = Input("model", Serving("m", "model"))


def _line() -> Line:
    g = graph([source("raw")], [
        pipe("train", ["raw"], ["model"], models=("m",)),
        pipe("score", ["raw", SERVED], ["scores"]),
        pipe("report", ["scores", SERVED], ["report"])])
    return Line(g)


def _promote(line: Line, version: int, rollback: bool = False) -> ModelPromoted:
    run_id = line.state.serving.versions["m"][version - 1].run_id
    event = ModelPromoted(id=f"promo:{len(line.log)}", at=line.now, model="m", version=version,
                          run_id=run_id, by="test", rollback=rollback)
    line.send(event)
    return event


def _started(line: Line, pipeline: str, key: str) -> list[RunStarted]:
    return [e for e in of_type(line.log, RunStarted) if e.pipeline == pipeline
            and e.partition == key]


def _day(line: Line, key: str) -> None:
    line.now += timedelta(hours=1)
    line.notify("raw", key)
    line.run_all()


def test_nothing_reads_a_model_before_a_version_serves_then_the_promoted_one() -> None:
    line = _line()
    _day(line, D1)
    assert [v.run_id for v in line.state.serving.versions["m"]] == ["train:2026-01-01:1"]
    assert not _started(line, "score", D1)  # waits: no version serves
    assert line.state.serving.waiting["m"] == {("score", D1)}
    _promote(line, 1)
    line.run_all()
    (run,) = _started(line, "score", D1)
    assert run.inputs[-1].asset == "model" and run.inputs[-1].partition == D1
    (rep,) = _started(line, "report", D1)
    assert rep.inputs[-1] == run.inputs[-1]
    assert not line.state.serving.waiting


def test_a_new_promotion_does_not_rerun_what_succeeded_but_the_next_partition_reads_it() -> None:
    line = _line()
    _day(line, D1)
    _promote(line, 1)
    line.run_all()
    _day(line, D2)  # train D2 makes version 2; score D2 reads version 1, still serving
    (score2,) = _started(line, "score", D2)
    assert (score2.inputs[-1].partition, score2.inputs[-1].version) == (D1, 1)
    before = len(of_type(line.log, RunQueued))
    _promote(line, 2)
    line.run_all()
    assert len(of_type(line.log, RunQueued)) == before  # yesterday's scores stay as they are
    _day(line, D3)
    (score3,) = _started(line, "score", D3)
    assert score3.inputs[-1].partition == D2
    _promote(line, 1, rollback=True)  # a rollback changes what the next partition reads
    _day(line, D4)
    assert _started(line, "score", D4)[0].inputs[-1].partition == D1
    rebuilt(line)


def test_candidate_is_the_newest_version_never_promoted() -> None:
    from andon.engine.serving import candidates

    line = _line()
    _day(line, D1)
    _promote(line, 1)
    assert candidates(line.graph, line.state, "score") == {}
    _day(line, D2)
    number, ref = candidates(line.graph, line.state, "score")["m"]
    assert (number, ref.partition) == (2, D2)
    _promote(line, 2)
    assert candidates(line.graph, line.state, "score") == {}


def _cord_on_serving(line: Line) -> str:
    _day(line, D1)
    _promote(line, 1)
    line.run_all()
    _day(line, D2)
    _promote(line, 2)
    _day(line, D3)  # score and report D3 read version 2 (model D2)
    cord_id, _ = pull(line, "model", D2, "version 2 predicts nonsense")
    return cord_id


def test_a_cord_on_the_serving_version_halts_its_readers_and_holds_new_ones() -> None:
    line = _line()
    cord_id = _cord_on_serving(line)
    halts = set(cord(line, cord_id).halts)
    assert {("train", D2), ("score", D3), ("report", D3)} <= halts
    assert ("score", D1) not in halts  # read version 1
    _day(line, D4)  # train D4 runs; score D4 would read version 2: held
    assert _started(line, "train", D4)
    assert not _started(line, "score", D4)


def test_a_rollback_settles_the_cord_and_the_readers_rerun_with_the_previous_version() -> None:
    line = _line()
    cord_id = _cord_on_serving(line)
    _day(line, D4)
    _promote(line, 1, rollback=True)
    # nothing reads the bad version but as the serving one: out of service, the cord is settled
    (released,) = of_type(line.log, CordReleased)
    assert released.id == f"released:{cord_id}"
    assert {(p.pipeline, p.partition) for p in released.rerun} == {("score", D3), ("report", D3)}
    assert not of_type(line.log, CordServingMoved)
    line.run_all()
    for key in (D3, D4):
        assert _started(line, "score", key)[-1].inputs[-1].partition == D1
        assert _started(line, "report", key)[-1].inputs[-1].partition == D1
    assert _started(line, "score", D3)[-1].run_id == "score:2026-01-03:2"
    assert cord(line, cord_id).status is CordStatus.RECOVERED  # its re-runs are done
    assert not line.state.cords.halted
    state = rebuilt(line)
    again, out = restart(line.graph, line.log, line.now)
    assert out.events == [] and again.cords.owed == {}
    assert state.serving == line.state.serving


def test_a_promotion_lets_the_serving_readers_go_while_a_direct_reader_stays_halted() -> None:
    g = graph([source("raw")], [
        pipe("train", ["raw"], ["model"], models=("m",)),
        pipe("score", ["raw", SERVED], ["scores"]),
        pipe("audit", ["model"], ["audited"])])  # reads the version's own partition
    line = Line(g)
    _day(line, D1)
    _promote(line, 1)
    line.run_all()
    _day(line, D2)  # score D2 reads version 1 (model D1)
    cord_id, _ = pull(line, "model", D1)
    assert {("score", D1), ("score", D2), ("audit", D1)} <= set(line.state.cords.halted)
    promo = _promote(line, 2)
    (moved,) = of_type(line.log, CordServingMoved)
    assert moved.id == f"serving:{cord_id}:{promo.id}"
    assert {(p.pipeline, p.partition) for p in moved.rerun} == {("score", D1), ("score", D2)}
    assert cord(line, cord_id).status.open  # the bad partition's direct reader stays halted
    assert ("audit", D1) in line.state.cords.halted
    assert not any(k[0] == "score" for k in line.state.cords.halted)
