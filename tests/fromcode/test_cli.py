"""``andon materialize`` and ``andon run`` / ``backfill --wait``, as a CI job runs them: the real
console script, with a real ``andon up`` and without one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_commands import andon, andon_up
from tests.conftest import ProjectFactory
from tests.fromcode.projects import BOOM, EMPTY, GOOD, PIPELINES


def _project(make_project: ProjectFactory, days: dict[str, str],
             definitions: str = PIPELINES) -> Path:
    root = make_project(definitions, extra='[settings]\nexecutor = "inprocess"\n')
    for key, text in days.items():
        path = root / f"data/raw/{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_materialize_plain_lines_and_exit_codes(make_project: ProjectFactory) -> None:
    root = _project(make_project, {"2026-01-05": GOOD, "2026-01-06": BOOM})
    good = andon(root, "materialize", "--partition", "2026-01-05")
    assert good.stdout == "2 partition(s) made, 0 failed, 0 never ran\n"
    assert "clean 2026-01-05 attempt 1: succeeded (1/2)" in good.stderr  # no terminal: lines
    bad = andon(root, "materialize", "--partition", "2026-01-05", "--partition", "2026-01-06",
                check=False)
    assert bad.returncode == 1
    assert "clean 2026-01-06 attempt 2: failed (ValueError: boom in the data)" in bad.stderr
    assert not (root / ".andon").exists()  # a temporary store


def test_materialize_json_with_a_source_file_and_a_cord(make_project: ProjectFactory,
                                                        tmp_path: Path) -> None:
    root = _project(make_project, {})
    empty = tmp_path / "empty.csv"
    empty.write_text(EMPTY)
    proc = andon(root, "materialize", "--partition", "2026-01-07", "--source",
                 f"raw:2026-01-07={empty}", "--json", check=False)
    assert proc.returncode == 1 and "blocking check row_count failed" in proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False and data["runs"] == []
    assert data["checks"][0]["passed"] is False and data["cords"][0]["name"] == "cord.pulled"
    assert (root / "data/raw/2026-01-07.csv").read_text() == EMPTY


def test_run_and_backfill_wait_without_a_scheduler(make_project: ProjectFactory) -> None:
    root = _project(make_project, {"2026-01-05": GOOD, "2026-01-06": BOOM})
    andon(root, "notify", "raw", "2026-01-05")
    andon(root, "notify", "raw", "2026-01-06")
    # the data was announced with no scheduler, so its blocking check never ran: --wait runs it
    ran = andon(root, "run", "report", "--partition", "2026-01-05", "--wait")
    assert ran.stdout.startswith("report 2026-01-05: succeeded")
    assert "cleaning 2026-01-05" in ran.stderr  # what in-process runs print stays off stdout
    back = andon(root, "backfill", "clean", "--from", "2026-01-05", "--to", "2026-01-07",
                 "--wait", check=False)
    assert back.returncode == 1
    assert "clean 2026-01-05: succeeded" in back.stdout
    assert "clean 2026-01-06: failed" in back.stdout and "boom in the data" in back.stdout
    assert "clean 2026-01-07: never ran" in back.stdout
    assert "2 of 3 partition(s) were not made" in back.stderr


def test_run_and_backfill_wait_on_a_running_andon_up(make_project: ProjectFactory) -> None:
    root = _project(make_project, {"2026-01-05": GOOD, "2026-01-06": BOOM},
                    PIPELINES.replace("retries=1", "retries=0"))
    with andon_up(root):
        andon(root, "notify", "raw", "2026-01-05")
        ran = andon(root, "run", "clean", "--partition", "2026-01-05", "--wait")
        assert ran.stdout.startswith("clean 2026-01-05: succeeded (clean:2026-01-05:")
        andon(root, "notify", "raw", "2026-01-06")
        back = andon(root, "backfill", "report", "--from", "2026-01-05", "--to", "2026-01-05",
                     "--wait")
        assert back.stdout.startswith("report 2026-01-05: succeeded")
        failed = andon(root, "run", "clean", "--partition", "2026-01-06", "--wait",
                       check=False)
        assert failed.returncode == 1
        assert "clean 2026-01-06: failed (clean:2026-01-06:" in failed.stdout
        assert "ValueError: boom in the data" in failed.stdout
        stuck = andon(root, "run", "clean", "--partition", "2026-01-09", "--wait",
                      "--timeout", "1", check=False)
        assert stuck.returncode == 3 and "did not end within --timeout" in stuck.stderr
