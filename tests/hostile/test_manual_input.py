"""Hostile failures and rules for the manual's signatures: huge messages, odd bytes, deep
recursion, pathological text for the masks, oversized rules."""

from __future__ import annotations

import io

import pytest

from andon.events import MAX_FRAME_TEXT, MAX_FRAMES, Frame
from andon.executors.base import RunSpec
from andon.executors.execute import run_spec, user_frames
from andon.manual.rules import MAX_MATCH, MAX_RULES, load_rules
from andon.manual.signature import MAX_TITLE, signature
from andon.model.errors import ConfigError
from andon.model.masks import MAX_ERROR_MESSAGE, mask


@pytest.mark.parametrize("message", [
    "x" * 10_000_000,
    "/" * 100_000,
    "a@" * 100_000,
    "'" * 100_000,
    "1-" * 100_000,
    "\\\\" * 100_000,
    "0x" + "f" * 100_000,
    "\x00\x01\udcff\ufffe\u202e" * 10_000,
    "é漢字🙂 " * 50_000,
])
def test_a_hostile_message_gives_a_bounded_signature(message: str) -> None:
    sig = signature("p", "ValueError", message, (Frame("a.py", "f"),))
    assert len(sig.title) <= MAX_TITLE and len(sig.masked_message) <= MAX_ERROR_MESSAGE
    assert sig.id == signature("p", "ValueError", message, (Frame("a.py", "f"),)).id
    assert len(mask(message)) <= MAX_ERROR_MESSAGE


def test_deep_recursion_and_long_names_are_cut(tmp_path) -> None:
    name = "f" * 1000
    code = f"def {name}(n):\n    return {name}(n + 1)\n"
    path = tmp_path / ("d" * 200) / ("m" * 200 + ".py")
    path.parent.mkdir()
    path.write_text(code)
    scope: dict[str, object] = {}
    exec(compile(code, str(path), "exec"), scope)
    with pytest.raises(RecursionError) as info:
        scope[name](0)  # type: ignore[operator]
    frames = user_frames(info.value, str(tmp_path))
    assert len(frames) == MAX_FRAMES
    assert all(len(f.file) == MAX_FRAME_TEXT and len(f.function) == MAX_FRAME_TEXT
               for f in frames)


def test_a_huge_exception_message_is_cut_in_the_result(tmp_path) -> None:
    def boom(ctx: object) -> None:
        raise ValueError("\udcff" * 5_000_000)

    spec = RunSpec("r", "p", "2026-01-05", 1, str(tmp_path), str(tmp_path / "run"), "", {}, (),
                   {})
    res = run_spec(spec, lambda _name: boom, stream=io.StringIO())
    assert res.error_type == "ValueError" and len(res.error_message) == MAX_ERROR_MESSAGE
    assert res.frames == ()  # the function is not in the project folder


@pytest.mark.parametrize("rules,problem", [
    ([{"match": "*"}] * (MAX_RULES + 1), "must be a list of at most"),
    ([{"match": "x" * (MAX_MATCH + 1), "fingerprint": "f"}], "must be a text of 1 to"),
    ([{"match": "", "fingerprint": "f"}], "must be a text of 1 to"),
    ([{"match": "*", "fingerprint": "f" * 200}], "is longer than"),
    ([{"match": "*", "fingerprint": "f", "extra": 1}], "has keys"),
    ([{"match": 3, "fingerprint": "f"}], "must be a text"),
    (["just text"], "is not a table"),
    ([{"match": "re:(a", "fingerprint": "f"}], "not a valid regular expression"),
])
def test_a_hostile_rule_is_refused(tmp_path, rules: list[object], problem: str) -> None:
    with pytest.raises(ConfigError, match="rule|rules") as info:
        load_rules({"manual": {"rules": rules}}, tmp_path, {"p"})
    assert problem in info.value.message and info.value.hint
