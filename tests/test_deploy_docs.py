"""docs/deploy.md and deploy/Dockerfile are checked: the commands they give name real commands
and options (andon's, ``dask scheduler`` / ``dask worker``), their ``ANDON_*`` variables and
``andon.toml`` keys are real settings, their extras exist, the Dask variable is the one andon
sets itself, and the workers' resources are andon's pools."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from andon.cli import main
from andon.executors.dask import resource_name
from andon.executors.daskcluster import DASK_CONFIG
from andon.project.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs/deploy.md").read_text()
DOCKERFILE = (ROOT / "deploy/Dockerfile").read_text()
SEPARATORS = {";", "&", "&&", "|", "||", "do", "then", "("}


def blocks(language: str) -> list[str]:
    """The guide's fenced code blocks of ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE, re.M | re.S)


def commands(program: str) -> Iterator[list[str]]:
    """Every command line of ``program`` in the guide's sh and ini blocks and the Dockerfile's
    CMD: the words after the program, up to the end of that command. Only a program in command
    position counts (first word, after a separator or variable assignments, ``ExecStart=``)."""
    units = "\n".join(blocks("ini")).replace("\\\n", " ")
    texts = [*blocks("sh"), "\n".join(re.findall(r"^ExecStart=.*$", units, re.M))]
    texts.append(" ".join(re.findall(r'^CMD \[(.*)\]', DOCKERFILE, re.M)).replace(",", " "))
    for text in texts:
        for line in text.replace("\\\n", " ").splitlines():
            line = re.sub(r"^(ExecStart|CMD)=?\s*", "", line.strip())
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            try:
                words = list(lexer)
            except ValueError:  # an unbalanced quote in a heredoc's SQL: not a command line
                continue
            at_start = True
            for i, word in enumerate(words):
                if at_start and "=" not in word and Path(word).name == program:
                    rest = words[i + 1:]
                    end = next((j for j, w in enumerate(rest) if w in SEPARATORS), len(rest))
                    yield rest[:end]
                at_start = word in SEPARATORS or (at_start and re.fullmatch(r"[A-Z_]+=\S*", word)
                                                  is not None)


def options(command: click.Command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)}


def test_every_andon_command_in_the_guide_exists_with_its_options() -> None:
    seen = []
    for words in commands("andon"):
        assert words, "a bare `andon` in docs/deploy.md"
        command: click.Command = main
        path = ["andon"]
        for word in words:
            if word.startswith("-"):
                name = word.split("=", 1)[0]
                assert name in options(command) | options(main), \
                    f"`{' '.join(path)}` has no option {name} (docs/deploy.md)"
            elif isinstance(command, click.Group) and word in command.commands:
                command = command.commands[word]
                path.append(word)
        assert isinstance(command, click.Command) and command is not main, \
            f"no andon command in `andon {' '.join(words)}` (docs/deploy.md)"
        seen.append(" ".join(path))
    assert {"andon up", "andon notify", "andon status"} <= set(seen)


def test_the_dask_commands_in_the_guide_take_the_options_it_gives() -> None:
    pytest.importorskip("distributed")
    from distributed.cli import dask_scheduler, dask_worker

    programs = {"scheduler": dask_scheduler.main, "worker": dask_worker.main}
    seen = []
    for words in commands("dask"):
        assert words and words[0] in programs, f"`dask {' '.join(words)}` (docs/deploy.md)"
        for word in words[1:]:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in options(programs[words[0]]), \
                    f"`dask {words[0]}` has no option {word} (docs/deploy.md)"
        seen.append(words[0])
    assert {"scheduler", "worker"} <= set(seen)


def test_the_workers_resources_are_andon_pools() -> None:
    declared = re.findall(r'--resources "([^"]+)"', GUIDE)
    assert declared
    prefix = resource_name("")
    for value in declared:
        for item in value.split(","):
            name, _, count = item.partition("=")
            assert name.startswith(prefix) and name[len(prefix):].isidentifier(), item
            assert count.isdigit(), item


def test_every_andon_variable_of_the_guide_and_the_image_is_a_setting() -> None:
    known = {s.env for s in SETTINGS}
    named = set(re.findall(r"\bANDON_[A-Z_]*[A-Z]\b", GUIDE + DOCKERFILE))
    assert named, "no ANDON_ variable found"
    assert not named - known, f"not settings: {sorted(named - known)}"


def test_the_toml_of_the_guide_names_real_settings() -> None:
    names = {s.name for s in SETTINGS}
    found = 0
    for block in blocks("toml"):
        settings = tomllib.loads(block).get("settings", {})
        found += len(settings)
        assert not set(settings) - names, f"not settings: {sorted(set(settings) - names)}"
    assert found


def test_the_dask_variable_is_the_config_andon_sets_for_its_own_cluster() -> None:
    variables = set(re.findall(r"\bDASK_[A-Z_]+\b", GUIDE))
    assert variables
    ours = {key.replace("-", "_") for key in DASK_CONFIG}
    for variable in variables:  # dask's rule: DASK_ dropped, __ nests, lower case
        key = variable.removeprefix("DASK_").lower().replace("__", ".")
        assert key in ours, f"{variable} is not one of andon's Dask settings {sorted(ours)}"


def test_the_extras_the_guide_and_the_image_install_exist() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    named = re.findall(r"(?:andon|\.)\[([a-z,]+)\]", GUIDE + DOCKERFILE)
    assert named
    for group in named:
        assert set(group.split(",")) <= set(extras), f"no extra {group!r} in pyproject.toml"
    assert '".[postgres]"' in DOCKERFILE  # the image: the core and the postgres extra only
