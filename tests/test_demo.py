"""`andon demo` end to end: real processes, real files, an accelerated clock."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from andon.audit.findings import audit
from andon.cli.local import LocalClient
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.demo_story import RESOLUTION_LINK, RESOLUTION_NOTE

ANDON = str(Path(sys.executable).with_name("andon"))
NARRATED = re.compile(r"\d\d-\d\d \d\d:\d\d  \S")  # a narration line: the simulated time, then


def _order(lines: list[str], *patterns: str) -> list[int]:
    """The index of the first line matching each pattern, each after the one before (fails
    naming the pattern not found in that order)."""
    found, start = [], 0
    for pattern in patterns:
        at = next((i for i in range(start, len(lines)) if re.search(pattern, lines[i])), None)
        assert at is not None, f"no line matching {pattern!r} after line {start}:\n" + \
            "\n".join(lines)
        found.append(at)
        start = at + 1
    return found


def test_demo_makes_every_partition_and_exits(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = subprocess.run([ANDON, "demo", str(target), "--speed", "100000", "--days", "3",
                           "--port", "0", "--exit-when-done"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the order export came cut short on two days: three attempts each, then re-made from the
    # re-delivered file
    assert "done: 36 partitions made, 6 failed run(s)" in proc.stdout
    assert "cut short on 2026-01-06 and 2026-01-07" in proc.stdout
    assert "dashboard: http://127.0.0.1:" in proc.stdout
    report = (target / "data/report/2026-01-07.md").read_text()
    assert report.startswith("# Retail report 2026-01-07") and "revenue: EUR" in report
    model = json.loads((target / "data/model/2026-01-07.json").read_text())
    assert model["days"] == 3 and 0.0 <= model["train_accuracy"] <= 1.0
    # the sources really landed as files and were announced through the watcher or notify
    status = subprocess.run([ANDON, "--project", str(target), "status", "--json"],
                            capture_output=True, text=True, timeout=60)
    data = json.loads(status.stdout)
    assert {s["name"]: s["partitions"] for s in data["sources"]} == {
        "bought": 3, "fx_rates": 3, "raw_clickstream": 3, "raw_orders": 3}
    assert all(p["partitions"]["succeeded"] == 3 for p in data["pipelines"])
    # the catalog: a model that train versions, a service and a library the pipelines use and
    # an external data set with its access
    found = {}
    for kind, name in (("model", "buy_tomorrow"), ("service", "fx_rates_api"),
                       ("library", "numpy"), ("dataset", "crm_contacts")):
        search = subprocess.run([ANDON, "--project", str(target), "search", name, "--kind", kind,
                                 "--json"], capture_output=True, text=True, timeout=60)
        hit = json.loads(search.stdout)["results"][0]
        assert (hit["kind"], hit["name"], hit["url"]) == (kind, name, f"/catalog/{kind}/{name}")
        found[name] = hit
    assert "pii" in found["crm_contacts"]["tags"]
    project = load_project(target)
    local = LocalClient(project, resolve(target, {}, {}, project.settings_table))
    try:
        catalog, now = local.service.catalog, datetime.now(UTC)
        model = catalog.view("model", "buy_tomorrow", now)
        assert (model.producer, model.version_count) == ("train", 3)
        assert [v.partition for v in model.versions or []] == \
            ["2026-01-07", "2026-01-06", "2026-01-05"]
        # what train logged, and the versions its deploy = "auto" put into service
        newest = (model.versions or [])[0]
        assert set(newest.metrics) == {"train_accuracy", "log_loss", "samples"}
        assert newest.params["steps"] == "300" and newest.params["days"] == "3"
        assert model.deploy == "auto" and model.serving == 3
        assert model.promotions and all(p.by == "andon" for p in model.promotions)
        assert catalog.view("service", "fx_rates_api", now).used_by == ["to_eur"]
        assert catalog.view("library", "numpy", now).used_by == ["train"]
        access = catalog.view("dataset", "crm_contacts", now).access
        assert access is not None and access.form is not None  # an access request's form
        assert [f["name"] for f in access.fields()] == ["purpose", "fields"]
        assert access.form["required"] == ["purpose"] and access.link.startswith("https://")
        observed = catalog.view("dataset", "features", now).consumers
        assert observed is not None
        assert {o.pipeline for o in observed.observed} == {"train", "score"}
        # the realised performance: each day's scores against who bought the day after
        shown = local.service.models.show("buy_tomorrow")
        auc = {p.partition: p for p in shown.performance if p.metric == "auc"}
        assert sorted(auc) == ["2026-01-05", "2026-01-06", "2026-01-07"]
        assert all(0.0 <= p.value <= 1.0 and p.version >= 1 for p in auc.values())
        assert shown.threshold == {"auc": 0.6}
        # the recurring failure: one manual entry, seen on both days, resolved once in between
        [entry] = [e for e in local.service.manual.entries(now) if "clean_orders" in e.pipelines]
    finally:
        local.service.store.close()
    assert entry.title.startswith("ValueError: order export <")
    assert sorted((o.partition, o.run_id) for o in entry.occurrences) == [
        ("2026-01-06", "clean_orders:2026-01-06:3"), ("2026-01-07", "clean_orders:2026-01-07:3")]
    [fix] = entry.resolutions
    assert (fix.note, fix.link, fix.by) == (RESOLUTION_NOTE, RESOLUTION_LINK, "demo")
    first, second = sorted(entry.occurrences, key=lambda o: o.partition)
    assert first.at < fix.at < second.at
    # the second failure's hint shows the known fix (`andon runs --json`, as the board's)
    runs = subprocess.run([ANDON, "--project", str(target), "runs", "--pipeline", "clean_orders",
                           "--status", "failed", "--json"], capture_output=True, text=True,
                          timeout=60)
    assert runs.returncode == 0, runs.stderr
    hints = {r["run_id"]: r["hint"] for r in json.loads(runs.stdout)}
    before = hints["clean_orders:2026-01-06:3"]  # nothing was fixed yet when it failed
    assert before is None or before["fix"] is None
    hint = hints["clean_orders:2026-01-07:3"]
    assert (hint["entry"], hint["seen"], hint["fix"]["link"]) == (entry.id, 2, RESOLUTION_LINK)
    assert hint["fix"]["note"] == RESOLUTION_NOTE
    # first seen on the 7th (the 6th's orders arrive the next morning); the note may be cut
    assert hint["text"].startswith(f"seen 2 times since {first.at[:10]}; last fixed by: "
                                   f"{RESOLUTION_NOTE[:40]}")
    assert f"({RESOLUTION_LINK})" in hint["text"]
    # the project ends on the demo's last day: on the real clock, long after it, nothing is
    # upcoming, due or at risk (not a row of days whose data never comes)
    assert 'end = "2026-01-07"' in (target / "andon.toml").read_text()
    plan = subprocess.run([ANDON, "--project", str(target), "plan", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["deliverables"] == []
    plan = subprocess.run([ANDON, "--project", str(target), "plan"],
                          capture_output=True, text=True, timeout=60)
    assert plan.stderr == ("no upcoming deliverables (the project ended on 2026-01-07: "
                           "[project] end in andon.toml)\n")
    # a second demo in the same folder starts afresh
    again = subprocess.run([ANDON, "demo", str(target), "--speed", "100000", "--days", "1",
                            "--port", "0", "--exit-when-done"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "done: 12 partitions made" in again.stdout
    toml = (target / "andon.toml").read_text()
    assert 'end = "2026-01-05"' in toml and toml.count("end = ") == 1


def test_a_previous_demo_folder_gets_the_example_again(tmp_path: Path) -> None:
    from andon.serve.demo import MARKER, prepare

    target = tmp_path / "demo"
    prepare(target)
    (target / "catalog.toml").unlink()  # as an older andon wrote it: no catalog
    (target / "andon.toml").write_text("# an older example\n")
    (target / "data").mkdir()
    (target / "data" / "old.csv").write_text("x\n")
    prepare(target)
    assert (target / MARKER).exists() and not (target / "data").exists()
    assert "crm_contacts" in (target / "catalog.toml").read_text()
    assert "an older example" not in (target / "andon.toml").read_text()


def test_the_customers_shift_drift_pulls_the_cord_on_the_model_and_retraining_recovers(
        tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = subprocess.run([ANDON, "demo", str(target), "--speed", "100000", "--days", "5",
                           "--port", "0", "--exit-when-done"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    told = next(line for line in proc.stdout.splitlines() if line.startswith("customers changed"))
    assert told.startswith("customers changed on 2026-01-08: the features drifted red")
    # the story, narrated as it happened, each line with its simulated time and the page to see
    lines = proc.stdout.splitlines()
    narrated = [line for line in lines if NARRATED.match(line)]
    assert narrated and all(re.search(r"  -> /\S*$", line) for line in narrated)
    # the late export: the planner flags the morning at risk hours before it is due, the warned
    # owner restarts the export, it lands and the morning is back on plan
    warned = _order(lines, r"^01-06 \d\d:\d\d  raw_orders 01-05 is \S+ late: at risk on 01-05: "
                           r"score \(projected \d\d:\d\d(:\d\d)? vs due 07:00, \S+ ahead\).*"
                           r"-> /deliveries$",
                    r"  raw_orders 01-05 landed \S+ late", r"  back on plan on 01-05: score")
    # the lead, from the narrated simulated times (the line's stamp and the due time it names)
    at = re.match(r"01-06 (\d\d):(\d\d)  ", lines[warned[0]])
    assert at is not None
    said = re.search(r"score \(projected [^)]* vs due 07:00, (\d+h)?(\d+)m ahead\)",
                     lines[warned[0]])
    assert said is not None
    lead = 7 * 60 - (int(at[1]) * 60 + int(at[2]))
    assert lead >= 60, lines[warned[0]]  # an hour or more before the due time
    assert abs(int((said[1] or "0h")[:-1]) * 60 + int(said[2]) - lead) <= 1  # as it says
    # the bad partition: its blocking check pulls the cord, the consumers halt, the on-call
    # person resolves it and treasury sends the day again: released and re-made by itself
    _order(lines, r"  andon cord pulled on fx_rates 01-07 \(version 1\) by check plausible_rates: "
                  r"rate_to_eur: 1 outside.* -> /cords/fx_rates:2026-01-07:check-v1$",
           r"  halted downstream of fx_rates 01-07, red on the board: to_eur 01-07.* -> /$",
           r"  cord on fx_rates 01-07 resolved by demo", r"  fx_rates 01-07 delivered again",
           r"  cord on fx_rates 01-07 released \(version 2 passed its checks\).*by itself",
           r"  cord on fx_rates 01-07 recovered", r"  back on plan on 01-07: daily_sales")
    # the recurring failure and its fix in the manual, then the drift story, then the waste
    _order(lines, r"  clean_orders 01-06 failed for good after 3 attempt\(s\): ValueError: order "
                  r"export .* -> /runs/clean_orders:2026-01-06:3$",
           r"  the fix was written into the operations manual: .* -> /manual/\w+$",
           r"  raw_orders 01-06 delivered again \(version 2\)",
           r"  clean_orders 01-09 failed for good")
    drift = _order(lines, r"  andon cord pulled on model \S+ \(version \d+\) by check "
                          r"buy_tomorrow.drift: model buy_tomorrow version \d+: features",
                   r"  buy_tomorrow version \d+ promoted by andon  -> /catalog/model/buy_tomorrow$",
                   r"  cord on model \S+ released \(that version no longer serves\)",
                   r"  cord on model \S+ recovered")
    waste = _order(lines, r"^waste: ")
    assert waste[0] > max(drift) and waste[0] > max(i for i, line in enumerate(lines)
                                                   if NARRATED.match(line))
    project = load_project(target)
    local = LocalClient(project, resolve(target, {}, {}, project.settings_table))
    try:
        svc = local.service
        # the drift: views moved on the 8th, from what the serving version trained on
        report = svc.drift.report("features", "2026-01-08", "buy_tomorrow", 3)
        bands = {c.name: c.band for c in report.columns}
        assert bands["views"] == "red" and report.red
        # each red drift pulled the cord on the version serving then; each one recovered once
        # a retrained version was promoted (scoring and report re-made with it)
        with svc.store.read() as conn:
            from sqlalchemy import select

            from andon.store.schema import events
            log = [json.loads(r.payload) for r in conn.execute(
                select(events.c.payload).where(events.c.type.in_(
                    ["cord.pulled", "cord.recovered", "check.failed"])).order_by(events.c.seq))]
        pulled = [e for e in log if e["type"] == "cord.pulled"
                  and e["by"] == "check:buy_tomorrow.drift"]
        assert pulled and all(e["asset"] == "model" for e in pulled)
        recovered = {e["cord_id"] for e in log if e["type"] == "cord.recovered"}
        assert {e["cord_id"] for e in pulled} <= recovered
        failed = next(e for e in log if e["type"] == "check.failed"
                      and e["check"] == "buy_tomorrow.drift")
        assert "views PSI" in failed["message"] and "(red)" in failed["message"]
        # the old model scoring the day before the shift: its realised AUC fell under 0.6
        auc = {p.partition: p.value for p in svc.models.show("buy_tomorrow").performance
               if p.metric == "auc"}
        assert auc["2026-01-06"] > 0.8 and auc["2026-01-07"] < 0.6
        # the waste planted in the example, found by the audit judged at the demo's end (as
        # the board's Audit page judged it while the demo ran)
        found = audit(svc.store, project.graph, project.audit, datetime(2026, 1, 10, tzinfo=UTC))
    finally:
        local.service.store.close()
    planted = {("duplicate_data", "orders_bi_copy"), ("data_deluge", "sessions_debug"),
               ("backup_not_drilled", "daily_sales_backup")}
    assert planted <= {(f.kind, f.object) for f in found}
    closing = next(line for line in proc.stdout.splitlines() if line.startswith("waste: "))
    assert all(kind in closing for kind, _ in planted) and " EUR a month; the audit: " in closing
    assert closing.endswith("/audit")
    # `andon audit --json`, on the real clock: what does not age is found whenever it is asked
    # (the debug dump is data no one read, of one kind or another)
    out = subprocess.run([ANDON, "--project", str(target), "audit", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    kinds = {(f["kind"], f["object"]) for f in json.loads(out.stdout)["findings"]}
    assert {("duplicate_data", "orders_bi_copy"), ("backup_not_drilled", "daily_sales_backup")} \
        <= kinds
    assert {k for k, obj in kinds if obj == "sessions_debug"} & {"data_deluge", "unused_data"}


def test_the_demo_without_its_extra_says_what_to_install(tmp_path: Path) -> None:
    # numpy cannot be imported in the demo's process (a meta path finder on PYTHONPATH that
    # refuses it, as on an install without the demo extra): it stops before writing anything
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sys\n\n\nclass NoNumpy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'numpy' or name.startswith('numpy.'):\n"
        "            raise ModuleNotFoundError(f\"No module named {name!r}\", name=name)\n"
        "        return None\n\n\nsys.meta_path.insert(0, NoNumpy())\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(shim), *filter(None, [os.environ.get("PYTHONPATH")])]))
    target = tmp_path / "demo"
    proc = subprocess.run([ANDON, "demo", str(target), "--port", "0", "--exit-when-done"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the demo needs numpy, which cannot be imported" in proc.stderr
    assert "pip install 'andon[demo]'" in proc.stderr
    assert not target.exists()
    # the shim really blocks it (the test would prove nothing otherwise)
    probe = subprocess.run([sys.executable, "-c", "import numpy"], capture_output=True,
                           text=True, timeout=60, env=env)
    assert probe.returncode == 1 and "No module named 'numpy'" in probe.stderr


def test_exit_when_done_exits_listing_the_failures_when_a_pipeline_always_fails(
        tmp_path: Path) -> None:
    # every train run fails: the model, its scores, their report and performance can never be
    # made; once nothing more can run the demo ends, non-zero, naming what failed
    target = tmp_path / "demo"
    proc = subprocess.run([ANDON, "demo", str(target), "--speed", "100000", "--days", "1",
                           "--port", "0", "--exit-when-done", "--break", "train"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "not made: 4 partition(s), nothing more can run; failed for good:\n  train " \
           "2026-01-05: RuntimeError: broken on purpose by `andon demo --break train` (run " \
           "train:2026-01-05:1)\n" in proc.stdout
    assert "done: 8 partitions made, 1 failed run(s)" in proc.stdout
    assert 'raise RuntimeError("broken on purpose' in (target / "pipelines.py").read_text()


def test_break_refuses_a_pipeline_the_demo_does_not_have(tmp_path: Path) -> None:
    proc = subprocess.run([ANDON, "demo", str(tmp_path / "demo"), "--port", "0",
                           "--break", "trian"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--break 'trian': the demo has no pipeline of that name" in proc.stderr
    assert "train" in proc.stderr


def test_the_story_clock_stands_until_it_begins_and_slows_while_runs_execute() -> None:
    from datetime import timedelta

    from andon.events import RunStarted, RunSucceeded
    from andon.serve.demo_clock import StoryClock

    start = datetime(2026, 1, 6, tzinfo=UTC)
    clock = StoryClock(start, speed=36000.0, busy_speed=600.0)
    woken: list[int] = []
    clock.subscribe(lambda: woken.append(1))
    hour = timedelta(hours=1)
    assert clock.now() == start and clock.real_seconds(hour) is None  # standing
    clock.begin()
    assert clock.real_seconds(hour) == 0.1 and len(woken) == 1
    began = clock.now()
    clock.on_events([RunStarted(at=began, run_id="r:1", pipeline="p", partition="k")])
    assert clock.real_seconds(hour) == 6.0 and len(woken) == 2  # a run executes: slower
    clock.on_events([RunStarted(at=began, run_id="r:2", pipeline="p", partition="j")])
    clock.on_events([RunSucceeded(at=began, run_id="r:1", pipeline="p", partition="k")])
    assert clock.real_seconds(hour) == 6.0 and len(woken) == 2  # one still executes
    clock.on_events([RunSucceeded(at=began, run_id="r:2", pipeline="p", partition="j")])
    assert clock.real_seconds(hour) == 0.1 and len(woken) == 3
    assert clock.now() >= began  # a change of pace never moves it back


def test_the_narrator_words_a_late_source_and_groups_a_days_deliverables(tmp_path: Path) -> None:
    import threading
    from datetime import timedelta

    from andon.events import (
        DeliverableAtRisk,
        DeliverableRecovered,
        PartitionAvailable,
        RunFailed,
    )
    from andon.serve.demo import prepare
    from andon.serve.demo_narrator import Narrator

    prepare(tmp_path / "demo")
    graph = load_project(tmp_path / "demo").graph
    changed = threading.Event()
    narrator = Narrator(graph, changed)
    at = datetime(2026, 1, 6, 5, 10, tzinfo=UTC)
    day = "2026-01-05"

    def due(hour: int) -> datetime:
        return datetime(2026, 1, 6, hour, tzinfo=UTC)

    # the other sources landed on time (nothing to tell); the orders did not
    narrator.on_events([PartitionAvailable(id=f"l:{s}", at=datetime(2026, 1, 6, 0, 20, tzinfo=UTC),
                                           asset=s, partition=day, version=1)
                        for s in ("fx_rates", "raw_clickstream")])
    assert narrator.take() == [] and not changed.is_set()
    risk = [DeliverableAtRisk(id=f"r:{p}", at=at, pipeline=p, partition=day, due=due(h),
                              predicted_finish=due(h) + timedelta(seconds=20), reason="x")
            for p, h in (("daily_sales", 6), ("score", 7))]
    narrator.on_events([*risk, RunFailed(id="f", at=at, run_id="clean_orders:2026-01-05:1",
                                         pipeline="clean_orders", partition=day)])
    assert changed.is_set()
    assert narrator.take() == [
        "01-06 05:10  raw_orders 01-05 is 3h10m late: at risk on 01-05: daily_sales (projected "
        "06:00:20 vs due 06:00, 50m ahead), score (projected 07:00:20 vs due 07:00, 1h50m ahead)"
        "  -> /deliveries"]
    later = at + timedelta(minutes=20)
    narrator.on_events([
        PartitionAvailable(id="a", at=later, asset="raw_orders", partition=day, version=1),
        DeliverableRecovered(id="b", at=later, pipeline="daily_sales", partition=day,
                             due=due(6), predicted_finish=due(5) + timedelta(minutes=50))])
    assert narrator.take() == [
        "01-06 05:30  raw_orders 01-05 landed 3h30m late: the line catches up  -> /deliveries",
        "01-06 05:30  back on plan on 01-05: daily_sales (projected 05:50 vs due 06:00)  "
        "-> /deliveries"]
    assert len(narrator.lines) == 3 and narrator.take() == []
