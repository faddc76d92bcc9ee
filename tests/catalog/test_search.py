"""The search's contract on both backends (tests/catalog/conftest.py: SQLite FTS5 in memory,
PostgreSQL full text in the store): the tiers, filters, typos."""

from __future__ import annotations

from andon.registry.entries import Entry
from andon.registry.search import CLOSE, EXACT, PREFIX, SearchIndex
from tests.catalog.conftest import SearchFactory

ENTRIES = [
    Entry("dataset", "orders", "sales@example.com", "every order of the shop", ("sales",)),
    Entry("dataset", "orders_daily", "sales@example.com", "orders summed per day"),
    Entry("pipeline", "orders", "sales@example.com", "makes orders"),
    Entry("model", "churn", "ml@example.com", "who is about to leave", ("customers",)),
    Entry("service", "checkout", "web@example.com", "takes the orders of customers"),
    Entry("library", "old_orders_client", "web@example.com", "talks to the orders service",
          lifecycle="deprecated"),
    Entry("dataset", "customer_orders", "crm@example.com", "the CRM's view"),
]


def names(found: object) -> list[tuple[str, str]]:
    return [(h.entry.kind, h.entry.name) for h in found.hits]  # type: ignore[attr-defined]


def test_an_exact_name_comes_first_then_prefixes_then_full_text(make_search: SearchFactory) -> None:
    found = make_search(ENTRIES).search("Orders")
    got = names(found)
    assert set(got[:2]) == {("dataset", "orders"), ("pipeline", "orders")}
    assert got[2] == ("dataset", "orders_daily")  # the only other name starting with it
    assert set(got[3:]) == {("dataset", "customer_orders"), ("service", "checkout"),
                            ("library", "old_orders_client")}
    scores = [h.score for h in found.hits]
    assert scores[0] == scores[1] == EXACT and PREFIX <= scores[2] < EXACT
    assert all(s < PREFIX for s in scores[3:]) and scores == sorted(scores, reverse=True)
    assert found.suggestion is None


def test_a_word_of_a_name_a_description_a_tag_or_an_owner_finds_it(make_search: SearchFactory) -> None:
    index = make_search(ENTRIES)
    assert names(index.search("leave")) == [("model", "churn")]
    assert ("model", "churn") in names(index.search("customers"))
    assert names(index.search("ml@example.com")) == [("model", "churn")]
    assert names(index.search("daily")) == [("dataset", "orders_daily")]
    assert names(index.search("chur")) == [("model", "churn")]  # as you type


def test_a_deprecated_entry_ranks_below_a_live_one_of_the_same_match(make_search: SearchFactory) -> None:
    index = make_search([Entry("library", "client_a", "o", "the orders client",
                               lifecycle="deprecated"),
                         Entry("library", "client_b", "o", "the orders client")])
    assert names(index.search("orders client")) == [("library", "client_b"),
                                                    ("library", "client_a")]


def test_kind_owner_and_limit_filter(make_search: SearchFactory) -> None:
    index = make_search(ENTRIES)
    assert names(index.search("orders", kind="pipeline")) == [("pipeline", "orders")]
    assert {n for _, n in names(index.search("orders", owner="WEB@example.com"))} == \
        {"checkout", "old_orders_client"}
    assert len(index.search("orders", limit=2).hits) == 2


def test_a_typo_finds_the_name_and_suggests_it(make_search: SearchFactory) -> None:
    found = make_search(ENTRIES).search("chrun")
    assert names(found) == [("model", "churn")]
    assert found.suggestion == "churn"
    assert 0 < found.hits[0].score <= CLOSE


def test_nothing_close_finds_nothing_and_suggests_nothing(make_search: SearchFactory) -> None:
    found = make_search(ENTRIES).search("zebra")
    assert (found.hits, found.suggestion) == ([], None)


def test_operators_and_quotes_are_words_not_syntax(make_search: SearchFactory) -> None:
    index = make_search(ENTRIES)
    for query in ('"', "orders OR", "NOT orders", "orders*", "a:b", "(", "'; drop table x",
                  "or\x00ders", "\x00\x00\x00", "a & b | !c", "x:*", "'", "\\"):
        index.search(query)  # never a syntax error of FTS5 or of a tsquery
    assert [h.entry.name for h in index.search("churn\x00").hits] == ["churn"]
    assert index.search("churn", owner="ml@example.com\x00").hits[0].entry.name == "churn"


def test_an_added_entry_is_found_at_once() -> None:
    index = SearchIndex(ENTRIES)  # kept in step (PostgreSQL's is the store)
    index.add(Entry("model", "ranker", "ml@example.com"))
    assert names(index.search("ranker")) == [("model", "ranker")]
    assert len(index) == len(ENTRIES) + 1


def test_the_json_has_the_fields_the_cli_and_api_promise(make_search: SearchFactory) -> None:
    data = make_search(ENTRIES).search("churn").to_json()
    (hit,) = data["results"]  # type: ignore[misc]
    assert {"kind", "name", "owner", "description", "score", "url"} <= set(hit)
    assert data["suggestion"] is None


def test_a_deprecated_exact_name_is_still_first(make_search: SearchFactory) -> None:
    index = make_search([Entry("library", "client", "o", lifecycle="deprecated"),
                         Entry("library", "client_v2", "o", "replaces client")])
    assert names(index.search("client"))[0] == ("library", "client")
