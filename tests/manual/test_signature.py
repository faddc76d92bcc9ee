"""Signatures on real-looking failures: the same cause groups together whatever its variable
parts; different causes, or the same message from two pipelines, do not; rules override."""

from __future__ import annotations

import pytest

from andon.events import Frame
from andon.manual.rules import load_rules
from andon.manual.signature import signature
from andon.model.masks import mask

LOADER = (Frame("pipelines.py", "daily_sales"), Frame("lib/load.py", "read_export"))
PARSER = (Frame("pipelines.py", "daily_sales"), Frame("lib/parse.py", "parse_row"))


@pytest.mark.parametrize("first,second", [
    ("timed out after 30s fetching https://crm.example.com/export?day=2026-01-05",
     "timed out after 120s fetching https://crm.example.com/export?day=2026-02-11"),
    ("[Errno 2] No such file or directory: '/data/raw/2026-01-05/part-0003.parquet'",
     "[Errno 2] No such file or directory: '/srv/other/2026-03-01/part-0129.parquet'"),
    ("row 18233 of /data/raw/2026-01-05.csv: amount -12.5 is negative",
     "row 7 of /mnt/x/2026-01-06.csv: amount -3 is negative"),
    ('column "amount" missing in partition 2026-01-05T03',
     'column "price" missing in partition 2026-01-07T22'),
    ("checksum mismatch: expected 9f86d081884c7d65 got 60303ae22b998861",
     "checksum mismatch: expected deadbeefcafe0123 got 0123456789abcdef"),
    ("order 550e8400-e29b-41d4-a716-446655440000 has no customer",
     "order 123e4567-e89b-12d3-a456-426614174000 has no customer"),
    (r"cannot open C:\Users\ana\exports\sales_2026_01.csv at 12:30:01",
     r"cannot open D:\share\sales_2026_02.csv at 03:04:59"),
    ("mail to ana@example.com bounced (code 550)", "mail to bo.li@corp.example.org bounced "
     "(code 554)"),
])
def test_the_same_cause_with_different_variable_parts_groups_together(first: str,
                                                                        second: str) -> None:
    a = signature("daily_sales", "OSError", first, LOADER)
    b = signature("daily_sales", "OSError", second, LOADER)
    assert a.id == b.id and a.title == b.title, (a.masked_message, b.masked_message)


def test_different_causes_with_the_same_exception_class_do_not() -> None:
    ids = {signature("daily_sales", "ValueError", m, PARSER).id for m in (
        "could not convert string to float: 'n/a'",
        "invalid literal for int() with base 10: 'x'",
        "time data '05/01/2026' does not match format '%Y-%m-%d'",
        "negative amount -3 in row 7")}
    assert len(ids) == 4


def test_the_innermost_user_frame_counts_but_not_its_line() -> None:
    message = "could not convert string to float: 'n/a'"
    assert (signature("p", "ValueError", message, LOADER).id
            != signature("p", "ValueError", message, PARSER).id)
    outer_changed = (Frame("other.py", "main"), PARSER[-1])
    assert (signature("p", "ValueError", message, PARSER).id
            == signature("p", "ValueError", message, outer_changed).id)


def test_the_same_message_from_two_pipelines_gives_two_signatures() -> None:
    message = "upstream export not ready"
    a = signature("daily_sales", "RuntimeError", message)
    b = signature("weekly_sales", "RuntimeError", message)
    assert a.id != b.id and a.title == b.title == "RuntimeError: upstream export not ready"


def test_the_title_and_the_parts() -> None:
    sig = signature("daily_sales", "KeyError", "'customer_42' in batch 2026-01-05", PARSER)
    assert sig.title == "KeyError: <value> in batch <date>"
    assert (sig.pipeline, sig.error_type, sig.file, sig.function, sig.fingerprint) == (
        "daily_sales", "KeyError", "lib/parse.py", "parse_row", "")
    assert len(sig.id) == 12 and sig.id == signature(
        "daily_sales", "KeyError", "'customer_7' in batch 2026-02-01", PARSER).id


def test_masking_placeholders() -> None:
    assert mask("GET http://h:8080/a?b=1 by a@b.io for /x/y.csv and 'q' at 2026-01-05T03:04:05Z"
                " id 0xdeadbeef n=42") == \
        "GET <url> by <email> for <path> and <value> at <date> id <hex> n=<n>"


def test_rules_override_first_match_wins(tmp_path) -> None:
    config = {"manual": {"rules": [
        {"pipeline": "daily_sales", "match": "*not ready*", "fingerprint": "export_late"},
        {"match": "re:timed out after \\d+s", "fingerprint": "upstream_timeout"},
        {"match": "*", "fingerprint": "never_reached_for_timeouts"},
    ]}}
    rules = load_rules(config, tmp_path, {"daily_sales", "weekly_sales"})
    late = signature("daily_sales", "RuntimeError", "export 2026-01-05 not ready", (), rules)
    assert late.fingerprint == "export_late" and late.title == "export_late"
    a = signature("daily_sales", "TimeoutError", "timed out after 30s", LOADER, rules)
    b = signature("weekly_sales", "OSError", "timed out after 5s", PARSER, rules)
    assert a.id == b.id and a.fingerprint == "upstream_timeout"
    other = signature("weekly_sales", "RuntimeError", "export not ready", (), rules)
    assert other.fingerprint == "never_reached_for_timeouts"
    # a fingerprint's id never equals a computed one
    assert a.id != signature("daily_sales", "TimeoutError", "timed out after 30s", LOADER).id
