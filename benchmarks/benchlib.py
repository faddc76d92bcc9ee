"""What every benchmark shares: the machine description, the result files and a real ``andon up``
in a subprocess (generated projects: ``benchprojects``).

Each benchmark is a script (``benchmarks/bench_*.py``) that ``run.py`` starts in its own process and
that writes ``benchmarks/results/<name>.json``. Results are plain JSON so that later runs (and other
machines) can be compared without andon installed.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
VENV_BIN = Path(sys.executable).parent
ANDON = VENV_BIN / "andon"


# -- the environment of the processes we measure ---------------------------------------------------

def bench_env(**extra: str) -> dict[str, str]:
    """The environment for measured subprocesses: bytecode caching on (as in any real install,
    where pip compiles the .pyc files), no ANDON_* settings leaking in from the caller."""
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("ANDON_")}
    env.update(extra)
    return env


_SCRIPT = """#!{python}
import sys
from {module} import {attr}
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit({attr}())
"""


def console_script(folder: Path) -> tuple[Path, str]:
    """The ``andon`` console script as pip writes it from pyproject.toml's ``[project.scripts]``,
    and how it was found: the installed one, or (when that names another entry point: an
    install older than the checkout) the same script for the checkout's, written in ``folder``."""
    import tomllib

    entry = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["andon"]
    module, attr = entry.split(":")
    if f"from {module} import {attr}" in ANDON.read_text():
        return ANDON, f"installed ({entry})"
    path = folder / "andon"
    path.write_text(_SCRIPT.format(python=sys.executable, module=module, attr=attr))
    path.chmod(0o755)
    return path, f"written for {entry} (the installed one is older)"


def enable_bytecode() -> None:
    """Let this process (and the run processes it spawns) write and use .pyc files."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value else default


# -- the machine and the results -------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on (and with which andon)."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {"sqlite": sqlite3.sqlite_version}
    for dist in ("andon", "SQLAlchemy", "starlette", "uvicorn", "click"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = "missing"
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "memory_mb": _mem_total_mb(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--", "src")),
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def filesystem(path: str | Path) -> str:
    """The file system holding ``path``, e.g. ``ext4 on /dev/vda (/)`` (from /proc/mounts)."""
    target = os.path.realpath(path)
    best = ("", "unknown", "unknown")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, fstype = line.split()[:3]
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best[0]):
                best = (mount, fstype, device)
    except OSError:
        pass
    return f"{best[1]} on {best[2]} ({best[0] or '?'})"


def create_cost_ms(folder: str | Path, n: int = 200) -> dict[str, float]:
    """Median milliseconds of creating one folder, and one small file, in ``folder``: the
    metadata operations a run costs the file system (the disk's latency, not andon's)."""
    base = Path(tempfile.mkdtemp(prefix="andon-bench-fs-", dir=folder))
    dirs, files = [], []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            (base / f"d{i}").mkdir()
            t1 = time.perf_counter()
            (base / f"f{i}").write_bytes(b"x" * 100)
            t2 = time.perf_counter()
            dirs.append((t1 - t0) * 1000)
            files.append((t2 - t1) * 1000)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {"mkdir_ms": statistics.median(dirs), "create_file_ms": statistics.median(files)}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def figure(name: str, value: float | None, unit: str, target: float | None = None,
           note: str = "") -> dict[str, Any]:
    """One measured number; with a target (an upper bound) it passes when value < target."""
    out: dict[str, Any] = {"name": name, "value": None if value is None else round(value, 6),
                           "unit": unit}
    if target is not None:
        out["target"] = target
        out["pass"] = value is not None and value < target
    if note:
        out["note"] = note
    return out


def command_line() -> str:
    """The command that reproduces this benchmark alone (run from the repository root)."""
    script = Path(sys.argv[0]).resolve()
    try:
        script_arg = str(script.relative_to(REPO))
    except ValueError:
        script_arg = str(script)
    return " ".join(shlex.quote(a) for a in [".venv/bin/python", script_arg, *sys.argv[1:]])


@dataclass
class Result:
    """The JSON file of one benchmark."""

    name: str
    description: str
    figures: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    date: str = field(default_factory=now_iso)
    loadavg_start: tuple[float, ...] = field(default_factory=os.getloadavg)

    def add(self, *figs: dict[str, Any]) -> None:
        self.figures.extend(figs)

    def write(self, out_dir: Path = RESULTS) -> Path:
        judged = [f for f in self.figures if "pass" in f]
        data = {
            "benchmark": self.name,
            "description": self.description,
            "pass": all(f["pass"] for f in judged) if judged else None,
            "figures": self.figures,
            "details": self.details,
            "machine": {**machine(), "loadavg_at_start": [round(x, 2) for x in self.loadavg_start]},
            "date": self.date,
            "command": command_line(),
            "make_target": "make bench",
            "seconds": round(time.monotonic() - self.started, 1),
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.name}.json"
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_stats(values: Sequence[float]) -> dict[str, float]:
    return {"n": len(values), "min": min(values), "p50": percentile(values, 50),
            "p90": percentile(values, 90), "p99": percentile(values, 99), "max": max(values),
            "mean": statistics.fmean(values)}


# -- a real `andon up` in a subprocess ------------------------------------------------------------

class Server:
    """``andon up --port 0`` on a project, in its own process; ``url`` once it answers."""

    def __init__(self, project: Path, *args: str, log_name: str = "up.log") -> None:
        self.project = project
        self.log_path = project / log_name
        self._log = self.log_path.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(ANDON), "--project", str(project), "up", "--port", "0", *args],
            cwd=project, env=bench_env(ANDON_LOG_FORMAT="text"), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = ""
        self.ready_seconds = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 120.0) -> str:
        info = self.project / ".andon" / "server.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"andon up exited with {self.proc.returncode}: "
                                   f"{self.log_path.read_text()[-2000:]}")
            try:
                data = json.loads(info.read_text())
                if int(data.get("pid", 0)) == self.proc.pid:
                    url = str(data["url"])
                    if http_json("GET", url + "/api/v1/health", timeout=5) is not None:
                        self.url = url
                        self.ready_seconds = time.monotonic() - self.started
                        return url
            except (OSError, ValueError, KeyError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"andon up was not ready after {timeout:g}s: "
                           f"{self.log_path.read_text()[-2000:]}")

    def token(self) -> str:
        return (self.project / ".andon" / "token").read_text().strip()

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Http:
    """One keep-alive HTTP/1.1 connection to a server on this machine, timed from the client:
    ``get`` returns the status, the headers, the body as sent (compressed when the server
    gzipped it) and the seconds from sending the request to the last byte of the body."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80,
                                               timeout=timeout)

    def get(self, path: str, gzip: bool = True, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes, float]:
        head = {"Accept-Encoding": "gzip" if gzip else "identity", **(headers or {})}
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers=head)
        resp = self.conn.getresponse()
        body = resp.read()  # http.client does not decompress: these are the bytes sent
        seconds = time.perf_counter() - t0
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, seconds

    def post_json(self, path: str, body: Any, token: str) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        self.conn.request("POST", path, body=data, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else {}

    def close(self) -> None:
        self.conn.close()


def http_json(method: str, url: str, body: Any = None, token: str = "",
              timeout: float = 30.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


# -- the machine's Chromium ------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's package (`make system-deps`); never a downloaded one
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (a ``playwright.sync_api.Browser``)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# -- /proc ------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def settle(pid: int, quiet_for: float = 1.0, timeout: float = 120.0) -> float:
    """Wait until the process has used no CPU for ``quiet_for`` seconds; return the wait."""
    t0 = time.monotonic()
    last = cpu_seconds(pid)
    while time.monotonic() - t0 < timeout:
        time.sleep(quiet_for)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return time.monotonic() - t0
        last = now
    return time.monotonic() - t0


def proc_status(pid: int) -> dict[str, str]:
    return proc_status_path(Path(f"/proc/{pid}/status"))


def kib(value: str) -> int:
    return int(value.split()[0])


def threads(pid: int) -> dict[str, dict[str, int | str]]:
    """Per thread: its name and context switches (each voluntary switch is a wake-up)."""
    out: dict[str, dict[str, int | str]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = proc_status_path(task / "status")
            out[task.name] = {"name": (task / "comm").read_text().strip(),
                              "voluntary": int(status["voluntary_ctxt_switches"]),
                              "involuntary": int(status["nonvoluntary_ctxt_switches"])}
        except (OSError, KeyError):
            continue
    return out


def proc_status_path(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out
