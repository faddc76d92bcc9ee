"""``andon drift ASSET``: a profiled data set's drift per column and partition against its
reference (the training partitions of the model's serving version, or a window), computed from
the profiles its runs wrote (``andon.live.drift``), locally or through the running scheduler."""

from __future__ import annotations

from typing import Any

import click

from andon.cli.group import MODELS, Env, friendly, main, out_json, table

_MARK = {"green": ".", "amber": "o", "red": "X"}
MAX_SHOWN_PARTITIONS = 14  # the terminal table's newest partitions (--json has them all)


def _cell(c: dict[str, Any] | None) -> str:
    return "-" if c is None else f"{_MARK.get(c['band'], '?')} {c['psi']:.2f}"


@main.command("drift", section=MODELS)
@click.argument("asset")
@click.option("--partition", default=None, help="one partition's report, column by column")
@click.option("--since", default=None, help="the first partition shown (a key, e.g. a date)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def drift(env: Env, asset: str, partition: str | None, since: str | None,
          as_json: bool) -> None:
    """Drift of a profiled data set (andon.profile): PSI per column and partition, banded
    green (.) / amber (o, PSI >= 0.1) / red (X, PSI >= 0.25), against its reference."""
    data = env.client().drift(asset, partition, since)
    if as_json:
        out_json(data)
        return
    click.echo(f"{data['asset']}  reference: {data['reference']}")
    if partition is not None:
        if data["error"]:
            click.echo(f"cannot compare {partition}: {data['error']}", err=True)
            return
        click.echo(f"partition {partition} against {', '.join(data['reference_partitions'])}")
        table(("COLUMN", "BAND", "PSI", "JS", "P", "SIGNIFICANT"),
              [(c["name"], c["band"], f"{c['psi']:.3f}", f"{c['js']:.3f}", f"{c['p']:.3g}",
                "yes" if c["significant"] else "no") for c in data["columns"]])
        return
    if not data["partitions"]:
        click.echo(f"no profiled partition of {asset} yet", err=True)
        return
    shown = data["partitions"][-MAX_SHOWN_PARTITIONS:]
    cells = {(c["partition"], c["column"]): c for c in data["cells"]}
    table(("COLUMN", *shown), [(col, *(_cell(cells.get((p, col))) for p in shown))
                               for col in data["columns"]])
    for p, why in data["errors"].items():
        if p in shown:
            click.echo(f"{p}: {why}", err=True)
