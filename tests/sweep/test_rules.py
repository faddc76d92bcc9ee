"""The rules alone (pure): keep_last counts a data set's versions across partitions, a file a
kept version uses stays, the notice must precede the date by notice_days, a read after the
notice blocks, one before it does not."""

from __future__ import annotations

from datetime import timedelta

from andon.project.retention import Retention
from andon.store.lifecycle import StoredVersion
from andon.sweep.rules import Notice, Read, deletion_verdict, retained
from tests.conftest import utc

NOW = utc(2026, 6, 1)


def _v(partition: str, version: int, day: int, location: str = "") -> StoredVersion:
    return StoredVersion("model", partition, version, f"2026-05-{day:02d}T00:00:00.000000Z", "",
                         location or f"data/model/{partition}-{version}", 10)


def test_keep_last_counts_versions_across_partitions() -> None:
    versions = [_v("2026-05-01", 1, 1), _v("2026-05-02", 1, 2), _v("2026-05-02", 2, 3),
                _v("2026-05-04", 1, 4)]
    gone = retained(versions, Retention(keep_last=2), NOW, {})
    assert [(v.partition, v.version, why) for v, why in gone] == [
        ("2026-05-02", 1, "keep_last 2"), ("2026-05-01", 1, "keep_last 2")]


def test_a_file_a_kept_version_uses_stays() -> None:
    shared = "data/model/all.pkl"
    versions = [_v("all", 1, 1, shared), _v("all", 2, 2, shared), _v("all", 3, 3, "other")]
    assert retained(versions, Retention(keep_last=2), NOW, {}) == []  # v1's file is v2's
    assert [v.version for v, _ in retained(versions, Retention(keep_last=1), NOW, {})] == [2, 1]


def test_a_recent_read_keeps_old_data() -> None:
    old = _v("2026-05-01", 1, 1)
    rule = Retention(max_age=timedelta(days=10))
    assert [why for _, why in retained([old], rule, NOW, {})] == ["retention 10d"]
    read = {("model", "2026-05-01", 1): "2026-05-30T00:00:00.000000Z"}
    assert retained([old], rule, NOW, read) == []


def test_the_notice_and_read_rule() -> None:
    notice = Notice("dataset", "old", "2026-05-20", utc(2026, 5, 1))
    assert deletion_verdict(notice, [], NOW, 14).allowed
    short = deletion_verdict(notice, [], NOW, 30)  # notice_days raised since: not enough notice
    assert not short.allowed and "less than 30 days" in short.reason
    before = Read("old", "bi", utc(2026, 4, 30))
    assert deletion_verdict(notice, [before], NOW, 14).allowed  # read before the notice
    after = Read("old", "bi", utc(2026, 5, 2))
    verdict = deletion_verdict(notice, [before, after], NOW, 14)
    assert not verdict.allowed and verdict.blocking == after
    assert not deletion_verdict(notice, [], utc(2026, 5, 20, 23), 14).allowed  # not yet passed
