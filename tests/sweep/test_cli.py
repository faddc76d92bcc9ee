"""`andon deprecate`, `andon deprecations` and `andon sweep [--apply]` as a user runs them (real
subprocesses, no scheduler running): refusals exit 2 with the reason and the fix, the dry run
changes nothing, --apply deletes and records, a read after the notice blocks (exit 1)."""

from __future__ import annotations

import json

from andon.live.offline import submit
from andon.live.service import Service
from andon.project.load import load_project
from andon.store.sql import Store
from tests.cli.test_commands import andon
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import PIPELINES

T0 = utc(2026, 3, 1, 9)  # long before the tests run: the date below has passed


def test_the_commands(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    for asset in ("spare", "legacy"):
        path = root / f"data/{asset}/2026-02-27.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a,b\n1,2\n")
        andon(root, "notify", asset, "2026-02-27")

    past = andon(root, "deprecate", "spare", "--delete-after", "2026-01-01", "--reason", "x",
                 check=False)
    assert past.returncode == 2 and "in the past" in past.stderr and "hint:" in past.stderr
    soon = andon(root, "deprecate", "spare", "--delete-after", "2099-01-01", "--reason", "x",
                 "--json")
    assert json.loads(soon.stdout)["delete_after"] == "2099-01-01"
    listing = andon(root, "deprecations").stdout
    assert "spare" in listing and "deprecated" in listing

    # notices recorded long ago, as `andon deprecate` would have on that day
    project = load_project(root)
    svc = Service(project.graph, Store(f"sqlite:///{root}/.andon/andon.db"), root)
    svc.lifecycle.policy = project.sweep
    for name in ("spare", "legacy"):
        submit(project.graph, svc.store,
               [svc.lifecycle.deprecate_event(name, "2026-03-20", "old feed", T0, by="ops")], T0)
    # summarise reads legacy again, now: after its notice
    (root / "data/legacy/2026-02-28.csv").write_text("a\n")
    andon(root, "notify", "legacy", "2026-02-28")

    dry = andon(root, "sweep", check=False)
    assert dry.returncode == 1  # blocked: something read after the notice
    assert "data/spare/2026-02-27.csv" in dry.stdout and "dry run" in dry.stdout
    assert "blocked dataset legacy: summarise read legacy" in dry.stderr
    assert (root / "data/spare/2026-02-27.csv").exists()
    plan = json.loads(andon(root, "sweep", "--json", check=False).stdout)
    assert [d["location"] for d in plan["deletions"]] == ["data/spare/2026-02-27.csv"]

    done = andon(root, "sweep", "--apply", check=False)
    assert done.returncode == 1 and "removed 1 file(s)" in done.stdout
    assert "deleted dataset spare" in done.stdout
    assert not (root / "data/spare/2026-02-27.csv").exists()
    assert (root / "data/legacy/2026-02-27.csv").exists()  # blocked: kept
    states = {d["object"]: d["state"] for d in
              json.loads(andon(root, "deprecations", "--json").stdout)["deprecations"]}
    assert states == {"spare": "deleted", "legacy": "frozen"}
