"""The board's heat map of drift per feature x partition (``templates/_drift.html``): on a
profiled data set's page (``/assets/{name}``) and on a model's page for the profiled data sets
its pipeline trains on. Rows are the profiled columns, columns the partitions (oldest left,
each heading linking to the partition's runs), a cell's colour its band and its title the
PSI. Built from ``andon.live.drift`` (reports kept in the store by run and reference; a
missing one computed from the profiles' bins only), on the page's worker thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from andon.live.service import Service

MAX_BOARD_PARTITIONS = 365  # a year of daily partitions on the page (the API has them all)
_SHORT = {"green": "g", "amber": "a", "red": "r"}


@dataclass(frozen=True)
class HeatRow:
    """One column's cells: (band letter g/a/r or "" for none, title) per partition."""

    column: str
    cells: list[tuple[str, str]]


@dataclass(frozen=True)
class HeatMap:
    """A data set's heat map: its reference, partitions (with the runs page of each), rows,
    the partitions that could not be compared (why) and how many partitions are red."""

    asset: str
    reference: str
    partitions: list[tuple[str, str]]
    rows: list[HeatRow]
    errors: dict[str, str] = field(default_factory=dict)
    red: int = 0


def heat_map(svc: Service, asset: str) -> HeatMap | None:
    """The heat map of ``asset``; None when it is not profiled."""
    if asset not in svc.graph.profiled:
        return None
    data = svc.drift.heat(asset, limit=MAX_BOARD_PARTITIONS)
    producer = svc.graph.producer.get(asset, "")
    runs = "/runs?" + (f"pipeline={producer}&" if producer else "") + "partition="
    cells = {(c["partition"], c["column"]): c for c in data["cells"]}
    rows = []
    for col in data["columns"]:
        row = []
        for p in data["partitions"]:
            c = cells.get((p, col))
            row.append(("", f"{col} · {p}: not compared") if c is None else
                       (_SHORT.get(c["band"], ""),
                        f"{col} · {p}: PSI {c['psi']:.3f} ({c['band']}), JS {c['js']:.3f}"
                        + ("" if c["p"] is None else f", p {c['p']:.2g}")))
        rows.append(HeatRow(col, row))
    red = len({c["partition"] for c in data["cells"] if c["band"] == "red"})
    return HeatMap(asset, str(data["reference"]),
                   [(p, runs + p) for p in data["partitions"]], rows, data["errors"], red)


def model_heat_maps(svc: Service, producer: str) -> list[HeatMap]:
    """The heat maps of the profiled data sets that ``producer`` (a model's pipeline) reads."""
    pipe = svc.graph.pipelines.get(producer)
    if pipe is None:
        return []
    found = (heat_map(svc, a) for a in dict.fromkeys(i.asset for i in pipe.inputs))
    return [m for m in found if m is not None]
