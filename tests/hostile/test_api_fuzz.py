"""Every state-changing route sent hostile bodies over a real `andon up`: extreme sizes and
types (huge strings, deep nesting, wrong types, nulls, arrays, 1e308, 10**30, unicode tricks, NUL
bytes, lone surrogates, broken JSON, non-objects). Each must answer 4xx with a reason, never 5xx,
and record nothing: the event log and the token table stay as they were. (The schemathesis
fuzzing of the OpenAPI document is tests/web/test_fuzz.py.)"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from andon.serve.up import Line
from tests.web.conftest import PIPELINES, make_token, running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
DAY = "2026-01-05"

# values no field accepts: wrong types, past the limits, text no store can hold
NEVER: list[Any] = [
    [], {}, [DAY], {"a": DAY}, 0, -1, 1e308, -1e308, 10**30, True, False,
    "x" * 20_000, "é" * 6_000, "a\x00b", "\ud800", "\udfff" + DAY,
    json.loads("[" * 40 + '"deep"' + "]" * 40),
]
NOT_BOOL = [v for v in NEVER if not isinstance(v, bool)]
# strings that are no name of anything here: paths, empties, look-alikes, control characters
NAMES: list[Any] = ["", " ", "../../etc/passwd", "/abs", "raw/..", "rаw", "💥" * 50,
                    "\u202eraw", "raw\n", "raw\r\nX-Injected: 1", "%00", "=", "*"]
KEYS: list[Any] = ["", "2026-13-45", "2026-01-05\n", " 2026-01-05", "9999-99-99", "0000-00-00",
                   "2026-1-5", "2026-01-05T00", "𝟚𝟘𝟚𝟞-𝟘𝟙-𝟘𝟝", "1e308", "-1"]
# bodies that are not a JSON object within the limits
BODIES: list[bytes] = [
    b"", b"null", b"[]", b"1e308", b'"a string"', b"true", b"\xff\xfe\x00", b"{", b"{}}",
    b'{"a": NaN}', b'{"a": Infinity}', b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 1000 + b"1" + b"}" * 1000, b'{"' + b"k" * 2_000_000 + b'": 1}',
    json.dumps({"a": "x" * 1_100_000}).encode(), b"\x00" * 100,
]

# route -> (a valid body to vary, its fields: which kinds of hostile value each gets)
ROUTES: dict[str, tuple[dict[str, Any], dict[str, list[Any]]]] = {
    "/api/v1/notify": ({"asset": "raw", "partition": DAY},
                       {"asset": NEVER + NAMES, "partition": NEVER + KEYS, "id": NEVER}),
    "/api/v1/runs": ({"pipeline": "clean", "partition": DAY},
                     {"pipeline": NEVER + NAMES, "partition": NEVER + KEYS}),
    "/api/v1/backfills": ({"pipeline": "clean", "from": DAY, "to": "2026-01-06"},
                          {"pipeline": NEVER + NAMES, "from": NEVER + KEYS, "to": NEVER + KEYS}),
    "/api/v1/cords": ({"asset": "raw", "partition": DAY, "reason": "bad"},
                      {"asset": NEVER + NAMES, "partition": NEVER + KEYS, "reason": NEVER}),
    "/api/v1/cords/{cord}/resolve": ({"note": "fixed"},
                                     {"note": NEVER, "manual_fix": NOT_BOOL + NAMES + [1, "true"]}),
    "/api/v1/cords/{cord}/restore": ({"asset": "clean", "partition": DAY},
                                     {"asset": NEVER + NAMES, "partition": NEVER + KEYS,
                                      "version": NEVER + NAMES + [0, -5, 1.5, "1"]}),
    "/api/v1/deprecations": ({"name": "raw", "delete_after": "2099-01-01", "reason": "old"},
                             {"name": NEVER + NAMES, "delete_after": NEVER + KEYS,
                              "reason": NEVER, "replacement": NEVER + NAMES,
                              "kind": NEVER + NAMES}),
    "/api/v1/tokens": ({"role": "viewer", "name": "n"},
                       {"role": NEVER + NAMES + ["root", "ADMIN"], "name": NEVER}),
}
OPTIONAL = {"name", "id", "manual_fix", "version", "replacement", "kind"}
PATHS = ["/api/v1/runs/{x}/cancel", "/api/v1/tokens/{x}/revoke", "/api/v1/cords/{x}/resolve",
         "/api/v1/cords/{x}/restore"]
PATH_VALUES = ["nope", "..%2F..%2Fetc", "%00", "x" * 5000, "andon_" + "a" * 40, "%F0%9F%92%A5",
               "%ED%A0%80", "1e308"]


def cases() -> Iterator[tuple[str, str, bytes]]:
    """Every hostile case: (id, route, body)."""
    for route, (valid, fields) in ROUTES.items():
        for name, values in fields.items():
            for n, value in enumerate(values):
                body = {**valid, name: value}
                yield f"{route} {name}#{n}", route, json.dumps(body).encode()
            if name in valid and name not in OPTIONAL:  # missing
                yield f"{route} {name}-missing", route, json.dumps(
                    {k: v for k, v in valid.items() if k != name}).encode()
                yield f"{route} {name}-null", route, json.dumps({**valid, name: None}).encode()
        for n, raw in enumerate(BODIES):
            yield f"{route} body#{n}", route, raw
    for path in PATHS:
        for n, value in enumerate(PATH_VALUES):
            yield f"{path} path#{n}", path.replace("{x}", value), b'{"note": "n"}'
    for path in ("/login", "/logout"):
        for n, raw in enumerate(BODIES[-3:]):
            yield f"{path} body#{n}", path, raw


CASES = list(cases())
# one server for the module: under pytest-xdist its tests stay on one worker
pytestmark = pytest.mark.xdist_group("api_fuzz")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Line, str, str]]:
    """A server with a source partition, a cord on it and a made output, so the routes meet
    real objects; the tokens to act with."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "andon.toml").write_text('[project]\nname = "fuzz"\ndefinitions = ["pipelines.py"]\n'
                                     'start = "2026-01-01"\n\n[pools]\ndefault = 4\n')
    (root / "pipelines.py").write_text(textwrap.dedent(PIPELINES))
    with running(root) as line:
        admin = make_token(line, "admin")
        raw = line.project.root / f"data/raw/{DAY}.csv"
        raw.parent.mkdir(parents=True)
        raw.write_text("a\n")
        with httpx.Client(base_url=line.url, timeout=GUARD,
                          headers={"Authorization": f"Bearer {admin}"}) as client:
            assert client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY}
                               ).status_code == 201
            assert line.runner.drain()
            r = client.post("/api/v1/cords", json={"asset": "clean", "partition": DAY,
                                                   "reason": "suspect"})
            assert r.status_code == 201, r.text
            assert line.runner.drain()
        yield line, admin, r.json()["cord_id"]


def _reason(r: httpx.Response) -> bool:
    try:
        return bool(r.json().get("message"))
    except ValueError:
        return False


@pytest.mark.parametrize("route", [*ROUTES, *PATHS, "/login", "/logout"])
def test_hostile_bodies_get_a_4xx_with_a_reason_and_record_nothing(
        served: tuple[Line, str, str], route: str) -> None:
    line, admin, cord = served
    mine = [c for c in CASES if c[0].split(" ")[0] == route]
    assert mine, route
    events, tokens = line.store.count_events(), len(line.store.tokens())
    wrong = []
    with httpx.Client(base_url=line.url, timeout=GUARD) as client:
        for ident, path, body in mine:
            try:
                r = client.post(path.replace("{cord}", cord), content=body, headers={
                    "Authorization": f"Bearer {admin}", "Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                wrong.append((ident, f"no answer: {exc!r}"))
                continue
            if path in ("/login", "/logout"):  # forms: only the size cap applies
                ok = r.status_code == 413 or (len(body) <= 1_048_576 and r.status_code == 303)
            else:
                ok = 400 <= r.status_code < 500 and _reason(r)
            if not ok:
                wrong.append((ident, f"{r.status_code} {r.text[:200]}"))
    assert not wrong, f"{len(wrong)} of {len(mine)} cases: {wrong[:10]}"
    assert line.store.count_events() == events, "a hostile request recorded an event"
    assert len(line.store.tokens()) == tokens, "a hostile request made a token"
