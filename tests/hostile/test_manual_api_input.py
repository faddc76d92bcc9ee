"""Hostile input to the manual's API and CLI: notes too long or empty, links that are not
http(s), commits that are not hex, ids with control characters or 10 kB long, huge bodies,
garbage dates and windows. Each is refused with the usual error, and nothing is recorded."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from andon.serve.up import Line
from tests.web.conftest import auth_header, running
from tests.web.test_manual_api import FAILING

ANDON = str(Path(sys.executable).with_name("andon"))


@pytest.fixture
def failing(make_project) -> Iterator[tuple[Line, httpx.Client, str]]:  # type: ignore[no-untyped-def]
    with running(make_project(FAILING)) as line, \
            httpx.Client(base_url=line.url, timeout=30) as client:
        path = line.project.root / "data/raw/2026-01-05.csv"
        path.parent.mkdir(parents=True)
        path.write_text("a\n")
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-05"},
                           headers=auth_header(line)).status_code == 201
        assert line.runner.drain()
        (entry,) = client.get("/api/v1/manual").json()["entries"]
        yield line, client, entry["id"]


@pytest.mark.parametrize("body,field", [
    ({"note": "x" * 2001}, "note"),
    ({"note": ""}, "note"),
    ({"note": "   \n\t "}, "note"),
    ({"note": "ok", "link": "javascript:alert(1)"}, "link"),
    ({"note": "ok", "link": "ftp://example.com/x"}, "link"),
    ({"note": "ok", "link": "https://x.example/" + "a" * 600}, "link"),
    ({"note": "ok", "commit": "not-hex!"}, "commit"),
    ({"note": "ok", "commit": "abc"}, "commit"),
    ({"note": "ok", "commit": "a" * 41}, "commit"),
    ({"note": 12}, "note"),
    ({"note": "ok", "by": "someone else"}, "by"),
])
def test_a_bad_resolution_is_422_naming_the_field(failing: tuple[Line, httpx.Client, str],
                                                  body: dict[str, object], field: str) -> None:
    line, client, entry_id = failing
    r = client.post(f"/api/v1/manual/{entry_id}/resolve", json=body, headers=auth_header(line))
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert client.get(f"/api/v1/manual/{entry_id}").json()["resolutions"] == []


@pytest.mark.parametrize("entry_id", ["a%01b", "%1b%5B31m", "x" * 10_000, "%00"])
def test_an_impossible_id_is_404(failing: tuple[Line, httpx.Client, str], entry_id: str) -> None:
    line, client, _entry = failing
    for r in (client.get(f"/api/v1/manual/{entry_id}"),
              client.post(f"/api/v1/manual/{entry_id}/resolve", json={"note": "x"},
                          headers=auth_header(line))):
        assert r.status_code == 404, r.text
        assert len(r.text) < 2000 and "\x1b" not in r.text and "\x00" not in r.text


def test_a_huge_body_is_413(failing: tuple[Line, httpx.Client, str]) -> None:
    line, client, entry_id = failing
    r = client.post(f"/api/v1/manual/{entry_id}/resolve", headers=auth_header(line),
                    content=b'{"note": "' + b"x" * 2_000_000 + b'"}')
    assert r.status_code == 413, r.text
    assert client.get(f"/api/v1/manual/{entry_id}").json()["resolutions"] == []


def _andon(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANDON, "--project", str(root), *args], capture_output=True,
                          text=True, timeout=60)


def test_the_cli_refuses_garbage_with_exit_2(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(FAILING)
    for args, says in [(("manual", "--since", "garbage"), "since"),
                       (("manual", "--since", "2026-02-30"), "since"),
                       (("manual", "export", "--since", "\x1b[31m", str(root / "out")), "since"),
                       (("manual", "review", "--days", "0"), "--days"),
                       (("manual", "review", "--days", "100000"), "--days"),
                       (("manual", "--kind", "bogus"), "--kind"),
                       (("manual", "resolve", "0" * 12, "--note", "x"), "hint"),
                       (("manual", "show", "x" * 10_000), "Error"),
                       (("manual", "resolve", "0" * 12, "--note", "x" * 2001), "Error")]:
        proc = _andon(root, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert says in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert "\x1b" not in proc.stderr
    assert not (root / "out").exists()
