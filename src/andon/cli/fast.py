"""The ``andon`` console script: the commands people type most, answered before click, the
project's definitions or the store are imported; everything else goes to the click group
(``andon.cli.main``) unchanged.

- ``andon --help`` and ``andon`` alone: the group's help as ``andon.cli.rendered`` stores it
  (rendered from the click group by ``python -m andon.cli.render``; a test keeps it identical),
  only where click would render it at that same width (a terminal of 80 columns or more, or no
  terminal at all); ``andon --version``: ``andon.__version__``, which click prints too.
- ``andon [--project DIR | -p DIR] status [--json]`` against a running ``andon up``: found as
  the CLI finds it (the ``server_url`` setting, else the state folder's published address while
  its lock is held: ``andon.serve.address``), asked ``GET /api/v1/status`` (HTTP/1.0 by hand:
  see ``_fetch``) and printed by the same functions as the click command (``andon.cli.text``).
  Only a loopback ``http://HOST:PORT`` (127.x.y.z, [::1]): a token goes nowhere else from here
  (the click path keeps today's rules). Anything this door does not know — another argument,
  no project, a setting it does not know, no server, an error answer — goes to the click path,
  which behaves as it always did. It reads andon.toml only for the settings that find the
  server (``_settings_table``), and not the definitions: the server answering loaded them.

The server's answer is bounded: ``MAX_ANSWER_BYTES`` and ``TIMEOUT`` seconds in all; beyond
either, or an answer that is not a status, a clear error and exit code 2.
"""

from __future__ import annotations

import os
import sys

from andon import __version__
from andon.cli import rendered

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

PROG = "andon"
TIMEOUT = 30.0  # seconds the server may take to answer, all of it (HttpClient's: each read)
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # the largest status answer read
CHUNK = 1 << 16
MAX_HEAD_BYTES = 1 << 16  # an answer's status line and headers
MAX_PROJECT_FILE_BYTES = 1 << 20  # a larger andon.toml is left to the click path


class Unusable(Exception):
    """The server's answer cannot be shown (too large, too slow, not a status): its reason."""


def main(prog_name: str | None = None) -> Any:
    """The console script: the fast door's exit code when it answered, else the click group's
    (which exits itself)."""
    prog = prog_name or os.path.basename(sys.argv[0])
    code = serve(sys.argv[1:], prog)
    if code is not None:
        return code
    from andon.cli import main as group

    return group.main(prog_name=prog_name)


def serve(argv: list[str], prog: str = PROG, env: Mapping[str, str] | None = None,
          out: IO[str] | None = None, err: IO[str] | None = None) -> int | None:
    """Answer ``argv`` here: the exit code; None when the click group must answer it."""
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if prog != PROG:  # click would name the program otherwise in its usage line
        return None
    try:
        if argv == ["--version"]:
            _write(out, f"{PROG}, version {__version__}")
            return 0
        if argv in ([], ["--help"]):
            if _help_width(env) != rendered.WIDTH:
                return None
            _write(err if not argv else out, rendered.HELP)
            return 2 if not argv else 0  # no command: usage error, as click's group says
        return _status(argv, env, out, err)
    except BrokenPipeError:  # `andon status | head`: stop quietly, as the click commands do
        from andon.cli.text import quiet_broken_pipe

        return quiet_broken_pipe()


def _write(stream: IO[str], text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


def _help_width(env: Mapping[str, str]) -> int:
    """The width click formats help at: ``min(columns, 80) - 2``, at least 50, with columns as
    ``shutil.get_terminal_size`` finds them (``COLUMNS``, else stdout's terminal, else 80)."""
    try:
        columns = int(env.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(min(columns, 80) - 2, 50)


# -- andon status ---------------------------------------------------------------------------------

def _status(argv: list[str], env: Mapping[str, str], out: IO[str], err: IO[str]) -> int | None:
    args = _status_args(argv)
    if args is None:
        return None
    project, as_json = args
    found = _server(project, env)
    if found is None:
        return None
    host, port, token = found
    try:
        data = _fetch(host, port, token)
    except ConnectionRefusedError:  # gone since it was found: the click path decides again
        return None
    except Unusable as exc:
        where = f"http://{_bracketed(host)}:{port}{rendered.STATUS_PATH}"
        _write(err, f"Error: {where}: {exc}")
        _write(err, "  hint: is an andon up of this project answering there? (its address: "
                    "STATE_DIR/server.json, or the server_url setting)")
        return 2
    if data is None:  # an error answer: the click path shows it as it always has
        return None
    from andon.cli.text import json_text, status_lines, terminal, write

    if as_json:
        write(out, json_text(data, terminal(out)))
        return 0
    try:
        lines, code = status_lines(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        _write(err, f"Error: the answer of {rendered.STATUS_PATH} is not a status "
                    f"({type(exc).__name__}: {str(exc)[:200]})")
        _write(err, "  hint: the server and this andon may be different versions")
        return 2
    for line in lines:
        write(out, line)
    return code


def _status_args(argv: list[str]) -> tuple[str | None, bool] | None:
    """``(project, as_json)`` of ``[--project DIR | -p DIR | --project=DIR] status [--json]``;
    None for anything else."""
    project = None
    rest = argv
    if rest and rest[0] in ("--project", "-p") and len(rest) > 1:
        project, rest = rest[1], rest[2:]
    elif rest and rest[0].startswith("--project="):
        project, rest = rest[0].removeprefix("--project="), rest[1:]
    if rest == ["status"]:
        return project, False
    if rest == ["status", "--json"]:
        return project, True
    return None


def _root(start: str) -> str | None:
    """The nearest folder at or above ``start`` with an andon.toml (``project.load.find_root``)."""
    folder = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(folder, rendered.PROJECT_FILE)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _server(project: str | None, env: Mapping[str, str]) -> tuple[str, int, str] | None:
    """The running server's loopback host, port and the token to send it; None when this door
    cannot tell (the click path then decides, and reports any error)."""
    root = _root(project if project is not None else os.getcwd())
    if root is None:
        return None
    table = _settings_table(os.path.join(root, rendered.PROJECT_FILE))
    if table is None:
        return None
    value: dict[str, str] = {}
    for name, fallback in rendered.DEFAULTS.items():
        got = env.get(rendered.ENV_PREFIX + name.upper()) or table.get(name, fallback)
        if not isinstance(got, str):
            return None
        value[name] = got
    state_dir = os.path.join(root, value["state_dir"])  # an absolute state_dir stays itself
    url = value["server_url"]
    if not url:
        from andon.serve.address import published_url

        url = published_url(state_dir) or ""
    address = _loopback(url)
    if address is None:
        return None
    token = value["api_token"]
    if not token:
        try:
            with open(os.path.join(state_dir, "token"), encoding="utf-8") as fh:
                token = fh.read(4096).strip()
        except FileNotFoundError:
            token = ""
        except (OSError, ValueError):
            return None
    return (*address, token)


def _settings_table(path: str) -> dict[str, Any] | None:
    """andon.toml's ``[settings]``; None when the click path must read it (unreadable, not
    TOML, or naming a setting not known). Parsed only when the file could set one: without the
    word ``settings`` (a table, a dotted key) or a backslash (an escaped key) it cannot, and
    tomllib's import costs the fast door more than the interpreter's own start."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PROJECT_FILE_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_PROJECT_FILE_BYTES:
        return None
    if b"settings" not in raw and b"\\" not in raw:
        return {}
    import tomllib

    try:
        table = tomllib.loads(raw.decode("utf-8")).get("settings", {})
    except ValueError:  # tomllib.TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if not isinstance(table, dict) or not set(table) <= set(rendered.SETTINGS):
        return None  # the click path names the setting it does not know
    return table


def _loopback(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``http://HOST:PORT`` when HOST is a loopback address written as
    one (127.x.y.z or [::1]: no name to resolve); else None."""
    rest = url.removeprefix("http://").rstrip("/")
    if rest == url or "/" in rest or "@" in rest or "?" in rest or "#" in rest:
        return None
    host, _, port = rest.rpartition(":")
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if host == "[::1]":
        return "::1", int(port)
    parts = host.split(".")
    if len(parts) == 4 and parts[0] == "127" and all(
            p.isascii() and p.isdigit() and int(p) < 256 for p in parts):
        return host, int(port)
    return None


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _fetch(host: str, port: int, token: str) -> Any:
    """The decoded status answer; None for an error answer (4xx, 5xx). Raises Unusable, or
    ConnectionRefusedError when nothing listens.

    HTTP/1.0 by hand over ``_socket``: http.client (email, ssl) and socket (its enums) would
    cost this door twice the interpreter's start, for one GET on loopback. HTTP/1.0, so the
    answer is never chunked: it ends where Content-Length says, or when the server closes."""
    import _socket
    import json
    import time

    deadline = time.monotonic() + TIMEOUT
    sock = _socket.socket(_socket.AF_INET6 if ":" in host else _socket.AF_INET,
                          _socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        request = (f"GET {rendered.STATUS_PATH} HTTP/1.0\r\nHost: {_bracketed(host)}:{port}\r\n"
                   f"{auth}Accept: application/json\r\n\r\n")
        received = bytearray()
        try:
            sock.connect((host, port))
            sock.sendall(request.encode("latin-1"))
            while True:  # each receive given only what is left of the deadline
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(CHUNK)
                if not chunk:
                    break
                received += chunk
                if len(received) > MAX_ANSWER_BYTES + MAX_HEAD_BYTES:
                    raise Unusable(f"the answer is more than the {MAX_ANSWER_BYTES:,} bytes read")
        except ConnectionRefusedError:
            raise
        except TimeoutError:
            raise Unusable(f"no answer within {TIMEOUT:g} s") from None
        except (OSError, UnicodeEncodeError) as exc:
            raise Unusable(f"the connection failed: {type(exc).__name__}: {exc}") from None
    finally:
        sock.close()
    code, length, body = _answer(bytes(received))
    if code != 200:
        return None
    if length is not None and length > MAX_ANSWER_BYTES:
        raise Unusable(f"the answer is {length:,} bytes, more than the {MAX_ANSWER_BYTES:,} read")
    if len(body) > MAX_ANSWER_BYTES:
        raise Unusable(f"the answer is more than the {MAX_ANSWER_BYTES:,} bytes read")
    if length is not None and length != len(body):
        raise Unusable(f"the answer ended after {len(body):,} of its {length:,} bytes")
    try:
        data = json.loads(body)
    except ValueError:
        raise Unusable("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise Unusable("the answer is not a JSON object")
    return data


def _answer(raw: bytes) -> tuple[int, int | None, bytes]:
    """(status code, Content-Length or None, body) of a whole HTTP/1.x answer."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep or len(head) > MAX_HEAD_BYTES:
        raise Unusable("the answer is not HTTP")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if len(status) < 2 or not status[0].startswith(b"HTTP/1.") or not status[1].isdigit():
        raise Unusable("the answer is not HTTP")
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            if not value.strip().isdigit():
                raise Unusable("the answer's Content-Length is not a number")
            length = int(value.strip())
    return int(status[1]), length, body
