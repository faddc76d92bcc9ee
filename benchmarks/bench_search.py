"""The catalog's search at 100,000 entries (issue 11): a generated ``catalog.toml`` (names,
descriptions, tags, owners made from a few thousand pseudo-words), the index built from scratch
in this process (read + index, and adding one entry), then a real ``andon up`` answering 200
varied queries (exact names, prefixes, words, one-typo names) through ``GET /api/v1/search`` on
a keep-alive connection from 127.0.0.1: p50 and p95, exact names at rank 1, typos in the top 3."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from benchlib import Http, Result, Server, enable_bytecode, figure, percentile
from benchprojects import scratch, write_project

KINDS = ("dataset", "model", "service", "library")
DEFINITIONS = 'import andon\nandon.source("events")\n'


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


def build(root: Path) -> dict[str, float]:
    """Seconds to read catalog.toml, to index it, and to add one entry, in this process."""
    from andon.registry.declared import load_declared
    from andon.registry.entries import Entry
    from andon.registry.search import SearchIndex

    t0 = time.perf_counter()
    declared = load_declared(root)
    t1 = time.perf_counter()
    index = SearchIndex(declared)
    t2 = time.perf_counter()
    index.add(Entry("model", "one_more_model", "ml@example.com", "added after the build"))
    t3 = time.perf_counter()
    assert index.search("one_more_model").hits[0].entry.name == "one_more_model"
    return {"read_s": t1 - t0, "index_s": t2 - t1, "build_s": t2 - t0, "add_one_s": t3 - t2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    enable_bytecode()
    result = Result("search", f"the catalog's search at {args.entries:,} entries: index built "
                    "from scratch, 200 varied queries through GET /api/v1/search of a real "
                    "andon up (SQLite FTS5 in memory)")
    items = entries(args.entries)
    asked = queries(items, args.queries)
    with scratch("search") as root:
        write_project(root, DEFINITIONS, {"default": 2})
        (root / "catalog.toml").write_text(catalog_toml(items))
        built = build(root)
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
            http.close()
    ms = [s["ms"] for s in samples]
    exact = [s for s in samples if s["what"] == "exact"]
    typos = [s for s in samples if s["what"] == "typo"]
    exact_rate = sum(s["rank"] == 1 for s in exact) / len(exact)
    typo_rate = sum(s["rank"] is not None and s["rank"] <= 3 for s in typos) / len(typos)
    by_kind = {w: round(percentile([s["ms"] for s in samples if s["what"] == w], 95), 2)
               for w in ("exact", "prefix", "words", "typo")}

    def rate(name: str, value: float, target: float) -> dict[str, Any]:
        return {**figure(name, value * 100, "%"), "target": target * 100,
                "pass": value >= target, "bound": "lower",
                "note": "a rate to reach: pass when value >= target"}

    result.add(
        figure(f"index built from scratch ({args.entries:,} entries: read catalog.toml + "
               "index)", built["build_s"], "s", 10.0),
        figure("adding one entry to the index", built["add_one_s"], "s", 0.005),
        figure("first search of a fresh andon up (reads and indexes the catalog)", first, "s"),
        figure(f"search through the HTTP API, p50 of {len(ms)}", percentile(ms, 50) / 1000, "s"),
        figure(f"search through the HTTP API, p95 of {len(ms)}", percentile(ms, 95) / 1000, "s",
               0.020),
        rate("exact name at rank 1", exact_rate, 1.0),
        rate("one-typo name in the top 3", typo_rate, 0.95))
    result.details = {"entries": args.entries, "build": built, "first_search_s": first,
                      "p95_ms_by_query_kind": by_kind, "samples": samples}
    print(f"  build {built['build_s']:.2f} s (read {built['read_s']:.2f} s), add one "
          f"{built['add_one_s'] * 1000:.2f} ms, first search {first:.2f} s; p50 "
          f"{percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms {by_kind}; exact at 1: "
          f"{exact_rate:.0%}, typo in top 3: {typo_rate:.0%}")
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
