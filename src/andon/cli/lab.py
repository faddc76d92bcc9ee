"""The lab: the demo, the simulator and its scenarios (no store, no server of the project)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from andon.cli.group import PLAN, Env, friendly, main, out_json, table
from andon.model.dispatch import DEFAULT_POLICY, one_of
from andon.sim.policies import ALL_POLICIES


@main.command(section=PLAN)
@click.argument("directory", default="demo-project", type=click.Path(file_okay=False))
@click.option("--speed", default=3600.0, show_default=True,
              help="simulated seconds per real second while no run executes (while one does, "
                   "at most 300, so runs take minutes on the demo's clock)")
@click.option("--days", default=7, show_default=True, help="daily partitions to replay")
@click.option("--port", default=8765, show_default=True, help="dashboard port (0 = any free)")
@click.option("--exit-when-done", is_flag=True,
              help="exit once nothing more can run: 0 when every partition was made, 1 (the "
                   "failures listed) when some cannot be")
@click.option("--executor", type=click.Choice(["local", "inprocess"]), default="local",
              show_default=True)
@click.option("--break", "broken", multiple=True, metavar="PIPELINE",
              help="make every run of PIPELINE fail, to see what the line does (repeatable)")
@click.pass_obj
@friendly
def demo(env: Env, directory: str, speed: float, days: int, port: int, exit_when_done: bool,
         executor: str, broken: tuple[str, ...]) -> None:
    """Write the retail + ML example to DIRECTORY and run a week of it on an accelerated clock,
    narrating its story as it happens: a late source flagged at risk, a bad partition that pulls
    the andon cord, a recurring failure, the customers' shift (drift), the waste. Needs the demo
    extra: pip install 'andon[demo]'."""
    from andon.serve.demo import run_demo

    code = run_demo(Path(directory), speed=speed, days=days, port=port,
                    exit_when_done=exit_when_done, executor=executor, broken=broken)
    sys.exit(code)


@main.command(section=PLAN)
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option("--policy", default=DEFAULT_POLICY.value, show_default=True,
              help=one_of(ALL_POLICIES))
@click.option("--compare", is_flag=True, help="run every policy and print one table")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False),
              help="write the trace (JSON lines) here")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--clairvoyant", is_flag=True,
              help="also solve the scenario offline with perfect knowledge of its sampled "
                   "arrivals and durations (CP-SAT, needs andon[opt]): the best possible")
@click.option("--budget", default=5.0, show_default=True,
              help="CP-SAT deterministic seconds for --clairvoyant (at most 600)")
@friendly
def simulate(scenario_file: str, policy: str, compare: bool, trace_file: str | None,
             as_json: bool, clairvoyant: bool, budget: float) -> None:
    """Run a scenario through the engine and a policy on a virtual clock."""
    from andon.sim.run import simulate as run_sim
    from andon.sim.run import write_trace
    from andon.sim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    if clairvoyant:
        _clairvoyant(scenario, budget, as_json)
        return
    if policy not in ALL_POLICIES:
        from andon.model.errors import ConfigError

        raise ConfigError(f"unknown policy {policy!r}", hint="use one of " + ", ".join(ALL_POLICIES))
    policies = ALL_POLICIES if compare else (policy,)
    results = []
    for name in policies:
        metrics, result = run_sim(scenario, name)
        results.append(metrics)
        if trace_file and not compare:
            write_trace(result, Path(trace_file))
    if as_json:
        out_json(results if compare else results[0])
        return
    cols = ("deadline_misses", "weighted_tardiness_minutes", "max_lateness_minutes",
            "slot_seconds_waiting", "polling_checks", "wasted_runs", "runs", "utilisation",
            "replan_ms_p99")
    short = ("MISSES", "W.TARDY(min)", "MAX.LATE(min)", "SLOT.WAIT(s)", "POLLS", "WASTED", "RUNS",
             "UTIL", "REPLAN.P99(ms)")
    click.echo(f"scenario {scenario.name}: {results[0]['deliverables']} deliverables, "
               f"{len(scenario.graph.pipelines)} pipelines, {scenario.days} days")
    table(("POLICY", *short), [(m["policy"], *(str(m[c]) for c in cols)) for m in results])
    for m in results:
        for note in m.get("notes", []):
            click.echo(f"note ({m['policy']}): {note}", err=True)


@main.group(section=PLAN)
def scenario() -> None:
    """Work with simulation scenarios."""


@scenario.command("from-trace")
@click.argument("trace_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="write here, not stdout")
@click.option("--days", default=7, show_default=True, help="daily partitions to simulate")
@click.option("--slots", default=0, help="pool capacity (default: the trace's machine cores)")
@click.option("--deadline-factor", default=1.5, show_default=True,
              help="deadline = arrival + critical path x this")
@click.option("--noise", default=0.4, show_default=True,
              help="run-time spread: p90 = p50 x exp(1.2816 x noise)")
@click.option("--seed", default=1, show_default=True,
              help="the scenario's seed (its sampled arrivals and durations)")
@friendly
def scenario_from_trace(trace_file: str, output: str | None, days: int, slots: int,
                        deadline_factor: float, noise: float, seed: int) -> None:
    """Turn a WfCommons workflow instance into a scenario (assumptions: docs/scenarios.md)."""
    from andon.sim.wfcommons import convert

    data = convert(Path(trace_file), days=days, slots=slots or None,
                   deadline_factor=deadline_factor, noise=noise, seed=seed)
    text = json.dumps(data, indent=1)
    if output:
        Path(output).write_text(text + "\n")
        click.echo(f"wrote {output}: {len(data['pipelines'])} pipelines", err=True)
    else:
        click.echo(text)



def _clairvoyant(scenario: object, budget: float, as_json: bool) -> None:
    """``andon simulate --clairvoyant``: the rules' figures and the offline optimum's."""
    from dataclasses import asdict

    from andon.model.errors import ConfigError
    from andon.planner.cpsat import available
    from andon.sim.clairvoyant import RULES, solve_with_rules
    from andon.sim.scenario import Scenario

    assert isinstance(scenario, Scenario)
    if not 0 < budget <= 600:
        raise ConfigError(f"--budget must be above 0 and at most 600 seconds, not {budget}",
                          hint="give e.g. --budget 5")
    if not available():
        raise ConfigError("--clairvoyant needs OR-Tools", hint="pip install 'andon[opt]'")
    rows, best = solve_with_rules(scenario, budget)
    if as_json:
        out_json({"policies": rows, "clairvoyant": asdict(best)})
        return
    click.echo(f"scenario {scenario.name} (seed {scenario.seed}): {best.jobs} runs")
    table(("POLICY", "MISSES", "W.TARDY(min)"),
          [*((p, str(rows[p]["deadline_misses"]), str(rows[p]["weighted_tardiness_minutes"]))
             for p in RULES),
           ("clairvoyant", str(best.deadline_misses), str(best.weighted_tardiness_minutes)),
           ("lower bound", "", str(best.lower_bound_minutes))])
    click.echo(f"solver: {best.status}; warm-started from {best.started_from} "
               f"({best.start_tardiness_minutes} min)", err=True)
