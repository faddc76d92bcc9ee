"""``andon model``: the models of the catalog, their versions (each a successful run of the
pipeline that makes the model, with the metrics and parameters it logged), the version serving,
and promoting a version or rolling back to the one before."""

from __future__ import annotations

from typing import Any

import click

from andon.checks.scoring import below
from andon.cli.group import MODELS, Env, friendly, main, out_json, table


def _plain(text: Any) -> str:
    """``text`` on one terminal line: control characters shown as ``?``."""
    from andon.registry.declared import CONTROL

    return CONTROL.sub("?", str(text))


def _when(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "-"


def _metrics(values: dict[str, Any], most: int = 4) -> str:
    shown = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in list(values.items())[:most]]
    return _plain(" ".join(shown) + (f" (+{len(values) - most})" if len(values) > most else ""))


@main.group("model", section=MODELS)
def model() -> None:
    """Models: their versions, metrics and parameters, and which version is serving. A
    model's deploy policy (deploy = "manual" or "auto" with the model's entry in catalog.toml
    or andon.catalog) says whether a new version is promoted by a person or at once."""


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def model_list(env: Env, as_json: bool) -> None:
    """Every model of the catalog: its pipeline, deploy policy, versions and the one
    serving."""
    data = env.client().models()
    if as_json:
        out_json(data)
        return
    if not data["models"]:
        click.echo('no model in the catalog: declare one with kind = "model" in catalog.toml',
                   err=True)
        return
    table(("MODEL", "PIPELINE", "DEPLOY", "VERSIONS", "LATEST", "SERVING"),
          [(m["name"], m["producer"] or "-", m["deploy"], str(m["versions"]),
            str(m["latest"] or "-"), str(m["serving"] or "-")) for m in data["models"]])


@model.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def model_show(env: Env, name: str, as_json: bool) -> None:
    """One model: its versions, newest first (metrics, parameters, the partition it was
    trained for, * marks the one serving), its promotions, its realised performance over
    the last partitions (``andon.performance``: ! marks a value past its threshold) and, for a
    gated deploy = "auto" model, its gate and why a candidate is held back."""
    m = env.client().model(name)
    if as_json:
        out_json(m)
        return
    click.echo(f"{m['name']}  made by {m['producer'] or '-'}  deploy {m['deploy']}  "
               f"{m['version_count']} version(s), serving {m['serving'] or 'none'}")
    if m["versions"]:
        table(("  VERSION", "PARTITION", "ENDED", "RUN", "METRICS", "PARAMS"),
              [(("* " if v["number"] == m["serving"] else "  ") + str(v["number"]),
                v["partition"], _when(v["at"]), v["run_id"], _metrics(v["metrics"]) or "-",
                _metrics(v["params"]) or "-") for v in m["versions"]])
    if m["promotions"]:
        click.echo("promotions, oldest first:")
        for p in m["promotions"]:
            what = "rolled back to" if p["rollback"] else "promoted"
            click.echo(_plain(f"  {_when(p['at'])} {what} {p['version']} (from "
                              f"{p['previous'] or 'none'}) by {p['by'] or '-'}"
                              + (f": {p['reason']}" if p["reason"] else "")))
    gate = m.get("gate")
    if gate:
        click.echo(f"gate: {gate['metric']} within {gate['tolerance']:g} of the serving "
                   f"version's on {gate['partitions']} shadow-scored partition(s)"
                   + ("; its data not drifted red" if gate["drift"] else ""))
        for h in m.get("held") or []:
            click.echo(_plain(f"  {_when(h['at'])} version {h['version']} held ({h['kind']}): "
                              f"{h['reason']}"))
    _performance(m)


REALISED_SHOWN = 10  # partitions of realised performance printed by `andon model show`


def _performance(m: dict[str, Any]) -> None:
    """The last partitions' realised metrics (plain ones: not METRIC@vN), one line each."""
    by_key: dict[str, tuple[int, dict[str, float]]] = {}
    for p in m.get("performance") or []:
        if "@" not in p["metric"] and p["metric"] != "rows":
            by_key.setdefault(p["partition"], (p["version"], {}))[1][p["metric"]] = p["value"]
    if not by_key:
        return
    threshold = m.get("threshold") or {}
    click.echo(f"realised performance ({m['performance_pipeline']}), last "
               f"{min(len(by_key), REALISED_SHOWN)} partitions:")
    for key in sorted(by_key)[-REALISED_SHOWN:]:
        version, values = by_key[key]
        shown = " ".join(f"{k}={v:.4g}" + ("!" if k in threshold and below(k, v, threshold[k])
                                           else "") for k, v in values.items())
        click.echo(_plain(f"  {key}  v{version or '-'}  {shown}"))
    if threshold:
        click.echo(_plain("  threshold: " + " ".join(f"{k}={v:g}" for k, v in threshold.items())))


@model.command("promote")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--reason", default="", help="why, in a sentence (at most 500 characters)")
@click.pass_obj
@friendly
def model_promote(env: Env, name: str, version: int, reason: str) -> None:
    """Put VERSION of model NAME into service."""
    done = env.client().model_promote(name, version, reason)
    click.echo(f"{done['model']}: version {done['version']} serving (was "
               f"{done['previous'] or 'none'})")


@model.command("rollback")
@click.argument("name")
@click.option("--reason", default="", help="why, in a sentence (at most 500 characters)")
@click.pass_obj
@friendly
def model_rollback(env: Env, name: str, reason: str) -> None:
    """Put back the version of model NAME that served before the current one."""
    done = env.client().model_rollback(name, reason)
    click.echo(f"{done['model']}: rolled back to version {done['version']} (was "
               f"{done['previous']})")
