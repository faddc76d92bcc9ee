"""The catalog's search: the ranking contract every backend keeps, and SQLite's backend, an FTS5
index in memory (PostgreSQL's searches its store: ``andon.registry.pgsearch``).

Ranking, best first: an exact name match (case-insensitive), then names that start with the
query (shorter first), then full text over name, description, tags and owner (bm25 with the
name weighted most; a deprecated entry's score halved). When nothing matches, the results are
the names a typo away instead (a trigram index narrows, difflib decides), and ``suggestion`` is
the best of them, for a "did you mean"."""

from __future__ import annotations

import difflib
import sqlite3
import threading
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from andon.model.words import words
from andon.registry.entries import Entry

EXACT, PREFIX = 1000.0, 500.0  # the floors of the first two tiers; full-text scores stay below
MAX_QUERY = 1000  # the longest query (characters); longer ones are refused, not cut
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000  # results of one search: by default, at most
TEXT = 2.0  # the floor of full-text scores (bm25, as a positive number, is added to it)
CLOSE = 1.0  # the most a name a typo away scores (only when nothing else matched)
RARE_GRAMS = 6  # how many of a query's trigrams look for names a typo away
SIMILAR = 0.75  # how alike (difflib's ratio) a name must be to count as a typo away
# bm25 weights of the columns name, description, tags, owner
WEIGHTS = (10.0, 1.0, 4.0, 2.0)
_TOP = chr(0x10FFFF)
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Hit:
    """One result: the entry and its score (higher is better; see the module's tiers)."""

    entry: Entry
    score: float

    def to_json(self) -> dict[str, object]:
        e = self.entry
        return {"kind": e.kind, "name": e.name, "owner": e.owner, "description": e.description,
                "score": round(self.score, 3), "url": e.url(), "tags": list(e.tags),
                "team": e.team, "lifecycle": e.lifecycle}


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    suggestion: str | None  # the closest name when nothing matched but names a typo away

    def to_json(self) -> dict[str, object]:
        return {"results": [h.to_json() for h in self.hits], "suggestion": self.suggestion}


class Searcher(Protocol):
    """A search backend: the ranking contract of this module over the catalog's entries."""

    def search(self, query: str, kind: str | None = None, owner: str | None = None,
               limit: int = DEFAULT_LIMIT) -> Found:
        """The best ``limit`` entries for ``query`` (of ``kind``, owned by ``owner``: exact,
        case-insensitive), best first; an empty query finds nothing."""
        ...

    def put(self, key: tuple[str, str], entry: Entry | None) -> None:
        """Keep the backend in step with the catalog's entry ``key``: now ``entry`` (None: it
        is gone)."""
        ...


def ranked(scored: Iterable[tuple[Entry, float]], limit: int, fuzzy: bool) -> Found:
    """The answer of a search from its scored entries: an exact name or a prefix keeps its
    tier, a deprecated entry's full-text score is halved; with ``fuzzy`` (only names a typo
    away were found) the best is the suggestion."""
    hits = [Hit(e, s / 2 if not fuzzy and e.lifecycle == "deprecated" and s < PREFIX else s)
            for e, s in scored]
    hits.sort(key=lambda h: (-h.score, h.entry.name, h.entry.kind))
    return Found(hits[:limit], hits[0].entry.name if fuzzy and hits else None)


def closest(q: str, candidates: Iterable[tuple[K, str]]) -> dict[K, float]:
    """Of ``candidates`` (id, lower-case name), those similar enough to ``q`` to be a typo away
    (difflib decides), scored below every other tier."""
    found = {}
    for i, lname in candidates:
        ratio = difflib.SequenceMatcher(None, q, lname).ratio()
        if ratio >= SIMILAR:
            found[i] = CLOSE * ratio
    return found


def text_score(rank: float) -> float:
    """A full-text match's score from its rank (positive, higher is better): below prefixes."""
    return min(TEXT + rank, PREFIX - 1)


def normal(text: str) -> str:
    """A query or an owner as the backends compare it: lower case, trimmed, a NUL character a
    space (no index holds one: FTS5 reads it as a string's end, PostgreSQL's text refuses it)."""
    return text.replace("\x00", " ").strip().lower()


def query_words(q: str) -> list[tuple[str, bool]]:
    """The words of a query, each with whether it is searched as a prefix (the last one, once
    it has three letters: results while typing; a shorter prefix matches too much to rank
    quickly)."""
    found = words(q).split()
    return [(w, n == len(found) - 1 and len(w) >= 3) for n, w in enumerate(found)]


class SearchIndex:
    """The entries in an in-memory SQLite database with an FTS5 table over them. Safe to share
    between threads (one lock: a search takes well under a millisecond of SQLite time)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._ids: dict[tuple[str, str], int] = {}  # the row of each entry in the tables
        self._db.executescript("""
            create table entry (id integer primary key, kind text, lname text, lowner text,
                                deprecated integer);
            create index entry_lname on entry (lname);
            create virtual table text using fts5 (name, description, tags, owner,
                                                  tokenize = 'unicode61 remove_diacritics 2');
            create virtual table gram using fts5 (lname, tokenize = 'trigram');
            create virtual table gram_terms using fts5vocab (gram, 'row');
        """)
        self.add(*entries)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, *entries: Entry) -> None:
        """Index ``entries`` (their (kind, name) must be new; ``put`` replaces one)."""
        with self._lock, self._db:
            first = len(self._entries)
            self._entries.extend(entries)
            self._ids.update((e.key, first + i) for i, e in enumerate(entries))
            rows = [(first + i, e.kind, e.name.lower(), e.owner.lower(),
                     e.lifecycle == "deprecated") for i, e in enumerate(entries)]
            self._db.executemany("insert into entry values (?, ?, ?, ?, ?)", rows)
            self._db.executemany(
                "insert into text (rowid, name, description, tags, owner) values (?, ?, ?, ?, ?)",
                [(first + i, words(e.name), e.description, " ".join(e.tags),
                  f"{e.owner} {e.team}") for i, e in enumerate(entries)])
            self._db.executemany("insert into gram (rowid, lname) values (?, ?)",
                                 [(r[0], r[2]) for r in rows])

    def put(self, key: tuple[str, str], entry: Entry | None) -> None:
        with self._lock, self._db:
            old = self._ids.pop(key, None)
            if old is not None:
                for table in ("entry", "text", "gram"):
                    self._db.execute(f"delete from {table} where rowid = ?", [old])
        if entry is not None:
            self.add(entry)

    def search(self, query: str, kind: str | None = None, owner: str | None = None,
               limit: int = DEFAULT_LIMIT) -> Found:
        q = normal(query)
        if not q or limit <= 0:
            return Found([], None)
        where, args = "", []
        if kind:
            where += " and e.kind = ?"
            args.append(kind)
        if owner:
            where += " and e.lowner = ?"
            args.append(normal(owner))
        scores: dict[int, float] = {}
        with self._lock:
            for (i,) in self._db.execute(f"select id from entry e where lname = ?{where}",
                                         [q, *args]):
                scores[i] = EXACT
            for i, lname in self._db.execute(
                    f"select id, lname from entry e where lname > ? and lname < ?{where} "
                    "order by length(lname), lname limit ?", [q, q + _TOP, *args, limit]):
                scores.setdefault(i, PREFIX + 100.0 / len(lname))
            match = _match(q)
            if match and len(scores) < limit:
                weights = ", ".join(str(w) for w in WEIGHTS)
                for i, rank in self._db.execute(
                        f"select t.rowid, bm25(text, {weights}) from text t join entry e "
                        f"on e.id = t.rowid where text match ?{where} order by 2 limit ?",
                        [match, *args, limit * 2]):
                    scores.setdefault(i, text_score(-rank))
            fuzzy = not scores
            if fuzzy:
                scores = self._close(q, where, args)
        return ranked(((self._entries[i], s) for i, s in scores.items()), limit, fuzzy)

    def _close(self, q: str, where: str, args: list[str]) -> dict[int, float]:
        """Entries whose name is close to ``q`` (a typo away): candidates sharing the most
        trigrams with it (FTS5's trigram index), kept when difflib finds them similar enough;
        scored below every other tier. The caller holds the lock."""
        candidates: list[tuple[int, str]] = []
        grams = sorted({q[i:i + 3] for i in range(len(q) - 2)})[:40]
        if grams:  # the rarest few: a typo spoils at most three, and common ones cost the most
            found_in = dict(self._db.execute(
                f"select term, doc from gram_terms where term in ({','.join('?' * len(grams))})",
                grams))
            grams = sorted(grams, key=lambda g: found_in.get(g, 0))[:RARE_GRAMS]
            match = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
            candidates += self._db.execute(
                f"select g.rowid, g.lname from gram g join entry e on e.id = g.rowid "
                f"where gram match ?{where} order by g.rank limit 50", [match, *args])
        # a short name with two letters swapped shares no trigram: try the names that start
        # the same way too, nearest in length first
        candidates += self._db.execute(
            f"select id, lname from entry e where lname >= ? and lname < ?{where} "
            "order by abs(length(lname) - ?) limit 50", [q[:2], q[:2] + _TOP, *args, len(q)])
        return closest(q, candidates)


def _match(q: str) -> str:
    """An FTS5 query: every word of ``q`` quoted, so no word is taken as an operator."""
    return " ".join(f'"{w}"' + ("*" if prefix else "") for w, prefix in query_words(q))
