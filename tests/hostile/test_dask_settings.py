"""Hostile Dask settings: a scheduler address that is not tcp:// or tls:// host:port, an
adaptive range that is absurd or malformed, from andon.toml, the environment and the CLI; each
refused at start with exit code 2, naming the setting and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from andon.model.errors import ConfigError
from andon.project.dasksettings import MAX_WORKERS
from andon.project.settings import resolve

BAD_ADDRESSES = [
    "http://host:8786", "host:8786", "tcp://host", "tcp://:8786", "tcp://host:0",
    "tcp://host:99999", "tcp://host:87a6", "tcp://user:pw@host:8786", "tcp://host:8786/x",
    "tcp://host:8786?a=1", "file:///etc/passwd", "inproc://x", "tcp://" + "h" * 600 + ":1",
    "tcp://host:8786\n", "tcp://ho st:8786",
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_a_scheduler_address_must_be_tcp_or_tls_host_and_port(tmp_path: Path,
                                                             address: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(tmp_path, {}, {}, {"dask_scheduler": address})
    assert "dask_scheduler" in str(err.value) and err.value.hint
    assert err.value.exit_code == 2


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tls://dask.example.com:8786",
                                     "tcp://[::1]:8786", ""])
def test_good_scheduler_addresses_pass(tmp_path: Path, address: str) -> None:
    assert resolve(tmp_path, {}, {}, {"dask_scheduler": address}).dask_scheduler == address


BAD_ADAPTIVE = [
    {"min": 0, "max": 10**9}, {"min": 0, "max": MAX_WORKERS + 1}, {"min": 3, "max": 2},
    {"min": -1, "max": 2}, {"min": 0, "max": 0}, {"min": 0}, {"min": 0, "max": 2, "x": 1},
    {"min": "0", "max": "two"}, {"min": True, "max": 2}, {"min": 0.5, "max": 2}, [0, 2],
    "0-2", "a:b", "0:" + "9" * 40, 7,
]


@pytest.mark.parametrize("value", BAD_ADAPTIVE)
def test_an_absurd_or_malformed_adaptive_range_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(tmp_path, {}, {}, {"dask_adaptive": value})
    assert "dask_adaptive" in str(err.value) and err.value.exit_code == 2


def test_the_adaptive_range_from_the_file_or_the_environment(tmp_path: Path) -> None:
    assert resolve(tmp_path, {}, {}, {"dask_adaptive": {"min": 0, "max": 4}}).dask_adaptive == (0, 4)
    assert resolve(tmp_path, {}, {"ANDON_DASK_ADAPTIVE": "1:3"}, {}).dask_adaptive == (1, 3)
    assert resolve(tmp_path, {}, {}, {}).dask_adaptive is None
    bad = {"ANDON_DASK_SCHEDULER": "http://x:1"}
    with pytest.raises(ConfigError):
        resolve(tmp_path, {}, bad, {})


def test_andon_up_refuses_a_bad_scheduler_and_a_missing_extra_with_exit_2(make_project) -> None:
    root = make_project("import andon\n",
                        extra='[settings]\ndask_scheduler = "http://host:8786"\n')
    cli = [sys.executable, "-m", "andon.cli", "--project", str(root), "up", "--port", "0"]
    proc = subprocess.run([*cli, "--executor", "dask"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "dask_scheduler" in proc.stderr
    (root / "andon.toml").write_text((root / "andon.toml").read_text().replace(
        'dask_scheduler = "http://host:8786"', ""))
    blocked = ("import sys; sys.modules['distributed'] = None; from andon.cli import main; "
               "sys.argv[0] = 'andon'; main()")
    proc = subprocess.run([sys.executable, "-c", blocked, *cli[3:], "--executor", "dask"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "pip install 'andon[dask]'" in proc.stderr, proc.stderr
