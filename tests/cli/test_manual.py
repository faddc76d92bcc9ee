"""`andon manual` as a user runs it, on a project whose pipeline fails the same way on two days:
over HTTP while `andon up` runs, then on the store with none; the hint in `andon runs` and
`andon logs`; the export."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_commands import _wait_for, andon, andon_up

FAILING = """
    import andon
    andon.source("raw")

    @andon.pipeline(inputs=["raw"], outputs=["out"])
    def fetch(ctx):
        day = int(ctx.partition[-2:])
        raise TimeoutError(f"timed out after {day * 10}s fetching https://crm.example.com/x")
"""
NOTE = "raised the export timeout to 120s"


def _failed(root: Path) -> list[dict[str, object]]:
    return json.loads(andon(root, "runs", "--json", "--status", "failed").stdout)


def test_the_manual_over_http_and_offline(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = make_project(FAILING)
    with andon_up(root, "--executor", "inprocess"):
        andon(root, "notify", "raw", "2026-01-02")
        andon(root, "notify", "raw", "2026-01-03")
        _wait_for(lambda: len(_failed(root)) == 2)
        (entry,) = json.loads(andon(root, "manual", "--json").stdout)["entries"]
        assert entry["kind"] == "failure" and entry["pipelines"] == ["fetch"]
        assert sorted(o["partition"] for o in entry["occurrences"]) == ["2026-01-02",
                                                                         "2026-01-03"]
        listing = andon(root, "manual").stdout
        assert listing.startswith("failure:") and entry["id"] in listing
        shown = andon(root, "manual", "show", entry["id"]).stdout
        assert entry["title"] in shown and "seen 2 times" in shown and "not fixed yet" in shown

        near = entry["id"][:-1] + ("0" if entry["id"][-1] != "0" else "1")
        bad = andon(root, "manual", "resolve", near, "--note", "x", check=False)
        assert bad.returncode == 2 and entry["id"] in bad.stderr and "hint" in bad.stderr
        done = andon(root, "manual", "resolve", entry["id"], "--note", NOTE, "--link",
                     "https://git.example.com/pr/12", "--commit", "abc1234")
        assert done.stdout.startswith(f"resolved {entry['id']}")

        assert "last fixed by" not in andon(root, "runs").stdout  # those failed before the fix
        andon(root, "notify", "raw", "2026-01-04")
        _wait_for(lambda: len(_failed(root)) == 3)
        runs = andon(root, "runs").stdout
        assert "seen 3 times since" in runs
        assert f"last fixed by: {NOTE} (https://git.example.com/pr/12)" in runs
        run_id = str(_failed(root)[0]["run_id"])
        assert run_id.startswith("fetch:2026-01-04")
        logs = andon(root, "logs", run_id)
        assert f"last fixed by: {NOTE}" in logs.stderr and NOTE not in logs.stdout
        review = json.loads(andon(root, "manual", "review", "--days", "7", "--json").stdout)
        assert [(r["entry"], r["count"]) for r in review["rows"]] == [(entry["id"], 3)]
        assert "reactive share" in andon(root, "manual", "review").stdout

    # without a server the same commands read the store
    assert not (root / ".andon/server.json").exists()
    (again,) = json.loads(andon(root, "manual", "--json").stdout)["entries"]
    assert again["id"] == entry["id"] and [r["note"] for r in again["resolutions"]] == [NOTE]
    assert json.loads(andon(root, "manual", "--json", "--kind", "cord").stdout) == {
        "entries": []}
    assert json.loads(andon(root, "manual", "--json", "--since", "2999-01-01").stdout) == {
        "entries": []}
    assert "last fixed by" in andon(root, "logs", run_id).stderr
    second = andon(root, "manual", "resolve", entry["id"], "--note", "and retried it")
    assert second.returncode == 0
    assert len(json.loads(andon(root, "manual", "show", entry["id"], "--json").stdout)[
        "resolutions"]) == 2

    out = tmp_path / "manual"
    andon(root, "manual", "export", "--format", "html", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".andon-manual-export", "index.html", f"{entry['id']}.html"])
    assert f'href="{entry["id"]}.html"' in (out / "index.html").read_text()
    # a previous export is replaced whole: its pages go
    andon(root, "manual", "export", "--format", "markdown", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".andon-manual-export", "index.md", f"{entry['id']}.md"])
    assert NOTE in (out / f"{entry['id']}.md").read_text()

    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    refused = andon(root, "manual", "export", str(other), check=False)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert sorted(p.name for p in other.iterdir()) == ["mine.txt"]
    andon(root, "manual", "export", "--force", str(other))
    assert (other / "mine.txt").read_text() == "keep me" and (other / "index.md").exists()
