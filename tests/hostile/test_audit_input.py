"""Hostile ``[audit]`` settings and ``since`` values: refused at load (``andon validate``,
exit 2, naming the key and its bounds) or with a 422/exit 2 naming ``since``; nothing is
audited with a value out of its bounds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from andon.model.errors import ConfigError
from andon.project.waste import AuditSettings, audit_settings
from tests.cli.test_commands import ANDON

PIPELINES = """
import andon
andon.source("raw")
"""


@pytest.mark.parametrize(("toml", "named"), [
    ("unused_days = 100000000000000000000", "unused_days"),
    ("unused_days = 0", "unused_days"),
    ("unused_days = 2.5", "unused_days"),
    ("window_days = true", "window_days"),
    ("cpu_hour = 1e300", "cpu_hour"),
    ("cpu_hour = nan", "cpu_hour"),
    ("gb_month = inf", "gb_month"),
    ("gb_transferred = -1", "gb_transferred"),
    ("precision = 1.5", "precision"),
    ("unchanged_share = -0.1", "unchanged_share"),
    ('unchanged_share = "most"', "unchanged_share"),
    ('project_end = "2026-01-01"', "project_end"),  # [project] end's, not a key of [audit]
    ('startup_share = "half"', "startup_share"),
    ('currency = "' + "X" * 100 + '"', "currency"),
    ('currency = "\\u001b[31m"', "currency"),
    ("min_runs = -5", "min_runs"),
    ("cpu_hours = 1", "cpu_hours"),
    ("keep_last = 3", "keep_last"),  # declared on a data set (keep_last=), not in [audit]
])
def test_a_bad_audit_setting_fails_the_load(make_project, toml: str, named: str) -> None:  # type: ignore[no-untyped-def]
    root: Path = make_project(PIPELINES, extra=f"[audit]\n{toml}\n")
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout
    assert f"[audit] {named}" in proc.stderr or named in proc.stderr
    assert "andon.toml" in proc.stderr and "Traceback" not in proc.stderr


def test_audit_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"\[audit\] must be a table"):
        audit_settings({"audit": [1, 2]}, Path("/p"))


def test_the_defaults_and_the_bounds() -> None:
    assert audit_settings({}, Path("/p")) == AuditSettings()
    big = audit_settings({"audit": {"unused_days": 3660, "cpu_hour": 1e6}}, Path("/p"))
    assert big.unused_days == 3660 and big.cpu_hour == 1e6


@pytest.mark.parametrize(("definitions", "toml", "said"), [
    ('andon.source("raw", region="eu west")', "", "is no region"),
    ('andon.source("raw", region="x" * 100)', "", "is no region"),
    ('andon.source("raw", backup_of="nothing")', "", "names no other data set"),
    ('andon.source("raw", backup_of="raw")', "", "names no other data set"),
    ('andon.source("bak", backup_of="raw")\n'
     'andon.restore_drill("raw", rto="1h", name="d", outputs=["o"])(lambda ctx: None)', "",
     "is no declared backup"),
    ('andon.source("bak", backup_of="raw")\n'
     'andon.restore_drill("bak", rto="soon", name="d", outputs=["o"])(lambda ctx: None)', "",
     "must be a duration"),
    ('andon.source("bak", backup_of="raw")\n'
     'andon.restore_drill("bak", rto="400d", name="d", outputs=["o"])(lambda ctx: None)', "",
     "must be a duration"),
    ("", 'pool_regions = { gpu = "eu-west-1" }', "which is no pool"),
    ("", 'pool_regions = { default = "" }', "is no region"),
    ("", 'pool_regions = "eu"', "must be a table"),
])
def test_a_bad_audit_declaration_fails_the_load(make_project, definitions: str, toml: str,  # type: ignore[no-untyped-def]
                                                said: str) -> None:
    root: Path = make_project(PIPELINES + definitions + "\n", extra=f"[audit]\n{toml}\n")
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout
    assert said in proc.stderr and "Traceback" not in proc.stderr
    assert ("pipelines.py" in proc.stderr) != bool(toml)  # the line of the declaration, or the toml


@pytest.mark.parametrize(("pool", "said"), [
    ('{ slots = 2, region = "eu west" }', "is no region"),
    ('{ slots = 2, zone = "eu-west-1" }', "is not a number of slots"),
    ('{ region = "eu-west-1" }', "is not a number of slots"),
    ('{ slots = "two" }', "is not a number of slots"),
])
def test_a_bad_pool_table_fails_the_load(make_project, pool: str, said: str) -> None:  # type: ignore[no-untyped-def]
    root: Path = make_project(PIPELINES, pools={"default": pool})  # type: ignore[dict-item]
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout
    assert said in proc.stderr and "andon.toml" in proc.stderr and "Traceback" not in proc.stderr


def test_a_pools_own_region_is_the_audits_unless_audit_says_otherwise(make_project) -> None:  # type: ignore[no-untyped-def]
    from andon.project.load import load_project

    root: Path = make_project(PIPELINES, pools={  # type: ignore[dict-item]
        "default": '{ slots = 2, region = "eu-west-1" }', "gpu": '{ slots = 1, region = "us-east-1" }',
        "plain": 3}, extra='[audit]\npool_regions = { gpu = "us-west-2" }\n')
    project = load_project(root)
    assert {p.name: (p.capacity, p.region) for p in project.graph.pools.values()} == {
        "default": (2, "eu-west-1"), "gpu": (1, "us-east-1"), "plain": (3, "")}
    assert project.audit.pool_regions == {"default": "eu-west-1", "gpu": "us-west-2"}


@pytest.mark.parametrize("keep", ["0", '"three"', "10**9", "True", "2.5"])
def test_a_bad_keep_last_fails_the_load_before_the_audit_sees_it(make_project, keep: str) -> None:  # type: ignore[no-untyped-def]
    root: Path = make_project(f'import andon\nandon.source("raw", keep_last={keep})\n')
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout
    assert "keep_last" in proc.stderr and "Traceback" not in proc.stderr


def test_the_audit_judges_the_versions_of_keep_last_data_sets(make_project) -> None:  # type: ignore[no-untyped-def]
    from andon.project.load import load_project

    root: Path = make_project('import andon\nandon.source("raw", keep_last=3)\n'
                              'andon.source("plain")\n')
    assert load_project(root).audit.keep_last == {"raw": 3}
