"""`andon model` as a user runs it: over HTTP while `andon up` runs (the new versions of a
manual model wait for a person), then on the store with none."""

from __future__ import annotations

import json

from tests.cli.test_commands import _wait_for, andon, andon_up
from tests.conftest import ProjectFactory
from tests.models.projects import land, training_project


def _model(root):  # type: ignore[no-untyped-def]
    return json.loads(andon(root, "model", "show", "churn", "--json").stdout)


def test_andon_model_over_http_and_offline(make_project: ProjectFactory) -> None:
    root = training_project(make_project)
    for day, auc in (("2026-01-02", 0.8), ("2026-01-03", 0.9), ("2026-01-04", 0.85)):
        land(root, day, alpha=auc, metrics={"auc": auc})
    with andon_up(root, "--executor", "inprocess"):
        andon(root, "notify", "raw", "2026-01-02")
        andon(root, "notify", "raw", "2026-01-03")
        _wait_for(lambda: _model(root)["version_count"] == 2)
        assert _model(root)["serving"] == 0  # deploy = "manual": nothing promoted
        listing = andon(root, "model", "list").stdout
        assert listing.split("\n")[1].split() == ["churn", "train", "manual", "2", "2", "-"]
        assert json.loads(andon(root, "model", "list", "--json").stdout)["models"][0][
            "versions"] == 2
        done = andon(root, "model", "promote", "churn", "1", "--reason", "baseline")
        assert done.stdout.strip() == "churn: version 1 serving (was none)"
        andon(root, "model", "promote", "churn", "2")
        shown = andon(root, "model", "show", "churn").stdout
        assert "* 2" in shown and "auc=0.9" in shown and "alpha=0.9" in shown
        assert "promoted 1 (from none) by local" in shown and ": baseline" in shown

        bad = andon(root, "model", "promote", "churn", "9", check=False)
        assert bad.returncode == 2 and "no version 9" in bad.stderr and "1 to 2" in bad.stderr
        bad = andon(root, "model", "show", "chrun", check=False)
        assert bad.returncode == 2 and "did you mean 'churn'" in bad.stderr

    # without a server the same commands read and write the store
    assert not (root / ".andon/server.json").exists()
    done = andon(root, "model", "rollback", "churn", "--reason", "worse in prod")
    assert done.stdout.strip() == "churn: rolled back to version 1 (was 2)"
    again = _model(root)
    assert again["serving"] == 1 and again["rollback_to"] == 0
    assert [p["rollback"] for p in again["promotions"]] == [False, False, True]
    bad = andon(root, "model", "rollback", "churn", check=False)
    assert bad.returncode == 2 and "no version to roll back to" in bad.stderr
    bad = andon(root, "model", "promote", "churn", "1", check=False)
    assert bad.returncode == 2 and "serves already" in bad.stderr
