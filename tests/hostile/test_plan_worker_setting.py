"""The plan_worker setting (and every on/off setting): only true/false words, from andon.toml,
the environment or the command line; anything else is refused naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.model.errors import ConfigError
from andon.project.settings import resolve


@pytest.mark.parametrize("value", ["maybe", "2", "tru", "of", "x" * 5000, "yes\n", [1], {"a": 1}])
def test_an_on_off_setting_refuses_other_words(tmp_path: Path, value: object) -> None:
    for flags, env, toml in (({}, {}, {"plan_worker": value}),
                             ({}, {"ANDON_PLAN_WORKER": str(value)}, {}),
                             ({"plan_worker": value}, {}, {})):
        with pytest.raises(ConfigError) as err:
            resolve(tmp_path, flags, env, toml)
        assert "plan_worker" in str(err.value) and "plan_worker" in err.value.hint
        assert err.value.exit_code == 2


@pytest.mark.parametrize(("value", "on"), [(True, True), (False, False), ("off", False),
                                          ("1", True), ("No", False), ("ON", True)])
def test_true_and_false_words_pass(tmp_path: Path, value: object, on: bool) -> None:
    assert resolve(tmp_path, {}, {}, {"plan_worker": value}).plan_worker is on
    assert resolve(tmp_path, {}, {}, {}).plan_worker is True  # the default
