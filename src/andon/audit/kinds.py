"""The kinds of waste the audit knows, each spelled once (issue 14). ``BUILT`` are the kinds
it finds; ``backup_not_drilled`` and ``cross_region`` find something only where the project
declares backups (``backup_of=``, ``andon.restore_drill(...)``) and regions (``region=`` on data
sets, ``[audit] pool_regions``)."""

from __future__ import annotations

KINDS = ("unused_data", "dead_pipeline", "startup_delay", "batch_should_stream",
         "duplicate_data", "data_deluge", "noisy_alert", "backup_not_drilled",
         "fossil_artifact", "cross_region", "idle_capacity")
BUILT = KINDS

TITLES = {
    "unused_data": "unused data",
    "dead_pipeline": "dead or fossil pipelines",
    "startup_delay": "built-in delay (start-up)",
    "batch_should_stream": "batch that should stream or run less often",
    "duplicate_data": "duplicate data",
    "data_deluge": "data deluge",
    "noisy_alert": "noisy alerts",
    "backup_not_drilled": "backups never drilled",
    "fossil_artifact": "fossil artifacts",
    "cross_region": "cross-region transfer",
    "idle_capacity": "slot time held waiting and idle capacity",
}
