"""`andon plan` as a user runs it: on the store (replaying the log) and over a running `andon up`."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from andon.events import DeliverableAtRisk, Event
from andon.store.sql import Store
from tests.cli.test_commands import ANDON, _wait_for, andon

# yesterday's partition ended at midnight; its source was due a minute later and the deliverable
# two minutes later: it is late now (in the first minutes of a UTC day, _project waits for that)
DEFINITIONS = """
import andon

andon.source("raw", expected_arrival="1m")


@andon.pipeline(inputs=["raw"], outputs=["orders"], deadline="2m", expected_duration="30s",
                owner="orders@example.com")
def clean(ctx):
    ctx.output("orders").write_text("ok\\n")
"""


def _project(make_project) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    """The project and yesterday's partition, late: the commands read the real clock, so in the
    first three minutes of a UTC day this waits until its deliverable is due."""
    now = datetime.now(UTC)
    late_from = now.replace(hour=0, minute=3, second=0, microsecond=0)
    if now < late_from:
        time.sleep((late_from - now).total_seconds())
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    return make_project(DEFINITIONS, start=yesterday), yesterday


def _rows(data: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {d["partition"]: d for d in data["deliverables"] if d["pipeline"] == "clean"}


def test_plan_on_the_store(make_project) -> None:  # type: ignore[no-untyped-def]
    root, yesterday = _project(make_project)
    data = json.loads(andon(root, "plan", "--json").stdout)
    assert data["policy"] == "jit"
    late = _rows(data)[yesterday]
    assert late["at_risk"] is True and late["state"] == "waiting"
    assert late["slack_seconds"] < 0 and late["due"].startswith(
        (datetime.fromisoformat(yesterday) + timedelta(days=1)).date().isoformat() + "T00:02")
    assert f"raw {yesterday} expected at" in late["reason"] and "still missing" in late["reason"]
    today = _rows(data)[datetime.now(UTC).date().isoformat()]
    assert today["at_risk"] is False
    text = andon(root, "plan").stdout
    assert text.splitlines()[0].split() == ["PIPELINE", "PARTITION", "STATE", "START", "FINISH",
                                            "DUE", "SLACK", "RISK", "REASON"]
    assert "AT RISK" in text
    # the data lands (no scheduler runs it yet): the plan no longer waits for it
    andon(root, "notify", "raw", yesterday)
    late = _rows(json.loads(andon(root, "plan", "--json").stdout))[yesterday]
    assert "still missing" not in late["reason"] and late["at_risk"] is True


def test_plan_from_a_running_scheduler(make_project) -> None:  # type: ignore[no-untyped-def]
    root, yesterday = _project(make_project)
    with (root / "up.log").open("w") as log:
        proc = subprocess.Popen([ANDON, "--project", str(root), "up", "--port", "0",
                                 "--policy", "edf"], stdout=log, stderr=log, text=True)
    try:
        _wait_for((root / ".andon/server.json").exists)
        data = json.loads(andon(root, "plan", "--json").stdout)
        assert data["policy"] == "edf"  # the scheduler's own plan, not a replay
        assert _rows(data)[yesterday]["at_risk"] is True
        # the scheduler recorded the warning for the owner when it started
        store = Store(f"sqlite:///{root / '.andon/andon.db'}")
        try:
            def warned() -> list[Event]:
                return [e for _, e in store.events() if isinstance(e, DeliverableAtRisk)
                        and e.partition == yesterday]

            _wait_for(warned)
            assert warned()[0].owner == "orders@example.com"  # type: ignore[attr-defined]
        finally:
            store.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def test_an_unknown_policy_is_a_configuration_error(make_project) -> None:  # type: ignore[no-untyped-def]
    root, _ = _project(make_project)
    (root / "andon.toml").write_text((root / "andon.toml").read_text()
                                     + '\n[settings]\npolicy = "fastest"\n')
    out = andon(root, "plan", check=False)
    assert out.returncode == 2 and "policy 'fastest' is not known" in out.stderr
    assert "hint:" in out.stderr
