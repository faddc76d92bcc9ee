"""The code version a project's runs start from: the definitions' content hash and the git commit,
read from the files of real repositories made with the git program (a branch, packed refs, a
worktree, a detached HEAD) and of a folder outside any repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from andon.project.load import load_project
from andon.project.version import HASH_LENGTH, content_hash, git_commit
from tests.conftest import ProjectFactory

PIPELINES = """\
import andon

andon.source("raw", partitions="daily")
andon.pipeline("clean", command="true", inputs=["raw"], outputs=["clean"])
"""


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
                           "-c", "init.defaultBranch=main", *args], cwd=folder, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def committed(root: Path, message: str = "definitions") -> str:
    """Commit everything in ``root``'s repository; the new commit's sha (as git says it)."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def test_the_same_files_give_the_same_hash_wherever_the_project_lies(
        make_project: ProjectFactory) -> None:
    first, second = make_project(PIPELINES), make_project(PIPELINES)
    one, two = load_project(first).graph, load_project(second).graph
    assert len(one.code_version) == HASH_LENGTH
    assert int(one.code_version, 16) >= 0  # hex digits
    assert one.code_version == two.code_version
    assert load_project(first).graph.code_version == one.code_version  # loading again


def test_a_changed_definitions_file_or_andon_toml_changes_the_hash(
        make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    before = load_project(root).graph.code_version
    (root / "pipelines.py").write_text(PIPELINES + "# a comment counts: the file changed\n")
    after = load_project(root).graph.code_version
    assert after != before
    (root / "andon.toml").write_text((root / "andon.toml").read_text() + "\n# tuned\n")
    assert load_project(root).graph.code_version not in (before, after)


def test_the_hash_names_each_file_by_its_relative_path(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("x = 1\n")
    assert content_hash(tmp_path, [tmp_path / "a.py"]) != content_hash(tmp_path, [tmp_path / "b.py"])
    both = content_hash(tmp_path, [tmp_path / "a.py", tmp_path / "b.py"])
    assert both == content_hash(tmp_path, [tmp_path / "b.py", tmp_path / "a.py"])  # any order


def test_a_folder_outside_git_has_no_commit(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    assert git_commit(root) == ""
    assert load_project(root).graph.commit == ""


def test_a_branch_checkout_gives_the_commit_of_its_branch(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    git(root, "init", "-q")
    assert git_commit(root) == ""  # a branch with no commit yet
    sha = committed(root)
    assert load_project(root).graph.commit == sha
    (root / "notes.txt").write_text("more\n")
    newer = committed(root, "notes")
    assert newer != sha
    assert git_commit(root) == newer


def test_a_project_in_a_subfolder_of_the_repository(tmp_path: Path,
                                                    make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    git(root.parent, "init", "-q")
    sha = committed(root.parent)
    assert git_commit(root) == sha


def test_packed_refs_are_read_when_the_branch_has_no_loose_file(
        make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    git(root, "init", "-q")
    sha = committed(root)
    git(root, "pack-refs", "--all")
    assert not (root / ".git" / "refs" / "heads" / "main").exists()
    assert "refs/heads/main" in (root / ".git" / "packed-refs").read_text()
    assert git_commit(root) == sha


def test_a_detached_head_gives_its_own_sha(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    git(root, "init", "-q")
    first = committed(root)
    (root / "notes.txt").write_text("more\n")
    committed(root, "notes")
    git(root, "checkout", "-q", "--detach", first)
    assert git_commit(root) == first


def test_a_worktree_reads_its_own_head_and_the_shared_branches(
        tmp_path: Path, make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    git(root, "init", "-q")
    main_sha = committed(root)
    tree = tmp_path / "worktree"
    git(root, "worktree", "add", "-q", "-b", "feature", str(tree))
    assert (tree / ".git").is_file()  # "gitdir: ..." pointing into the main repository
    assert git_commit(tree) == main_sha
    (tree / "pipelines.py").write_text(PIPELINES + "# changed on the feature branch\n")
    feature_sha = committed(tree, "feature")
    git(root, "pack-refs", "--all")  # the worktree's branch now lives in the shared packed-refs
    graph = load_project(tree).graph
    assert graph.commit == feature_sha != main_sha
    assert git_commit(root) == main_sha
    assert graph.code_version != load_project(root).graph.code_version
