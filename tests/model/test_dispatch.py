"""The dispatch policies are named once; every other list is derived from that one."""

from andon.model.dispatch import DEFAULT_POLICY, POLICY_NAMES, Policy, one_of
from andon.planner.policies import POLICIES
from andon.project.settings import SETTINGS, default
from andon.sim.policies import ALL_POLICIES, BASELINES, BOUND, EVENT_POLICIES


def test_the_planner_has_one_class_per_policy_in_the_lists_order() -> None:
    assert list(POLICIES) == list(Policy)
    assert POLICY_NAMES == ("fifo", "edf", "slack", "atc", "jit", "cpsat")


def test_the_settings_default_and_help_come_from_the_list() -> None:
    assert default("policy") == DEFAULT_POLICY == "jit"
    policy = next(s for s in SETTINGS if s.name == "policy")
    assert policy.help == ("dispatch policy of `andon up`: fifo, edf, slack, atc, jit or cpsat "
                           "(cpsat needs andon[opt])")


def test_the_simulator_adds_its_baselines_and_the_bound() -> None:
    assert ALL_POLICIES == ("cron", "cron-poke", "fifo", "edf", "slack", "atc", "cpsat", "jit",
                            "bound")
    assert EVENT_POLICIES == ("fifo", "edf", "slack", "atc", "jit", "bound")
    assert set(ALL_POLICIES) == {*BASELINES, *POLICY_NAMES, BOUND}


def test_one_of_lists_alternatives_as_a_sentence() -> None:
    assert one_of(["a"]) == "a"
    assert one_of(["a", "b"]) == "a or b"
    assert one_of(("a", "b", "c")) == "a, b or c"
