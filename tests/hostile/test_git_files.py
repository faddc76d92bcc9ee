"""Hostile git files under a project: andon reads HEAD, refs, packed-refs and a worktree's
``.git`` file itself, so whatever they hold (a ref out of the repository, a loop of symbolic refs,
a huge or binary file, a gitdir that is not there) gives no commit, never an error, a hang or a
read outside the repository. The project still loads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from andon.project.load import load_project
from andon.project.version import git_commit
from tests.conftest import ProjectFactory

PIPELINES = 'import andon\n\nandon.source("raw", partitions="daily")\n'


@pytest.fixture
def repo(make_project: ProjectFactory) -> Path:
    root = make_project(PIPELINES)
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q",
                    "--allow-empty", "-m", "x"], cwd=root, check=True)
    return root


@pytest.mark.parametrize("head", [
    "ref: refs/heads/../../../../etc/passwd\n",  # out of the repository
    "ref: /etc/passwd\n",
    "ref: HEAD\n",
    "0123\n",  # not a whole sha
    "g" * 40 + "\n",
    "",
    "\n\nref: refs/heads/main\n",  # the ref is not on the first line
], ids=["dotdot", "absolute", "not-under-refs", "short-sha", "not-hex", "empty", "blank-line"])
def test_a_head_that_names_nothing_sensible_gives_no_commit(repo: Path, head: str) -> None:
    (repo / ".git" / "HEAD").write_text(head)
    assert git_commit(repo) == ""
    assert load_project(repo).graph.commit == ""


def test_symbolic_refs_in_a_loop_end(repo: Path) -> None:
    heads = repo / ".git" / "refs" / "heads"
    (heads / "a").write_text("ref: refs/heads/b\n")
    (heads / "b").write_text("ref: refs/heads/a\n")
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/a\n")
    assert git_commit(repo) == ""


def test_huge_or_binary_files_are_not_read_whole(repo: Path) -> None:
    head = repo / ".git" / "HEAD"
    head.write_bytes(b"ref: refs/heads/main" + b" " * (2 << 20))
    assert git_commit(repo) == ""
    head.write_bytes(b"\xff\xfe\x00binary")
    assert git_commit(repo) == ""
    head.write_text("ref: refs/heads/packed\n")
    (repo / ".git" / "packed-refs").write_bytes(b"\xff" * 100)
    assert git_commit(repo) == ""


def test_a_git_file_that_points_nowhere_or_is_not_a_gitdir(repo: Path) -> None:
    shutil.rmtree(repo / ".git")
    for text in ("not a gitdir line\n", "gitdir: /nonexistent/andon/gitdir\n", "gitdir:\n", ""):
        (repo / ".git").write_text(text)
        assert git_commit(repo) == ""
    (repo / ".git").unlink()
    (repo / ".git").symlink_to(repo / ".git")  # a link to itself
    assert git_commit(repo) == ""
    assert load_project(repo).graph.commit == ""
