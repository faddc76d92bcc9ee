"""The catalog's search at 100,000 entries (issue 11), on SQLite and on PostgreSQL (a throw-away
server started as the tests start one; skipped, with the reason, when none can start): a
generated ``catalog.toml`` (names, descriptions, tags, owners made from a few thousand
pseudo-words); the service's search built from scratch in this process (read + the store's
catalog table + index) and one entry added; then a real ``andon up`` answering 200 varied
queries (exact names, prefixes, words, one-typo names) through ``GET /api/v1/search`` on a
keep-alive connection from 127.0.0.1 (p50 and p95, exact names at rank 1, typos in the top 3),
and entries declared through ``POST /api/v1/catalog/entries``, each timed end to end."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import REPO, Http, Result, Server, enable_bytecode, figure, percentile
from benchprojects import scratch, write_project

KINDS = ("dataset", "model", "service", "library")
DEFINITIONS = 'import andon\nandon.source("events")\n'
DECLARATIONS = 20  # entries declared through the API, each timed end to end


def words(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct pronounceable pseudo-words of 2 to 4 syllables."""
    onsets = [*"bcdfghklmnprstvwz", "br", "cr", "dr", "fl", "gr", "pl", "st", "tr"]
    vowels = "aeiou"
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(onsets) + rng.choice(vowels)
                        for _ in range(rng.randint(2, 4))))
    return sorted(out)


def entries(n: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocab = words(rng, 3000)
    owners = [f"{w}@example.com" for w in rng.sample(vocab, 300)]
    made: list[dict[str, Any]] = []
    names: set[tuple[str, str]] = set()
    while len(made) < n:
        kind = KINDS[len(made) % 4]
        name = "_".join(rng.sample(vocab, rng.randint(2, 3)))
        if (kind, name) in names:
            continue
        names.add((kind, name))
        made.append({"kind": kind, "name": name, "owner": rng.choice(owners),
                     "description": " ".join(rng.choices(vocab, k=rng.randint(4, 12))),
                     "tags": rng.sample(vocab[:200], rng.randint(0, 3))})
    return made


def catalog_toml(items: list[dict[str, Any]]) -> str:
    return "".join(
        f'[[entries]]\nkind = "{e["kind"]}"\nname = "{e["name"]}"\nowner = "{e["owner"]}"\n'
        f'description = "{e["description"]}"\ntags = {json.dumps(e["tags"])}\n\n' for e in items)


def typo(rng: random.Random, name: str) -> str:
    """``name`` with one typo: a letter replaced, dropped, doubled or two swapped."""
    i = rng.randrange(1, len(name) - 1)
    how = rng.choice(("replace", "drop", "double", "swap"))
    if how == "replace":
        return name[:i] + rng.choice([c for c in "aeioulnrst" if c != name[i]]) + name[i + 1:]
    if how == "drop":
        return name[:i] + name[i + 1:]
    if how == "double":
        return name[:i] + name[i] + name[i:]
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]


def queries(items: list[dict[str, Any]], count: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """(what, query, the name it is after): a quarter each of exact names, prefixes, words of a
    description, one-typo names."""
    rng = random.Random(seed)
    picked = rng.sample(items, count)
    out = []
    for n, e in enumerate(picked):
        what = ("exact", "prefix", "words", "typo")[n % 4]
        if what == "exact":
            q = e["name"]
        elif what == "prefix":
            q = e["name"][:max(3, len(e["name"]) * 2 // 3)]
        elif what == "words":
            q = " ".join(rng.sample(e["description"].split(), 2))
        else:
            q = typo(rng, e["name"])
        out.append((what, q, e["name"]))
    return out


def build(root: Path, url: str) -> dict[str, float]:
    """Seconds, in this process, to read catalog.toml, to build the service's search from
    scratch into an empty store at ``url`` (read + sync to its catalog table + index), and to
    put one entry declared through the API into it once its event is committed."""
    from andon.live.catalog import Catalog
    from andon.project.load import load_project
    from andon.registry.declared import load_declared
    from andon.store.sql import Store

    graph = load_project(root).graph
    store = Store(url)
    try:
        t0 = time.perf_counter()
        load_declared(root, graph)
        t1 = time.perf_counter()
        catalog = Catalog(graph, root, store)
        catalog.rebuild()
        t2 = time.perf_counter()
        event = catalog.declare({"kind": "model", "name": "one_more_model",
                                 "owner": "ml@example.com",
                                 "description": "added after the build"}, datetime.now(UTC),
                                "bench")
        store.append([event])
        t3 = time.perf_counter()
        catalog.refresh((event.kind, event.entry))
        t4 = time.perf_counter()
        assert catalog.search("one_more_model").hits[0].entry.name == "one_more_model"
        t5 = time.perf_counter()
        catalog.rebuild()  # the files unchanged: a restart's build
        t6 = time.perf_counter()
    finally:
        store.close()
    return {"read_s": t1 - t0, "build_s": t2 - t1, "record_one_s": t3 - t2,
            "add_one_s": t4 - t3, "search_one_s": t5 - t4, "rebuild_unchanged_s": t6 - t5}


def measure(root: Path, asked: list[tuple[str, str, str]], build_url: str) -> dict[str, Any]:
    """The build in this process (into a store of its own at ``build_url``), then a real
    ``andon up`` of ``root`` (its store is the project's ``database_url``): the first search
    (waits for the background build from scratch), the queries, and declarations through the
    API end to end."""
    built = build(root, build_url)
    with Server(root) as server:
        http = Http(server.wait_ready())
        t0 = time.perf_counter()
        status, _, _, _ = http.get("/api/v1/search?q=warmup", gzip=False)
        first = time.perf_counter() - t0
        assert status == 200, status
        samples: list[dict[str, Any]] = []
        for what, q, wanted in asked:
            path = "/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 10})
            status, _, body, seconds = http.get(path, gzip=False)
            found = [r["name"] for r in json.loads(body)["results"]]
            samples.append({"what": what, "q": q, "wanted": wanted, "status": status,
                            "ms": seconds * 1000,
                            "rank": found.index(wanted) + 1 if wanted in found else None})
        token = server.token()
        declared = []
        for n in range(DECLARATIONS):
            name = f"declared_model_{n}"
            t0 = time.perf_counter()
            status, answer = http.post_json("/api/v1/catalog/entries", {
                "kind": "model", "name": name, "owner": "ml@example.com",
                "description": f"declared through the API, number {n}"}, token)
            declared.append(time.perf_counter() - t0)
            assert status == 201, answer
            status, _, body, _ = http.get(f"/api/v1/search?q={name}", gzip=False)
            assert json.loads(body)["results"][0]["name"] == name, body[:200]
        http.close()
    ms = [s["ms"] for s in samples]
    exact = [s for s in samples if s["what"] == "exact"]
    typos = [s for s in samples if s["what"] == "typo"]
    return {"build": built, "first_search_s": first, "samples": samples,
            "p50_s": percentile(ms, 50) / 1000, "p95_s": percentile(ms, 95) / 1000,
            "exact_rate": sum(s["rank"] == 1 for s in exact) / len(exact),
            "typo_rate": sum(s["rank"] is not None and s["rank"] <= 3 for s in typos) / len(typos),
            "declare_p50_s": percentile(declared, 50), "declare_p95_s": percentile(declared, 95),
            "p95_ms_by_query_kind": {w: round(percentile([s["ms"] for s in samples
                                                          if s["what"] == w], 95), 2)
                                     for w in ("exact", "prefix", "words", "typo")}}


def figures(label: str, m: dict[str, Any], entries: int) -> list[dict[str, Any]]:
    def rate(name: str, value: float, target: float) -> dict[str, Any]:
        return {**figure(name, value * 100, "%"), "target": target * 100,
                "pass": value >= target, "bound": "lower",
                "note": "a rate to reach: pass when value >= target"}

    n = len(m["samples"])
    return [
        figure(f"{label}: search built from scratch ({entries:,} entries: read catalog.toml + "
               "write the store's catalog table + index)", m["build"]["build_s"], "s", 10.0),
        figure(f"{label}: adding one entry to the search once its event is committed",
               m["build"]["add_one_s"], "s", 0.005),
        figure(f"{label}: first search of a fresh andon up (waits for the background build)",
               m["first_search_s"], "s"),
        figure(f"{label}: search through the HTTP API, p50 of {n}", m["p50_s"], "s"),
        figure(f"{label}: search through the HTTP API, p95 of {n}", m["p95_s"], "s", 0.020),
        rate(f"{label}: exact name at rank 1", m["exact_rate"], 1.0),
        rate(f"{label}: one-typo name in the top 3", m["typo_rate"], 0.95),
        figure(f"{label}: one declaration through the API end to end (POST "
               f"/api/v1/catalog/entries, recorded and searchable), p50 of {DECLARATIONS}",
               m["declare_p50_s"], "s")]


def report(label: str, m: dict[str, Any]) -> None:
    b = m["build"]
    print(f"  {label}: build {b['build_s']:.2f} s (read {b['read_s']:.2f} s; unchanged "
          f"{b['rebuild_unchanged_s']:.2f} s), add one {b['add_one_s'] * 1000:.2f} ms, first "
          f"search {m['first_search_s']:.2f} s; p50 {m['p50_s'] * 1000:.1f} ms, p95 "
          f"{m['p95_s'] * 1000:.1f} ms {m['p95_ms_by_query_kind']}; exact at 1: "
          f"{m['exact_rate']:.0%}, typo in top 3: {m['typo_rate']:.0%}; declare p50 "
          f"{m['declare_p50_s'] * 1000:.1f} ms, p95 {m['declare_p95_s'] * 1000:.1f} ms")


def postgres() -> tuple[Any, str]:
    """A throw-away PostgreSQL server as the tests start one (tests/pg.py), or (None, why)."""
    sys.path.insert(0, str(REPO))
    try:
        from tests.pg import PostgresServer, PostgresUnavailable
    except ImportError as exc:  # psycopg missing: not a dev install
        return None, f"no PostgreSQL driver: {exc}"
    try:
        return PostgresServer().start(), ""
    except PostgresUnavailable as exc:
        return None, str(exc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    enable_bytecode()
    result = Result("search", f"the catalog's search at {args.entries:,} entries: built from "
                    "scratch, 200 varied queries through GET /api/v1/search of a real andon up "
                    "and declarations through POST /api/v1/catalog/entries, on SQLite (FTS5 in "
                    "memory) and PostgreSQL (full text in the database)")
    items = entries(args.entries)
    asked = queries(items, args.queries)
    details: dict[str, Any] = {"entries": args.entries}
    with scratch("search") as root:
        write_project(root, DEFINITIONS, {"default": 2})
        (root / "catalog.toml").write_text(catalog_toml(items))
        sqlite = measure(root, asked, f"sqlite:///{root / 'build.db'}")
        report("SQLite", sqlite)
        result.add(*figures("SQLite", sqlite, args.entries))
        details["sqlite"] = sqlite
        server, why = (None, "--no-postgres") if args.no_postgres else postgres()
        if server is None:
            print(f"  PostgreSQL skipped: {why}")
            details["postgresql_skipped"] = why
        else:
            try:
                with (root / "andon.toml").open("a") as fh:
                    fh.write(f'\n[settings]\ndatabase_url = "{server.create_database("serve")}"\n')
                pg = measure(root, asked, server.create_database("build"))
                report("PostgreSQL", pg)
                result.add(*figures("PostgreSQL", pg, args.entries))
                details["postgresql"] = pg
            finally:
                server.stop()
    result.details = details
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
