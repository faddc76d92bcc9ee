"""The environment a run gets: built explicitly, never the scheduler's own.

A run starts from a small base (BASE_NAMES and the LC_* locale variables: what a program needs to
find its tools, its home, its language and its Python), plus what its pipeline declares:
``env=["NAME", ...]`` and ``secrets=["NAME", ...]``, passed through from the scheduler's
environment when set there (a secret's value is also masked in the run's log). andon then adds
the variables it passes itself (ANDON_RUN_ID, ANDON_INPUT_*, ANDON_OUTPUT_*, ...; see
``execute.run_variables``). Every other variable stays behind, and so does every ANDON_* one:
that prefix is andon's own namespace (its settings, among them the API token, the SMTP password
and the database URL), so no ANDON_* variable of the scheduler ever reaches a run, and a pipeline
that declares one fails validation (``model.definitions.check_run_names``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from andon.model.definitions import RESERVED_ENV_PREFIX

BASE_NAMES = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
              "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TERM")
MIN_MASKED = 4  # shorter secret values are not masked in logs (they would mask ordinary text)


def _passes(name: str) -> bool:
    return not name.startswith(RESERVED_ENV_PREFIX)


def base_environment(environ: Mapping[str, str], names: Iterable[str] = ()) -> dict[str, str]:
    """The base variables of ``environ`` plus ``names`` (where set), without any ANDON_* one."""
    # looked up by name (and only the keys scanned for LC_*): every run builds one, and reading
    # os.environ's items decodes every value of the scheduler's environment
    wanted = [*BASE_NAMES, *names, *(k for k in environ if k.startswith("LC_"))]
    return {k: environ[k] for k in wanted if _passes(k) and k in environ}


def run_environment(environ: Mapping[str, str], env: Iterable[str],
                    secrets: Iterable[str]) -> dict[str, str]:
    """A run's environment before andon adds its own variables: the base and what the pipeline
    declared (``env`` and ``secrets``), taken from ``environ`` (the scheduler's)."""
    return base_environment(environ, [*env, *secrets])


def secret_values(environ: Mapping[str, str], secrets: Iterable[str]) -> list[str]:
    """The values to mask in a run's log: its declared secrets that are set and long enough."""
    return sorted({environ[n] for n in secrets if len(environ.get(n, "")) >= MIN_MASKED},
                  key=len, reverse=True)
