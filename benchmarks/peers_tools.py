"""The peers of ``bench_peers.py``: how each tool is installed, and the same no-op work written in
each tool's own terms, run in its documented local mode with its default local storage.

Every workload is a whole process, started and timed by ``bench_peers.py``: ``SHAPE N POOL``
(``chain``: each task depends on the one before; ``fanout``: every task depends on one source;
``POOL`` 0: in the tool's own process, else a process per task with at most ``POOL`` at once).
A driver exits 0 only when every task ran.

- Luigi: ``luigi.build(..., local_scheduler=True)``; tasks complete by their output, a
  ``LocalTarget`` marker file (Luigi has no other record of a task's completion); a process per
  task is its worker pool (``workers=POOL``, ``force_multiprocessing``: a fork per task).
- Dagster: ``dagster job execute`` on an asset job, ``DAGSTER_HOME`` a fresh folder (its default
  storage there is SQLite); the ``in_process_executor`` or the ``multiprocess_executor`` with
  ``max_concurrent=POOL`` (a spawned process per step).
- Prefect: a ``@flow`` calling ``@task``s, ``PREFECT_HOME`` a fresh folder (its SQLite database)
  and the temporary local server Prefect starts when no API URL is set; Prefect offers no process
  per task of its own (its task runners are threads; processes need Dask or Ray), so it has no
  process-per-task figure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Peer:
    name: str
    requirement: str  # what pip installs (the versions)
    cli: str  # the console script whose ``--help`` is the cold start
    driver: str  # the workload, a Python script (or Dagster definitions) run by the venv
    processes: bool  # offers a process per task
    env: dict[str, str] = field(default_factory=dict)

    def command(self, venv: Path, script: Path, shape: str, n: int, pool: int) -> list[str]:
        """The command line of one workload run (``script``: the driver written to a file)."""
        if self.name == "dagster":
            return [str(venv / "bin" / "dagster"), "job", "execute", "-f", str(script), "-j",
                    "bench"]
        return [str(venv / "bin" / "python"), str(script), shape, str(n), str(pool)]

    def environment(self, home: Path, shape: str, n: int, pool: int) -> dict[str, str]:
        """The run's environment: the tool's home (its storage) a fresh folder ``home``."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ANDON_", "PYTHON", "DAGSTER_", "PREFECT_"))}
        env.update(self.env)
        env.update(BENCH_SHAPE=shape, BENCH_N=str(n), BENCH_POOL=str(pool), BENCH_HOME=str(home))
        if self.name == "dagster":
            env["DAGSTER_HOME"] = str(home)
            (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        if self.name == "prefect":
            env["PREFECT_HOME"] = str(home)
        return env


LUIGI = '''
import os, sys
import luigi

shape, n, pool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
home = os.environ["BENCH_HOME"]


class Src(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget(os.path.join(home, "src"))


class Noop(luigi.Task):
    i = luigi.IntParameter()

    def requires(self):
        if shape == "chain" and self.i > 0:
            return Noop(i=self.i - 1)
        return Src()

    def output(self):
        return luigi.LocalTarget(os.path.join(home, "done", f"{self.i}"))

    def run(self):
        with self.output().open("w"):
            pass


class All(luigi.WrapperTask):
    def requires(self):
        if shape == "chain":
            return Noop(i=n - 1)
        return [Noop(i=i) for i in range(n)]


if __name__ == "__main__":
    open(os.path.join(home, "src"), "w").close()
    if pool:
        luigi.configuration.get_config().set("worker", "force_multiprocessing", "true")
    ok = luigi.build([All()], local_scheduler=True, workers=max(pool, 1))
    sys.exit(0 if ok else 1)
'''

DAGSTER = '''
import os
from dagster import (AssetSelection, AssetSpec, Definitions, asset, define_asset_job,
                     in_process_executor, multiprocess_executor)

shape, n, pool = os.environ["BENCH_SHAPE"], int(os.environ["BENCH_N"]), int(os.environ["BENCH_POOL"])


def noop(i, dep):
    @asset(name=f"a{i:04d}", deps=[dep])
    def _noop() -> None:
        return None
    return _noop


assets, prev = [], "src"
for i in range(n):
    assets.append(noop(i, prev))
    if shape == "chain":
        prev = f"a{i:04d}"
executor = (in_process_executor if pool == 0
            else multiprocess_executor.configured({"max_concurrent": pool}))
defs = Definitions(assets=[AssetSpec("src"), *assets], executor=executor,
                   jobs=[define_asset_job("bench", selection=AssetSelection.assets(*assets))])
'''

PREFECT = '''
import sys
from prefect import flow, task

shape, n, pool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


@task
def noop(i: int) -> None:
    return None


@flow
def bench(n: int) -> None:
    if shape == "chain":
        for i in range(n):
            noop(i)
    else:
        for future in [noop.submit(i) for i in range(n)]:
            future.result()


if __name__ == "__main__":
    bench(n)
'''

PEERS = {
    "luigi": Peer("luigi", "luigi==3.8.*", "luigi", LUIGI, True),
    "dagster": Peer("dagster", "dagster==1.13.*", "dagster", DAGSTER, True),
    "prefect": Peer("prefect", "prefect==3.9.*", "prefect", PREFECT, False,
                    {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                     # its temporary server waits 20 s for itself by default: too short for a
                     # fresh SQLite database's migrations on a loaded machine
                     "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"}),
}
