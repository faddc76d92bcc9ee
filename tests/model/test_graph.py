"""Graph validation: every mistake is reported, each naming where it was declared, the object and
the fix; a valid graph is indexed for the engine."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from andon.model.definitions import Asset, Input, Pipeline, Pool
from andon.model.errors import EXIT_USAGE, DefinitionError
from andon.model.graph import Graph, build_graph
from andon.model.partitions import LastN, Partitions, Rollup
from tests.conftest import utc

START = utc(2026, 1, 1)
DAILY = Partitions("daily", START)
HOURLY = Partitions("hourly", START)
NONE = Partitions("unpartitioned", START)
POOLS = [Pool("default", 4, where="andon.toml:6"), Pool("gpu", 1, where="andon.toml:7")]


def src(name: str, partitions: Partitions = DAILY) -> Asset:
    return Asset(name, partitions, source=True, where=f"defs.py:{len(name)}")


def pipe(name: str, inputs: list[str | Input], outputs: list[str], line: int = 10,
         partitions: Partitions = DAILY, **options: object) -> Pipeline:
    ins = tuple(i if isinstance(i, Input) else Input(i) for i in inputs)
    return Pipeline(name, ins, tuple(outputs), partitions, command="true",
                    where=f"defs.py:{line}", **options)


def problems(assets: list[Asset], pipes: list[Pipeline], pools: list[Pool] = POOLS) -> list[str]:
    """The listed problems of the one DefinitionError that build_graph raises."""
    with pytest.raises(DefinitionError) as info:
        build_graph(assets, pipes, pools, "andon.toml")
    err = info.value
    assert err.exit_code == EXIT_USAGE
    assert err.hint == "fix each listed object and run `andon validate` again"
    head, *items = err.message.split("\n  - ")
    assert head == f"{len(items)} problem(s) in the definitions:"
    return items


def the_problem(assets: list[Asset], pipes: list[Pipeline], pools: list[Pool] = POOLS) -> str:
    (only,) = problems(assets, pipes, pools)
    return only


def test_a_valid_graph_is_indexed() -> None:
    g = build_graph([src("raw")], [pipe("report", ["clean"], ["report"], 20),
                                   pipe("clean", ["raw"], ["clean", "rejects"], 10)], POOLS)
    assert isinstance(g, Graph)
    assert g.order == ("clean", "report")  # dependency order, whatever the declaration order
    assert g.producer == {"clean": "clean", "rejects": "clean", "report": "report"}
    assert g.consumers == {"raw": ("clean",), "clean": ("report",)}
    assert g.assets["rejects"].partitions == DAILY and not g.assets["rejects"].source
    assert g.input_keys("report", "2026-01-05") == [("clean", "2026-01-05")]
    assert g.consumer_keys("raw", "2026-01-05") == [("clean", "2026-01-05")]
    assert g.consumer_keys("report", "2026-01-05") == []


def test_no_consumer_partitions_after_the_end() -> None:
    # a window reaching past the project's last day triggers nothing there
    ending = Partitions("daily", START, utc(2026, 1, 12))  # end = "2026-01-11"
    g = build_graph([src("features", ending)],
                    [pipe("train", [Input("features", LastN(3))], ["model"], partitions=ending)],
                    POOLS)
    assert g.consumer_keys("features", "2026-01-10") == [("train", "2026-01-10"),
                                                         ("train", "2026-01-11")]
    assert g.consumer_keys("features", "2026-01-11") == [("train", "2026-01-11")]


def test_a_cycle_names_the_pipelines_on_it_in_data_order() -> None:
    text = the_problem([src("raw")], [
        pipe("a", ["raw", "c"], ["a"], 10), pipe("b", ["a"], ["b"], 20),
        pipe("c", ["b"], ["c"], 30), pipe("side", ["a"], ["side"], 40)])
    assert text == ("defs.py:10: cycle between pipelines a -> b -> c -> a (b reads 'a' from a, "
                    "c reads 'b' from b, a reads 'c' from c); a pipeline cannot read (directly or "
                    "not) what it produces, remove one of these inputs")
    assert "side" not in text


def test_a_pipeline_reading_its_own_output_is_a_cycle() -> None:
    text = the_problem([], [pipe("loop", ["out"], ["out"], 12)])
    assert text.startswith("defs.py:12: cycle between pipelines loop -> loop (loop reads 'out' "
                           "from loop)")


def test_an_unknown_input_is_named_with_a_suggestion_and_the_known_data_sets() -> None:
    text = the_problem([src("raw_orders"), src("fx")], [pipe("clean", ["raw_order"], ["o"], 14)])
    assert text == ("defs.py:14: pipeline 'clean' reads unknown input 'raw_order'; did you mean "
                    "'raw_orders'? declare it with andon.source('raw_order', ...) or as a "
                    "pipeline output (known: fx, o, raw_orders)")


def test_an_unknown_input_without_a_close_name_has_no_suggestion() -> None:
    text = the_problem([src("raw")], [pipe("clean", ["zzz"], ["out"])])
    assert "did you mean" not in text and "(known: out, raw)" in text


def test_a_long_list_of_known_data_sets_is_shortened() -> None:
    sources = [src(f"s{i:02d}") for i in range(30)]
    text = the_problem(sources, [pipe("p", ["nothing_like_it"], ["out"])])
    assert text.endswith("s18 and 11 more)")


def test_a_duplicate_output_names_both_producers() -> None:
    text = the_problem([src("raw")], [pipe("one", ["raw"], ["orders"], 10),
                                      pipe("two", ["raw"], ["orders"], 20)])
    assert text == ("defs.py:20: output 'orders' of pipeline 'two' is also produced by pipeline "
                    "'one'; each data set has one producer, rename one output")


def test_an_output_that_is_also_a_source_names_both_declarations() -> None:
    text = the_problem([src("raw")], [pipe("p", [], ["raw"], 21)])
    assert text == ("defs.py:21: output 'raw' of pipeline 'p' is declared as a source at "
                    "defs.py:3; a source arrives from outside, remove one")


def test_a_source_or_pipeline_declared_twice() -> None:
    items = problems([src("raw"), src("raw")], [pipe("p", ["raw"], ["a"], 10),
                                                pipe("p", ["raw"], ["b"], 20)])
    assert any("source 'raw' is declared twice (also at defs.py:3); keep one" in i for i in items)
    assert any(i.startswith("defs.py:20: pipeline 'p' is declared twice (also at defs.py:10); "
                            "rename one") for i in items)


def test_an_unknown_pool_says_where_to_declare_it() -> None:
    text = the_problem([src("raw")], [pipe("train", ["raw"], ["model"], 30, pool="cpu")])
    assert text == ("defs.py:30: pipeline 'train' uses pool 'cpu', which andon.toml does not "
                    "declare; add 'cpu = N' under [pools]")


def test_slots_beyond_the_pool_capacity() -> None:
    text = the_problem([src("raw")], [pipe("train", ["raw"], ["model"], 31, pool="gpu", slots=2)])
    assert text == ("defs.py:31: pipeline 'train' needs 2 slots but pool 'gpu' has 1; lower "
                    "slots or raise the pool")


def test_a_pool_without_capacity_names_its_line_in_andon_toml() -> None:
    text = the_problem([], [], [Pool("default", 0, where="andon.toml:6")])
    assert text == ("andon.toml:6: pool 'default' has capacity 0; give it at least 1 slot under "
                    "[pools], e.g. default = 2")


def test_a_bad_on_upstream_change() -> None:
    text = the_problem([src("raw")], [pipe("p", ["raw"], ["o"], 9, on_upstream_change="always")])
    assert text == "defs.py:9: pipeline 'p': on_upstream_change='always'; use 'rerun' or 'ignore'"


@pytest.mark.parametrize("option,value,least", [
    ("slots", 0, 1), ("priority", 0, 1), ("retries", -1, 0), ("max_concurrent", -2, 0),
    ("slots", "2", 1), ("retries", 1.5, 0), ("priority", True, 1),
])
def test_counts_must_be_whole_numbers(option: str, value: object, least: int) -> None:
    text = the_problem([src("raw")], [pipe("p", ["raw"], ["o"], 8, **{option: value})])
    assert text == (f"defs.py:8: pipeline 'p': {option}={value!r}; write a whole number of "
                    f"{least} or more, e.g. {option}={least + 1}")


def test_a_pipeline_needs_outputs_and_exactly_one_of_function_or_command() -> None:
    no_outputs = Pipeline("p", (Input("raw"),), (), DAILY, command="true", where="defs.py:5")
    neither = Pipeline("q", (Input("raw"),), ("q",), DAILY, where="defs.py:6")
    both = Pipeline("r", (Input("raw"),), ("r",), DAILY, fn=len, command="true",
                    where="defs.py:7")
    items = problems([src("raw")], [no_outputs, neither, both])
    assert items == [
        "defs.py:5: pipeline 'p' has no outputs; add outputs=[...] naming the data sets it writes",
        "defs.py:6: pipeline 'q' needs exactly one of a decorated function or command='...'",
        "defs.py:7: pipeline 'r' needs exactly one of a decorated function or command='...'",
    ]


def test_mismatched_partitions_without_a_mapping() -> None:
    text = the_problem([src("clicks", HOURLY)], [pipe("daily", ["clicks"], ["d"], 40)])
    assert text == ("defs.py:40: pipeline 'daily' is daily but reads 'clicks', which is hourly; "
                    "read it with inputs=[andon.rollup('clicks')], or make both the same")
    text = the_problem([src("ref", NONE)], [pipe("daily", ["ref"], ["d"], 41)])
    assert text == ("defs.py:41: pipeline 'daily' is daily but reads 'ref', which is "
                    "unpartitioned; give both the same partitions (partitions='unpartitioned' or "
                    "'daily')")


def test_mappings_that_do_not_fit_the_partitions() -> None:
    text = the_problem([src("clicks", HOURLY)], [pipe("w", [Input("clicks", LastN(7))], ["w"], 42)])
    assert "pipeline 'w': the window on 'clicks' needs both sides to have the same time " \
           "partitions" in text and "hourly and daily" in text
    text = the_problem([src("raw")], [pipe("r", [Input("raw", Rollup())], ["r"], 43)])
    assert text.startswith("defs.py:43: pipeline 'r': a roll-up of 'raw' needs finer input")


def test_fitting_mappings_are_accepted() -> None:
    g = build_graph([src("clicks", HOURLY), src("raw")], [
        pipe("daily", [Input("clicks", Rollup())], ["daily"]),
        pipe("weekly", [Input("raw", LastN(7))], ["weekly"]),
        pipe("hourly", ["clicks"], ["hourly"], partitions=HOURLY)], POOLS)
    assert len(g.input_keys("daily", "2026-01-05")) == 24
    assert len(g.input_keys("weekly", "2026-01-10")) == 7


def test_every_problem_is_listed_at_once_in_file_and_line_order() -> None:
    items = problems([src("raw")], [
        pipe("z", ["nope"], ["z"], 30, pool="cpu"),
        pipe("a", ["raw"], ["a"], 9, on_upstream_change="x"),
        pipe("b", ["raw"], ["a"], 100),
    ])
    assert [i.split(": ", 1)[0] for i in items] == ["defs.py:9", "defs.py:30", "defs.py:30",
                                                     "defs.py:100"]


@st.composite
def dags(draw: st.DrawFn) -> list[tuple[str, list[str]]]:
    """Pipelines p0..pn, each reading the outputs of some earlier ones (or the source)."""
    out: list[tuple[str, list[str]]] = []
    for i in range(draw(st.integers(1, 8))):
        earlier = [f"p{j}" for j in range(i)]
        out.append((f"p{i}", draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier
                    else []))
    return out


@given(spec=dags(), shuffle=st.randoms())
def test_any_acyclic_graph_is_ordered_by_its_dependencies(spec: list[tuple[str, list[str]]],
                                                          shuffle: random.Random) -> None:
    pipes = [pipe(name, ["raw", *reads], [name]) for name, reads in spec]
    shuffle.shuffle(pipes)
    g = build_graph([src("raw")], pipes, POOLS)
    rank = {name: i for i, name in enumerate(g.order)}
    assert sorted(rank) == sorted(name for name, _ in spec)
    for name, reads in spec:
        assert all(rank[r] < rank[name] for r in reads)


@given(spec=dags(), data=st.data())
def test_any_back_edge_is_reported_as_a_cycle_of_real_edges(spec: list[tuple[str, list[str]]],
                                                            data: st.DataObject) -> None:
    names = [name for name, _ in spec]
    low = data.draw(st.sampled_from(names))
    high = data.draw(st.sampled_from(names[names.index(low):]))
    reads = {name: list(r) for name, r in spec}
    reads[low].append(high)  # low now reads high, which (in)directly reads low, or itself
    if high != low and not _reaches(reads, high, low):
        reads[high].append(low)
    text = the_problem([src("raw")], [pipe(n, ["raw", *reads[n]], [n]) for n in names])
    cycle = text.split("cycle between pipelines ", 1)[1].split(" (", 1)[0].split(" -> ")
    assert cycle[0] == cycle[-1] and len(cycle) >= 2
    for a, b in zip(cycle, cycle[1:]):
        assert a in reads[b]  # every arrow is a real "b reads a"


def _reaches(reads: dict[str, list[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(reads[node])
    return False
