"""Every setting, declared once: name, default, environment variable and help.

``resolve`` is called at the edge (the CLI, the web app factory) with flag values, the environment
and the project's ``andon.toml``; the result is one frozen Settings object that is passed down.
Nothing below the edge reads ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from andon.model.definitions import RESERVED_ENV_PREFIX
from andon.model.dispatch import DEFAULT_POLICY, POLICY_NAMES, Policy, one_of
from andon.model.errors import ConfigError
from andon.project.dasksettings import check_adaptive, check_scheduler


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return RESERVED_ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "", "SQLAlchemy URL of the store; default: SQLite at "
            ".andon/andon.db in the project (PostgreSQL: postgresql+psycopg://...)"),
    Setting("host", "127.0.0.1", "address the HTTP server binds to"),
    Setting("port", 8765, "port of the HTTP server"),
    Setting("executor", "local", "how runs execute: local (a process each), inprocess, or dask "
            "(a Dask cluster, andon[dask])"),
    Setting("dask_scheduler", "", "address of the Dask scheduler (tcp://host:8786 or "
            "tls://...) for executor = dask; empty: andon starts a local cluster"),
    Setting("dask_adaptive", "", "{min = 0, max = N} (env MIN:MAX): the local Dask cluster "
            "scales its workers with andon's queue between min and max; empty: fixed"),
    Setting("state_dir", ".andon", "folder (relative to the project) for the store, logs and "
            "run files"),
    Setting("api_token", "", "API token the CLI sends to a running server (default: the "
            "token in STATE_DIR/token)"),
    Setting("server_url", "", "URL of a running `andon up` for the CLI; default: found from "
            "STATE_DIR/server.json"),
    Setting("kill_grace", 10.0, "seconds between SIGTERM and SIGKILL when cancelling a run"),
    Setting("max_log_bytes", 50_000_000, "cap on a run's log file in bytes: beyond it the head "
            "and the tail are kept, with a marker of what was left out between; 0: no cap"),
    Setting("log_format", "auto", "log format on stderr: auto (JSON when not a terminal), text "
            "or json"),
    Setting("policy", DEFAULT_POLICY.value, f"dispatch policy of `andon up`: {one_of(POLICY_NAMES)} "
            f"({Policy.CPSAT} needs andon[opt])"),
    Setting("smtp_host", "", "SMTP server for e-mail notifications; empty: no e-mail"),
    Setting("smtp_port", 25, "port of the SMTP server"),
    Setting("smtp_user", "", "SMTP login user (empty: no login)"),
    Setting("smtp_password", "", "SMTP login password (never logged or shown)"),
    Setting("smtp_from", "andon@localhost", "From address of notification e-mails"),
    Setting("smtp_starttls", False, "upgrade the SMTP connection with STARTTLS"),
    Setting("notify_attempts", 5, "delivery attempts per notification and recipient before "
            "giving up"),
    Setting("notify_retry_delay", 5.0, "seconds before the first retry of a failed delivery; "
            "doubles each attempt, at most an hour"),
    Setting("notify_timeout", 10.0, "seconds one webhook or SMTP delivery may take"),
    Setting("check_workers", 2, "threads that run data quality checks"),
    Setting("plan_worker", True, "policy jit: run its rollout (what-if days of candidate "
            "dispatches) on a worker thread whose advice a decision takes while still valid; "
            "false: the rule and hold-back alone"),
    Setting("openlineage_url", "", "OpenLineage endpoint to POST run events to (e.g. Marquez "
            "http://host:5000/api/v1/lineage); empty: none"),
    Setting("openlineage_file", "", "file (relative to the project) to append OpenLineage run "
            "events to as JSON lines; empty: none"),
    Setting("openlineage_namespace", "andon", "OpenLineage namespace of andon's jobs and "
            "datasets"),
    Setting("openlineage_transport", "builtin", "who sends the OpenLineage events: builtin "
            "(POST to openlineage_url) or client (the openlineage-python client, andon[lineage]: "
            "to openlineage_url, or as openlineage.yml / OPENLINEAGE_* variables say)"),
    Setting("max_body_bytes", 1_048_576, "largest HTTP request body (bytes); larger: 413"),
    Setting("max_json_depth", 32, "deepest nesting of a JSON request body; deeper: 422"),
    Setting("max_string_bytes", 10_240, "longest string (UTF-8 bytes) in a JSON request body "
            "(a cord reason, a note, a name); longer: 422"),
    Setting("log_page_bytes", 1_048_576, "most bytes of a run log one GET "
            "/api/v1/runs/{id}/log answers (the default and the cap of its limit)"),
    Setting("header_timeout", 10.0, "seconds a client has to send a request, headers and body "
            "(on a new or a kept-alive connection), before it is disconnected"),
    Setting("max_client_connections", 64, "connections one client address may hold; beyond "
            "it the oldest one still sending its request is dropped, or the new one gets 503"),
    Setting("max_backfill", 10_000, "most partitions one backfill may request (counted before "
            "any is listed); more: 422"),
    Setting("access_max_days", 365, "how far ahead (days) an access request or a consumer's "
            "registration may last; further: 422"),
    Setting("allowed_hosts", "", "extra Host names the HTTP server answers (comma-separated; "
            "localhost, IP addresses and the bound host always; * = any): others get 421"),
    Setting("snapshot_every", 10_000, "write an engine-state snapshot (start-up replays only the "
            "events after it; settled days leave memory) every N committed events; 0: never"),
    Setting("advertise_url", "", "the address (http://host:port) a team's standbys forward API "
            "writes to this `andon up` at while it leads (PostgreSQL); default: the bound one, "
            "127.0.0.1 for a wildcard host"),
    Setting("forward_hosts", "", "hosts (comma-separated) besides loopback that a standby may "
            "forward API writes, with the caller's token, to (docs/deploy.md)"),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def default(name: str) -> Any:
    """The default of the setting ``name`` (the one place it is spelled)."""
    return _BY_NAME[name].default


DEFAULT_MAX_LOG_BYTES: int = default("max_log_bytes")
MIN_LOG_BYTES = 4096  # room for a head, a tail and the marker between them
LINEAGE_TRANSPORTS = ("builtin", "client")
EXECUTORS = ("local", "inprocess", "dask")
MIN_SNAPSHOT_EVERY, MAX_SNAPSHOT_EVERY = 100, 10_000_000  # events between two snapshots


@dataclass(frozen=True)
class Settings:
    """The resolved settings (flag > ANDON_* environment variable > andon.toml > default)."""

    root: Path
    database_url: str
    host: str
    port: int
    executor: str
    state_dir: Path
    api_token: str
    server_url: str
    kill_grace: float
    log_format: str
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES
    policy: str = default("policy")
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "andon@localhost"
    smtp_starttls: bool = False
    notify_attempts: int = 5
    notify_retry_delay: float = 5.0
    notify_timeout: float = 10.0
    check_workers: int = 2
    plan_worker: bool = True
    openlineage_url: str = ""
    openlineage_file: str = ""
    openlineage_namespace: str = "andon"
    openlineage_transport: str = "builtin"
    max_body_bytes: int = default("max_body_bytes")
    max_json_depth: int = default("max_json_depth")
    max_string_bytes: int = default("max_string_bytes")
    log_page_bytes: int = default("log_page_bytes")
    header_timeout: float = default("header_timeout")
    max_client_connections: int = default("max_client_connections")
    allowed_hosts: str = default("allowed_hosts")
    max_backfill: int = default("max_backfill")
    access_max_days: int = default("access_max_days")
    dask_scheduler: str = ""
    dask_adaptive: tuple[int, int] | None = None  # (min, max) workers; None: no adapting
    snapshot_every: int = default("snapshot_every")
    advertise_url: str = default("advertise_url")
    forward_hosts: str = default("forward_hosts")

    def public(self) -> dict[str, Any]:
        """Settings safe to show (no secrets)."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        out["api_token"] = "***" if self.api_token else ""
        out["smtp_password"] = "***" if self.smtp_password else ""
        if self.openlineage_url:  # a token may ride in the URL: show where it goes, not how
            scheme, _, rest = self.openlineage_url.partition("://")
            out["openlineage_url"] = f"{scheme}://{rest.split('/', 1)[0].split('@')[-1]}/***"
        if "@" in out["database_url"]:
            scheme, rest = out["database_url"].split("://", 1)
            out["database_url"] = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return out


TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if isinstance(setting.default, bool):
        word = str(value).lower()
        if word not in TRUE + FALSE:
            raise ConfigError(f"setting {setting.name}={value!r} from {origin} is not true or false",
                              hint=f"give {setting.name} one of " + ", ".join(TRUE + FALSE))
        return word in TRUE
    if isinstance(setting.default, (int, float)) and not isinstance(value, (int, float)):
        try:
            return type(setting.default)(value)
        except ValueError:
            raise ConfigError(f"setting {setting.name}={value!r} from {origin} is not a number",
                              hint=f"give {setting.name} a number") from None
    return value


def resolve(root: Path, flags: Mapping[str, Any], env: Mapping[str, str],
            toml: Mapping[str, Any]) -> Settings:
    """Resolve every setting once, in precedence order."""
    unknown = set(toml) - set(_BY_NAME)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} in [settings] of andon.toml",
                          where=str(root / "andon.toml"),
                          hint=f"known settings: {', '.join(_BY_NAME)}")
    values: dict[str, Any] = {}
    for s in SETTINGS:
        if flags.get(s.name) not in (None, ""):
            values[s.name] = _coerce(s, flags[s.name], "the command line")
        elif env.get(s.env):
            values[s.name] = _coerce(s, env[s.env], s.env)
        elif s.name in toml:
            values[s.name] = _coerce(s, toml[s.name], "andon.toml")
        else:
            values[s.name] = s.default
    if values["policy"] not in POLICY_NAMES:
        raise ConfigError(f"policy {values['policy']!r} is not known",
                          hint="use policy = " + ", ".join(repr(p) for p in POLICY_NAMES))
    if values["executor"] not in EXECUTORS:
        raise ConfigError(f"executor {values['executor']!r} is not known",
                          hint="use executor = " + ", ".join(repr(e) for e in EXECUTORS))
    values["dask_scheduler"] = check_scheduler(str(values["dask_scheduler"]))
    values["dask_adaptive"] = check_adaptive(values["dask_adaptive"])
    if values["openlineage_transport"] not in LINEAGE_TRANSPORTS:
        raise ConfigError(f"openlineage_transport {values['openlineage_transport']!r} is not known",
                          hint="use openlineage_transport = 'builtin' or 'client'")
    if values["max_log_bytes"] and values["max_log_bytes"] < MIN_LOG_BYTES:
        raise ConfigError(f"max_log_bytes = {values['max_log_bytes']} is too small",
                          hint=f"give max_log_bytes at least {MIN_LOG_BYTES} bytes, or 0 for no cap")
    if values["snapshot_every"] and not MIN_SNAPSHOT_EVERY <= values["snapshot_every"] <= \
            MAX_SNAPSHOT_EVERY:
        raise ConfigError(f"snapshot_every = {values['snapshot_every']} is out of range",
                          hint=f"give snapshot_every 0 (never) or {MIN_SNAPSHOT_EVERY:,} to "
                               f"{MAX_SNAPSHOT_EVERY:,} events")
    state_dir = Path(values["state_dir"])
    state_dir = state_dir if state_dir.is_absolute() else root / state_dir
    if not values["database_url"]:
        values["database_url"] = f"sqlite:///{state_dir / 'andon.db'}"
    values["state_dir"] = state_dir
    return Settings(root=root, **values)
