"""Hostile snapshot rows and settings: a row forged or damaged in the database (a zlib bomb,
JSON nested beyond reason, shapes that do not fit the engine state, a consistent SHA-256) is
never used, and start-up replays the log instead; ``snapshot_every`` out of range is refused at
load time with the fix."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from sqlalchemy import update

from andon.live import snapshots as live_snapshots
from andon.model.errors import ConfigError
from andon.project.settings import resolve
from andon.store import snapshots as stored
from andon.store.schema import snapshots
from tests.conftest import ProjectFactory
from tests.engine.harness import snapshot
from tests.runner.test_snapshots import PIPELINES, _decided, _keeper, _made, _replayed


def _forge(root: Path, body: bytes) -> None:
    keeper, store = _keeper(root)
    with store._write() as conn:
        conn.execute(update(snapshots).where(snapshots.c.part == stored.STATE).values(
            body=body, sha256=stored.sha256(body)))
    store.close()


@pytest.mark.parametrize("body", [
    zlib.compress(b"[" * 100_000 + b"]" * 100_000),  # nesting that would blow the stack
    zlib.compress(json.dumps({"engine": {"runs": [[1, 2]]}, "plan": {}, "departed": []}).encode()),
    zlib.compress(json.dumps({"engine": {}, "plan": {"stats": "x"}, "departed": []}).encode()),
    zlib.compress(json.dumps({"engine": {}, "plan": {}, "departed": ["2026-01-01"]}).encode()),
    b"\x78\x9c" + b"\x00" * 20,  # not a deflate stream
    zlib.compress(b" " * 5_000_000),  # a bomb, against the lowered limit below
])
def test_a_forged_snapshot_row_is_never_used(make_project: ProjectFactory, body: bytes,
                                             monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    root = make_project(PIPELINES)
    now = _made(root, 12)
    keeper, store = _keeper(root)
    keeper.snapshot(_decided(keeper, now), now, background=False)
    store.close()
    _forge(root, body)
    monkeypatch.setattr(live_snapshots, "MAX_SNAPSHOT_BYTES", 1_000_000)

    keeper, store = _keeper(root)
    state = keeper.load()

    assert keeper.loaded_from == 0 and "cannot be used" in caplog.text
    assert snapshot(state) == snapshot(_replayed(root))
    store.close()


@pytest.mark.parametrize("value", ["5", "-1", "99999999999", "many"])
def test_snapshot_every_out_of_range_is_refused_with_the_fix(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="snapshot_every") as caught:
        resolve(tmp_path, {}, {"ANDON_SNAPSHOT_EVERY": value}, {})
    assert "snapshot_every" in (caught.value.hint or str(caught.value))
