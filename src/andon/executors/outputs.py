"""Describe what a run wrote: size, content fingerprint and (when told) row count."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from andon.events import OutputWritten


def fingerprint(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256) of a file, or of a folder's files in sorted order; (0, "") when
    nothing is there."""
    if path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return path.stat().st_size, digest.hexdigest()
    if path.is_dir():
        digest, size = hashlib.sha256(), 0
        for root, _dirs, files in sorted(os.walk(path)):
            for name in sorted(files):
                sub = Path(root) / name
                sub_size, sub_hash = fingerprint(sub)
                size += sub_size
                digest.update(f"{sub.relative_to(path)}:{sub_hash}\n".encode())
        return size, digest.hexdigest()
    return 0, ""


def describe_outputs(outputs: dict[str, str], partition: str, project_dir: str,
                     rows: dict[str, int]) -> tuple[OutputWritten, ...]:
    result = []
    for asset, location in outputs.items():
        size, digest = fingerprint(Path(location))
        rel = os.path.relpath(location, project_dir)
        result.append(OutputWritten(asset, partition, rel, size, rows.get(asset), digest))
    return tuple(result)
