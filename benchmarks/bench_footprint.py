"""Core install footprint: a fresh virtual environment with andon installed WITHOUT extras (from a
copy of this working tree), minus an empty virtual environment, with the largest distributions.

Both environments are made with ``python -m venv`` by the interpreter running this script, so pip
(and whatever else venv puts in) cancels out. Sizes are apparent file sizes (the bytes of the
files, as ``du --apparent-size``), including the .pyc files pip compiles at install time; the disk
usage in blocks is recorded too. MB = 2**20 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import REPO, Result, bench_env, figure
from benchprojects import scratch

TARGET_MB = 40.0
MB = 2**20

# run inside the new environment: bytes per installed distribution, from its RECORD
DIST_SIZES = r"""
import json, os, sys
from importlib.metadata import distributions
out = {}
for dist in distributions():
    total = 0
    for f in dist.files or ():
        p = dist.locate_file(f)
        try:
            total += os.lstat(p).st_size
        except OSError:
            pass
    out[dist.metadata["Name"]] = {"version": dist.version, "bytes": total}
json.dump(out, sys.stdout)
"""


def tree_size(root: Path) -> tuple[int, int, int]:
    """(apparent bytes, disk bytes, files) under ``root``, symlinks counted as links."""
    apparent = disk = files = 0
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            st = os.lstat(os.path.join(folder, name))
            apparent += st.st_size
            disk += st.st_blocks * 512
            files += name in names
    return apparent, disk, files


def copy_source(dest: Path) -> Path:
    """The files a build needs, from the working tree (so uncommitted changes count)."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "src", dest / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return dest


def dist_sizes(python: Path) -> dict[str, Any]:
    proc = subprocess.run([str(python), "-c", DIST_SIZES], capture_output=True, text=True,
                          check=True, env=bench_env())
    return dict(json.loads(proc.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    result = Result("footprint", "core install: a fresh venv with `pip install <this tree>` (no "
                    "extras) minus an empty venv")
    with scratch("footprint", args.keep) as work:
        empty, core = work / "empty", work / "core"
        for venv in (empty, core):
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        src = copy_source(work / "src")
        t0 = time.perf_counter()
        pip = subprocess.run([str(core / "bin" / "python"), "-m", "pip", "install", "-q",
                              "--no-cache-dir", str(src)], capture_output=True, text=True,
                             env=bench_env())
        install_s = time.perf_counter() - t0
        if pip.returncode != 0:
            raise RuntimeError(f"pip install failed: {pip.stderr[-3000:]}")
        e_app, e_disk, e_files = tree_size(empty)
        c_app, c_disk, c_files = tree_size(core)
        before = dist_sizes(empty / "bin" / "python")
        after = dist_sizes(core / "bin" / "python")
        help_ok = subprocess.run([str(core / "bin" / "andon"), "--help"], capture_output=True,
                                 env=bench_env()).returncode == 0

    added = {name: info for name, info in after.items() if name not in before}
    largest = sorted(added.items(), key=lambda kv: -kv[1]["bytes"])
    footprint = (c_app - e_app) / MB
    result.add(
        figure("core install footprint (venv minus empty venv, apparent size)", footprint, "MB",
               TARGET_MB),
        figure("core install footprint (disk usage in blocks)", (c_disk - e_disk) / MB, "MB"),
        figure("distributions added by the core install", len(added), "count"),
    )
    result.details = {
        "largest": [{"name": n, "version": i["version"], "mb": round(i["bytes"] / MB, 2)}
                    for n, i in largest],
        "empty_venv": {"apparent_mb": e_app / MB, "disk_mb": e_disk / MB, "files": e_files},
        "core_venv": {"apparent_mb": c_app / MB, "disk_mb": c_disk / MB, "files": c_files},
        "files_added": c_files - e_files, "pip_install_s": install_s,
        "andon_help_runs_in_new_venv": help_ok,
        "pip_command": "python -m pip install -q --no-cache-dir <copy of pyproject.toml, "
                       "README.md and src/>",
    }
    top = ", ".join(f"{n} {i['bytes'] / MB:.1f}" for n, i in largest[:5])
    print(f"core footprint {footprint:.1f} MB ({top}) -> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
