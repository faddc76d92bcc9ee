"""A real project on disk and a real SQLite store holding the planted history of
``andon.audit.plant``: every built kind of waste, and its decoys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from andon.audit.plant import Planted, batches, plant, write_project
from andon.project.load import load_project
from andon.store.sql import Store

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
Planter = Callable[..., tuple[Path, Planted]]


@pytest.fixture
def planted(tmp_path: Path) -> Planter:
    """Write the planted project (``copies`` copies, ``extra`` lines added to its ``[audit]``,
    ``end`` its ``[project] end``) and its history up to ``now`` into ``.andon/andon.db``;
    return the project's root and what was planted."""

    def make(copies: int = 2, extra: str = "", now: datetime = NOW,
             end: str = "") -> tuple[Path, Planted]:
        root = tmp_path / "planted"
        root.mkdir()
        write_project(root, copies, extra, end)
        load_project(root)  # the project loads: its definitions are valid
        (root / ".andon").mkdir()
        store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
        events, what = plant(now, copies)
        for batch in batches(events):
            store.append(batch)
        store.close()
        return root, what

    return make
