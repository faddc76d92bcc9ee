"""Browsing the catalog: its facets (how many entries of each kind, the owners and the tags with
the most entries) and its listings filtered by kind, owner and tag, paged. A read model of the
same entries as the search index, computed once when the index is built; a listing then costs
the entries of its narrowest filter, never a scan of the whole catalog."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from andon.model.errors import BadRequest
from andon.model.words import did_you_mean
from andon.registry.declared import MAX_TAG
from andon.registry.entries import KINDS, Entry
from andon.registry.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY

TOP = 10  # owners and tags in the facets, the most entries first
MAX_OFFSET = 10_000_000  # past any catalog: catalog.toml holds at most 256 MB


@dataclass(frozen=True)
class Facets:
    """The catalog at a glance: how many entries in all and how many of them are ``declared``
    (``catalog.toml``); ``kinds``, every kind with its count (zeros too, in ``KINDS`` order);
    the ``TOP`` ``owners`` and ``tags`` with the most entries (most first, then by name) and how
    many distinct ones there are in all."""

    total: int
    declared: int
    kinds: tuple[tuple[str, int], ...]
    owners: tuple[tuple[str, int], ...]
    tags: tuple[tuple[str, int], ...]
    owner_count: int
    tag_count: int

    def to_json(self) -> dict[str, object]:
        return {"total": self.total, "declared": self.declared, "kinds": dict(self.kinds),
                "owners": [{"owner": o, "count": n} for o, n in self.owners],
                "owner_count": self.owner_count,
                "tags": [{"tag": t, "count": n} for t, n in self.tags],
                "tag_count": self.tag_count}


@dataclass(frozen=True)
class Listing:
    """One page of a filtered listing: its ``entries`` (by kind in ``KINDS`` order, then name),
    how many entries match in all, and the page's ``limit`` and ``offset``."""

    entries: list[Entry]
    total: int
    limit: int
    offset: int

    def to_json(self) -> dict[str, object]:
        return {"entries": [entry_json(e) for e in self.entries], "total": self.total,
                "limit": self.limit, "offset": self.offset}


def entry_json(e: Entry) -> dict[str, object]:
    """An entry as a listing shows it (a search hit adds its score: ``search.Hit``)."""
    return {"kind": e.kind, "name": e.name, "owner": e.owner, "description": e.description,
            "url": e.url(), "tags": list(e.tags), "team": e.team, "lifecycle": e.lifecycle}


class Shelf:
    """The entries in browsing order, with an index of positions per kind, owner and tag (owner
    and tag compared in any case). Immutable once built: safe to share between threads."""

    def __init__(self, entries: Iterable[Entry], top: int = TOP) -> None:
        order = {k: i for i, k in enumerate(KINDS)}
        self._entries = sorted(entries, key=lambda e: (order.get(e.kind, len(KINDS)), e.name))
        self._keys = {e.key: e for e in self._entries}
        self._by: dict[str, dict[str, list[int]]] = {"kind": {}, "owner": {}, "tag": {}}
        owners: Counter[str] = Counter()
        tags: Counter[str] = Counter()
        spelled: dict[str, str] = {}  # lower case -> the spelling met first
        for i, e in enumerate(self._entries):
            self._by["kind"].setdefault(e.kind, []).append(i)
            if e.owner:
                low = e.owner.lower()
                self._by["owner"].setdefault(low, []).append(i)
                spelled.setdefault("o:" + low, e.owner)
                owners[low] += 1
            for low, tag in {t.lower(): t for t in e.tags}.items():  # a tag once per entry
                self._by["tag"].setdefault(low, []).append(i)
                spelled.setdefault("t:" + low, tag)
                tags[low] += 1

        def top_of(counts: Counter[str], prefix: str) -> tuple[tuple[str, int], ...]:
            best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            return tuple((spelled[prefix + k], n) for k, n in best)

        self.facets = Facets(len(self._entries), sum(e.declared for e in self._entries),
                             tuple((k, len(self._by["kind"].get(k, ()))) for k in KINDS),
                             top_of(owners, "o:"), top_of(tags, "t:"), len(owners), len(tags))

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, kind: str, name: str) -> Entry | None:
        """The entry of ``kind`` named ``name``, or None."""
        return self._keys.get((kind, name))

    def browse(self, kind: str | None = None, owner: str | None = None, tag: str | None = None,
               limit: int = DEFAULT_LIMIT, offset: int = 0) -> Listing:
        """The entries of ``kind``, owned by ``owner``, tagged ``tag`` (each optional; owner and
        tag in any case), from ``offset``, at most ``limit``. BadRequest naming the field: an
        unknown kind, an over-long owner or tag, a limit outside 1..MAX_LIMIT, an offset outside
        0..MAX_OFFSET."""
        check_kind(kind)
        for field, value, most in (("owner", owner, MAX_QUERY), ("tag", tag, MAX_TAG)):
            if value is not None and len(value) > most:
                raise BadRequest(f"field {field!r} must be at most {most} characters",
                                 where=field, hint=f"name the {field} exactly, as the facets "
                                                   "list it")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"field 'limit' must be between 1 and {MAX_LIMIT}", where="limit",
                             hint=f"leave it out for {DEFAULT_LIMIT} entries")
        if not 0 <= offset <= MAX_OFFSET:
            raise BadRequest(f"field 'offset' must be between 0 and {MAX_OFFSET}",
                             where="offset", hint="page on with offset = the previous offset "
                                                  "+ limit, while below total")
        wanted = [(f, v.lower() if f != "kind" else v)
                  for f, v in (("kind", kind), ("owner", owner), ("tag", tag)) if v]
        if not wanted:
            return Listing(self._entries[offset:offset + limit], len(self._entries), limit,
                           offset)
        # walk the narrowest filter's positions, checking the others on each entry
        narrowest = min((self._by[f].get(v, []) for f, v in wanted), key=len)
        found = [i for i in narrowest if _fits(self._entries[i], wanted)]
        return Listing([self._entries[i] for i in found[offset:offset + limit]], len(found),
                       limit, offset)


def _fits(e: Entry, wanted: list[tuple[str, str]]) -> bool:
    for field, value in wanted:
        if field == "kind" and e.kind != value or field == "owner" and e.owner.lower() != value \
                or field == "tag" and value not in (t.lower() for t in e.tags):
            return False
    return True


def check_kind(kind: str | None, hint: str = "leave it out for every kind") -> None:
    """BadRequest naming the field ``kind`` (with the closest kind, else ``hint``) unless it is
    one of ``KINDS`` or None."""
    if kind is not None and kind not in KINDS:
        raise BadRequest(f"field 'kind' must be one of {', '.join(KINDS)}, not {kind[:40]!r}",
                         where="kind", hint=did_you_mean(kind[:40], KINDS).strip() or hint)
