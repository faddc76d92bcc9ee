"""``make bench-peers``: andon against Luigi, Dagster and Prefect, the same no-op work side by side.

Each peer is installed into a throw-away virtual environment of its own under ``--cache``
(``benchmarks/.peers/``, git-ignored; never a dependency of andon), at the version issue 18 names
(the newest one when that is missing; the version installed is recorded). Three figures, each run
as whole processes timed from ``Popen`` to exit, interleaved in rounds (every tool's run of a
figure, then the next figure, then the next round), so that a machine whose load changes
changes every tool's figures alike:

- ``--help`` cold start of the tool's command line;
- ``--chain`` no-op tasks in a chain, in the tool's own process, start to exit (definitions
  loaded, storage created, every task run);
- ``--procs`` no-op tasks, one OS process each, start to exit, as a fan-out and as a chain, with a
  pool of 2 and of 8 (only where the tool offers a process per task).

What each tool runs is in ``peers_tools.py`` (andon's side: ``peer_andon.py``). Every run starts
with fresh storage. Writes ``benchmarks/results/peers.json`` and ``peers.md``: every sample, each
tool's median and the ratio of the fastest peer's median to andon's (above 1: andon is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import HERE, RESULTS, bench_env, console_script, machine, now_iso
from benchprojects import shape_definitions, write_project
from peers_tools import PEERS, Peer

CACHE = HERE / ".peers"
TOOLS = ("andon", *PEERS)


# -- installing the peers ----------------------------------------------------------------------

def _version(venv: Path, dist: str) -> str:
    proc = subprocess.run([str(venv / "bin" / "python"), "-c",
                           f"import importlib.metadata as m; print(m.version({dist!r}))"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def install(peer: Peer, cache: Path) -> dict[str, str]:
    """The peer's venv, made and filled once (a venv whose install failed is made again)."""
    venv = cache / peer.name
    version = _version(venv, peer.name) if (venv / "bin" / "python").exists() else ""
    asked = peer.requirement
    if not version:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        if subprocess.run([*pip, peer.requirement]).returncode != 0:
            print(f"  {peer.requirement} is not installable; the newest {peer.name} instead",
                  flush=True)
            asked = peer.name
            subprocess.run([*pip, peer.name], check=True)
        version = _version(venv, peer.name)
    return {"venv": str(venv), "requirement": asked, "version": version}


# -- one run -----------------------------------------------------------------------------------

def _prepare(tool: str, folder: Path, shape: str, n: int, pool: int,
             cache: Path) -> tuple[list[str], dict[str, str]]:
    """Write what the run needs into ``folder`` (not timed); its command and environment."""
    if tool == "andon":
        write_project(folder / "project", shape_definitions(shape, n), {"default": max(pool, 1)})
        return ([sys.executable, str(HERE / "peer_andon.py"), str(folder / "project"), str(pool)],
                bench_env())
    peer = PEERS[tool]
    script = folder / "driver.py"
    script.write_text(peer.driver)
    home = folder / "home"
    home.mkdir()
    return (peer.command(cache / tool, script, shape, n, pool),
            peer.environment(home, shape, n, pool))


def run_once(tool: str, fig: dict[str, Any], cache: Path, timeout: float) -> dict[str, Any]:
    """One timed process: ``{"s": seconds}`` or ``{"error": ...}``."""
    folder = Path(tempfile.mkdtemp(prefix=f"andon-peers-{tool}-"))
    try:
        if fig["kind"] == "help":  # andon's: the checkout's console script (its fast door)
            cli = console_script(folder)[0] if tool == "andon" else \
                cache / tool / "bin" / PEERS[tool].cli
            cmd, env = [str(cli), "--help"], bench_env()
        else:
            cmd, env = _prepare(tool, folder, fig["shape"], fig["n"], fig["pool"], cache)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, env=env, cwd=folder, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"did not finish within {timeout:g} s", "timeout": True}
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"error": f"exit {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')[-1500:]}"}
        return {"s": seconds}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the figures -------------------------------------------------------------------------------

def figures(chain_n: int, procs_n: list[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"key": "help", "kind": "help", "title": "`--help` cold start"},
        {"key": f"chain_{chain_n}_inprocess", "kind": "work", "shape": "chain", "n": chain_n,
         "pool": 0, "title": f"{chain_n:,} no-op tasks in a chain, one process, start to exit"}]
    for n in procs_n:
        for shape in ("fanout", "chain"):
            for pool in (2, 8):
                out.append({"key": f"{shape}_{n}_procs_pool{pool}", "kind": "work", "shape": shape,
                            "n": n, "pool": pool,
                            "title": f"{n:,} tasks, a process each, {shape}, pool of {pool}"})
    return out


def applies(tool: str, fig: dict[str, Any], no_procs: list[str]) -> bool:
    if tool == "andon" or fig["kind"] == "help" or fig["pool"] == 0:
        return True
    return PEERS[tool].processes and tool not in no_procs


Table = dict[str, dict[str, dict[str, Any]]]


def measure(tools: list[str], figs: list[dict[str, Any]], rounds: int, cache: Path,
            timeout: float, no_procs: list[str],
            on_round: Callable[[Table, int], None]) -> Table:
    """Every (figure, tool) run once a round, interleaved; a (figure, tool) that failed or timed
    out is not run again. ``on_round`` gets the table (medians so far) after each round."""
    table: dict[str, dict[str, dict[str, Any]]] = {
        f["key"]: {t: {"samples": []} for t in tools if applies(t, f, no_procs)} for f in figs}
    for r in range(rounds):
        for fig in figs:
            for tool, cell in table[fig["key"]].items():
                if "error" in cell:
                    continue
                got = run_once(tool, fig, cache, timeout)
                if "s" in got:
                    cell["samples"].append(round(got["s"], 4))
                else:
                    cell.update(got)
                shown = f"{got['s']:.3f} s" if "s" in got else got["error"].splitlines()[0]
                print(f"  round {r + 1}  {fig['key']:28s} {tool:8s} {shown}", flush=True)
        for row in table.values():
            for cell in row.values():
                cell["median_s"] = statistics.median(cell["samples"]) if cell["samples"] else None
        on_round(table, r + 1)
    return table


def ratio(row: dict[str, dict[str, Any]]) -> tuple[str | None, float | None]:
    """The fastest peer and its median over andon's (None when either is missing)."""
    peers = [(t, c["median_s"]) for t, c in row.items()
             if t != "andon" and c["median_s"] is not None]
    ours = row.get("andon", {}).get("median_s")
    if not peers or not ours:
        return None, None
    tool, best = min(peers, key=lambda p: p[1])
    return tool, best / ours


def kept_cells(path: Path, measured: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """The cells of the tools not in ``measured`` from the results at ``path``, each with the
    date it was measured (``kept_from``); {} when there are none."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    return {key: {tool: {**cell, "kept_from": cell.get("kept_from", old["date"])}
                  for tool, cell in row.items() if tool not in measured}
            for key, row in old["results"].items()}


def merge(table: Table, kept: dict[str, dict[str, dict[str, Any]]]) -> Table:
    """``table`` with the kept cells of its figures added (the measured ones win)."""
    return {key: {**kept.get(key, {}), **row} for key, row in table.items()}


def _cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "–"
    if cell.get("kept_from"):
        return _cell({k: v for k, v in cell.items() if k != "kept_from"}) + " *"
    if cell.get("median_s") is None:
        return "timed out" if cell.get("timeout") else "failed"
    s = cell["median_s"]
    text = f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"
    return text + (" (timed out later)" if cell.get("timeout") else "")


def markdown(data: dict[str, Any]) -> str:
    tools = data["tools"]
    head = ["figure", *(f"{t} {data['versions'].get(t, '')}".strip() for t in tools),
            "fastest peer / andon"]
    lines = [f"# andon and its peers ({data['date']}, {data['rounds']} rounds, medians)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fig in data["figures"]:
        row = data["results"][fig["key"]]
        tool, r = ratio(row)
        lines.append("| " + " | ".join([fig["title"], *(_cell(row.get(t)) for t in tools),
                                        f"{r:.1f}× ({tool})" if r else "–"]) + " |")
    load = data["machine"].get("loadavg_at_start"), data["loadavg_at_end"]
    lines += ["", f"Whole processes, start to exit; load average {load[0]} at the start and "
              f"{load[1]} at the end, on {data['machine'].get('nproc')} cores. \"–\": the tool "
              "offers no process per task (Prefect), or the figure was not measured (`--no-procs`). What "
              "each tool runs: `benchmarks/peers_tools.py`; command: "
              f"`{data['command']}`."]
    kept = sorted({c["kept_from"] for row in data["results"].values() for c in row.values()
                   if c.get("kept_from")})
    if kept:
        lines.append(f"\n\\* not measured in this run (`--keep`): the median of the run of "
                     f"{', '.join(kept)}.")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--chain", type=int, default=1000, help="tasks of the in-process chain")
    parser.add_argument("--procs", type=int, nargs="+", default=[100, 1000],
                        help="task counts of the process-per-task figures")
    parser.add_argument("--only", nargs="+", help="only the figures whose key starts so")
    parser.add_argument("--no-procs", nargs="+", default=[], choices=list(PEERS),
                        help="peers whose process-per-task figures are left out (Dagster's "
                             "take minutes a run)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 round, a 200-task chain, 50 tasks a process each")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the peers' venvs go")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    parser.add_argument("--keep", action="store_true",
                        help="keep the cells of the tools not measured now from the previous "
                             "results in --out (marked as of their date in the table)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.chain, args.procs = 1, min(args.chain, 200), [min(args.procs[0], 50)]

    started, load0 = time.monotonic(), os.getloadavg()
    kept_versions: dict[str, str] = {}
    if args.keep and (args.out / "peers.json").exists():
        kept_versions = json.loads((args.out / "peers.json").read_text()).get("versions", {})
    versions, installs = {}, {}
    for tool in args.tools:
        if tool != "andon":
            print(f"== installing {tool} into {args.cache / tool}", flush=True)
            installs[tool] = install(PEERS[tool], args.cache)
            versions[tool] = installs[tool]["version"]
    figs = figures(args.chain, args.procs)
    if args.only:
        figs = [f for f in figs if f["key"].startswith(tuple(args.only))]
    def write(table: Table, rounds: int) -> str:
        """The results so far (after each round: a run cut short keeps its finished rounds)."""
        tools = [t for t in TOOLS if t in args.tools or any(t in row for row in table.values())]
        data = {"benchmark": "peers", "date": now_iso(), "rounds": rounds, "tools": tools,
                "versions": {**{t: kept_versions.get(t, "") for t in tools}, **versions},
                "installs": installs, "figures": figs, "results": table,
                "ratios": {k: dict(zip(("fastest_peer", "fastest_peer_over_andon"), ratio(row),
                                       strict=True)) for k, row in table.items()},
                "machine": {**machine(), "loadavg_at_start": [round(x, 2) for x in load0]},
                "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                "command": " ".join([".venv/bin/python", "benchmarks/bench_peers.py",
                                     *sys.argv[1:]]),
                "seconds": round(time.monotonic() - started, 1)}
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "peers.json").write_text(json.dumps(data, indent=2) + "\n")
        text = markdown(data)
        (args.out / "peers.md").write_text(text)
        return text

    kept = kept_cells(args.out / "peers.json", args.tools) if args.keep else {}
    table = measure(args.tools, figs, args.rounds, args.cache, args.timeout, args.no_procs,
                    lambda t, r: write(merge(t, kept), r))
    table = merge(table, kept)
    print(write(table, args.rounds))
    failed = [f"{k}/{t}" for k, row in table.items() for t, c in row.items()
              if c.get("error") and not c.get("timeout") and not c.get("kept_from")]
    if failed:
        print(f"could not run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
