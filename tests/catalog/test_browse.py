"""Browsing the catalog (``andon.registry.browse``): facets and filtered, paged listings of real
entries, and the refusals naming the field."""

from __future__ import annotations

import pytest

from andon.model.errors import BadRequest
from andon.registry.browse import MAX_OFFSET, Shelf
from andon.registry.entries import Entry

ENTRIES = [
    Entry("model", "churn", "ML@example.com", "who leaves", ("customers", "ml"), declared=True),
    Entry("model", "ltv", "ml@example.com", "what a customer is worth", ("Customers",),
          declared=True),
    Entry("service", "checkout", "web@example.com", "takes orders", ("customers",),
          declared=True),
    Entry("dataset", "orders", "sales@example.com", "every order", ("source", "source")),
    Entry("pipeline", "sum_orders", "sales@example.com", "orders per day"),
    Entry("dataset", "zz_unowned"),
]


def test_facets_count_kinds_owners_and_tags_in_any_case() -> None:
    f = Shelf(ENTRIES).facets
    assert (f.total, f.declared) == (6, 3)
    assert f.kinds == (("dataset", 2), ("pipeline", 1), ("model", 2), ("service", 1),
                       ("library", 0))
    # one owner in two spellings is one owner (the spelling met first is shown)
    assert f.owners[0] == ("ML@example.com", 2) and f.owner_count == 3
    assert f.tags[0] == ("customers", 3) and f.tag_count == 3
    assert ("source", 1) in f.tags, "a tag counts once per entry"
    assert Shelf(ENTRIES, top=1).facets.owners == (("ML@example.com", 2),)
    assert f.to_json()["kinds"] == {"dataset": 2, "pipeline": 1, "model": 2, "service": 1,
                                    "library": 0}


def test_listings_are_filtered_ordered_and_paged() -> None:
    shelf = Shelf(ENTRIES)
    everything = shelf.browse()
    assert [e.name for e in everything.entries] == ["orders", "zz_unowned", "sum_orders", "churn",
                                                   "ltv", "checkout"], "kind, then name"
    assert [e.name for e in shelf.browse(kind="model").entries] == ["churn", "ltv"]
    assert [e.name for e in shelf.browse(owner="ml@EXAMPLE.com").entries] == ["churn", "ltv"]
    assert [e.name for e in shelf.browse(tag="CUSTOMERS", kind="service").entries] == \
        ["checkout"]
    assert shelf.browse(tag="customers", owner="sales@example.com").total == 0
    assert shelf.browse(tag="nobody-uses-this").entries == []
    page = shelf.browse(limit=2, offset=2)
    assert ([e.name for e in page.entries], page.total) == (["sum_orders", "churn"], 6)
    assert shelf.browse(offset=MAX_OFFSET).entries == []
    assert shelf.entry("model", "ltv") is ENTRIES[1] and shelf.entry("pipeline", "ltv") is None
    assert page.to_json()["entries"][0] == {
        "kind": "pipeline", "name": "sum_orders", "owner": "sales@example.com",
        "description": "orders per day", "url": "/catalog/pipeline/sum_orders", "tags": [], "team": "",
        "lifecycle": "active"}


@pytest.mark.parametrize(("args", "field"), [
    ({"kind": "modle"}, "kind"),
    ({"owner": "o" * 1001}, "owner"),
    ({"tag": "t" * 101}, "tag"),
    ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": MAX_OFFSET + 1}, "offset"),
])
def test_bad_filters_are_refused_naming_the_field(args: dict[str, object], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        Shelf(ENTRIES).browse(**args)  # type: ignore[arg-type]
    assert caught.value.where == field
    if field == "kind":
        assert "did you mean 'model'" in caught.value.hint
