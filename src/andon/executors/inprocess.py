"""Run pipelines inline, in the calling thread (tests, notebooks).

What this can isolate: a shell step (``command=``) gets the run's own environment, as with the
local executor, and the log is capped and its secrets masked. What it cannot: a Python function
runs in the scheduler's process and sees its ``os.environ`` (andon's secrets among it), its
memory and its open files; it can start processes that outlive it. Use the local executor for
anything but trusted code.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from andon.executors.base import Report, RunSpec
from andon.executors.ended import lost_result
from andon.executors.environment import run_environment, secret_values
from andon.executors.execute import Resolver, run_spec
from andon.executors.logcap import cap_bytes
from andon.project.settings import DEFAULT_MAX_LOG_BYTES


class RunBuffer:
    """A run's output in memory: text from Python code, and a file descriptor for a shell step
    (``subprocess`` needs one), read back when the step ends."""

    def __init__(self) -> None:
        self.data = bytearray()
        self._file: Any = None

    def write(self, text: str) -> int:
        self.flush()  # a shell step's output first, in order
        self.data += text.encode("utf-8", "replace")
        return len(text)

    def flush(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self.data += self._file.read()
            self._file.close()
            self._file = None

    def fileno(self) -> int:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (read back and closed in flush)
        return int(self._file.fileno())


class InProcessExecutor:
    """Executes each run synchronously inside ``start``; cancellation is not possible."""

    name = "inprocess"
    inline = True  # the runner may execute a cascade of runs in one turn and commit once

    def __init__(self, resolve: Resolver, environ: Mapping[str, str] | None = None,
                 max_log_bytes: int = DEFAULT_MAX_LOG_BYTES) -> None:
        self._resolve = resolve
        self.environ = environ  # shell steps' environments come from it (None: this process's)
        self.max_log_bytes = max_log_bytes

    def start(self, spec: RunSpec, report: Report) -> int:
        """Run now; the output is kept in memory and written to the run's log file only when
        there is any (a quiet run costs no file-system work)."""
        source = os.environ if self.environ is None else self.environ
        # only a shell step is given an environment: a Python step runs in this process's
        environ = run_environment(source, spec.env, spec.secrets) if spec.command else None
        buffer = RunBuffer()
        result = run_spec(spec, self._resolve, buffer, environ)
        buffer.flush()
        if buffer.data:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            secrets = secret_values(source, spec.secrets)
            with spec.log_path.open("ab") as log:
                log.write(cap_bytes(bytes(buffer.data), self.max_log_bytes, secrets))
        report(result)
        return 0

    def health(self) -> dict[str, Any]:
        """For the board's health strip: runs execute on the scheduler's own thread."""
        return {"name": self.name, "mode": "in-process", "alive": True, "runs": 0}

    def cancel(self, run_id: str) -> None:
        """In-process runs finish inside ``start``; there is nothing left to cancel."""

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """An in-process run dies with its scheduler: report it lost (retried per policy)."""
        report(lost_result(spec, "the scheduler stopped while the run was executing in-process"))
        return True

    def shutdown(self) -> None:
        """Nothing runs in the background."""
