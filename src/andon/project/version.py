"""The code version a project's runs start from: the definitions' content hash and, when the
project is a git checkout, its commit, both read from the files alone (no git program, no git
library), so that a failure can be told apart from one of an older or newer version of the code."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from andon.model.graph import Graph

HASH_LENGTH = 12  # hex digits of the content hash: enough to tell versions of one project apart
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1, or SHA-256 repositories
_MAX_REF_FILE = 1 << 20  # a HEAD, ref, gitdir or commondir file is a line; refuse anything huge
_MAX_PACKED_REFS = 64 << 20


def stamped(graph: Graph, root: Path, files: Iterable[Path]) -> Graph:
    """``graph`` with the code version of the project at ``root``: the content hash of ``files``
    (its andon.toml and definition modules) and the git commit checked out."""
    return replace(graph, code_version=content_hash(root, files), commit=git_commit(root))


def content_hash(root: Path, files: Iterable[Path]) -> str:
    """The first ``HASH_LENGTH`` hex digits of a sha256 over ``files`` (andon.toml and the
    definition modules), each as its path relative to ``root`` and its bytes, in sorted order of
    those paths: the same files with the same contents give the same hash wherever the project
    lies; a changed, added, removed or renamed file changes it. A file that cannot be read counts
    as empty."""
    digest = hashlib.sha256()
    named = sorted({_relative(root, f): f for f in files}.items())
    for name, path in named:
        try:
            body = path.read_bytes()
        except OSError:
            body = b""
        digest.update(f"{name}\0{len(body)}\0".encode())
        digest.update(body)
    return digest.hexdigest()[:HASH_LENGTH]


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:  # outside the project: its absolute path names it
        return path.resolve().as_posix()


def git_commit(root: Path) -> str:
    """The commit checked out in the git repository holding ``root`` (the folder or a parent):
    HEAD's sha when detached, else the sha its branch points to (a loose ref file, or
    ``packed-refs``); ``""`` when ``root`` is not in a git checkout, the branch has no commit yet,
    or the files cannot be read."""
    try:
        gitdir = _git_dir(root.resolve())
        if gitdir is None:
            return ""
        head = _read_line(gitdir / "HEAD")
        for _ in range(5):  # a symbolic ref may point to another symbolic ref; never loop
            if _SHA.fullmatch(head):
                return head
            if not head.startswith("ref:"):
                return ""
            head = _resolve_ref(gitdir, head.removeprefix("ref:").strip())
        return ""
    except (OSError, UnicodeDecodeError, ValueError):
        return ""


def _git_dir(start: Path) -> Path | None:
    """The git directory of the checkout holding ``start``: ``.git`` as a folder, or a ``.git``
    file saying ``gitdir: PATH`` (a worktree, a submodule)."""
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            line = _read_line(dot)
            if not line.startswith("gitdir:"):
                return None
            target = Path(line.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else (folder / target).resolve()
    return None


def _resolve_ref(gitdir: Path, ref: str) -> str:
    """What ``ref`` (``refs/heads/main``) holds: a sha or another ``ref: ...``; ``""`` when
    unknown. A worktree keeps its own HEAD but shares the branches of the main repository
    (``commondir``)."""
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return ""
    dirs = [gitdir]
    common = gitdir / "commondir"
    if common.is_file():
        shared = Path(_read_line(common))
        dirs.append(shared if shared.is_absolute() else (gitdir / shared).resolve())
    for folder in dirs:
        loose = folder / ref
        if loose.is_file():
            return _read_line(loose)
    for folder in dirs:
        packed = folder / "packed-refs"
        if packed.is_file() and packed.stat().st_size <= _MAX_PACKED_REFS:
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name.strip() == ref and _SHA.fullmatch(sha):
                    return sha
    return ""


def _read_line(path: Path) -> str:
    """The first line of a small text file, stripped."""
    if path.stat().st_size > _MAX_REF_FILE:
        raise ValueError(f"{path} is too large for a git ref")
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[0].strip() if text.strip() else ""
