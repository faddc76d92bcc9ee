"""Where notifications go: the ``[notify]`` table of andon.toml plus the resolved settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from andon.model.errors import ConfigError
from andon.model.graph import Graph
from andon.project.settings import Settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "andon@localhost"
    starttls: bool = False


@dataclass(frozen=True)
class NotifyConfig:
    """``webhooks``: name -> URL; ``subscribers``: told about everything; ``smtp``: None when
    e-mail is off. ``attempts``, ``retry_delay`` and ``timeout`` govern delivery."""

    webhooks: Mapping[str, str] = field(default_factory=dict, repr=False)
    subscribers: tuple[str, ...] = ()
    smtp: SmtpConfig | None = None
    attempts: int = 5
    retry_delay: float = 5.0
    timeout: float = 10.0
    project: str = ""


def is_address(name: str) -> bool:
    """An e-mail address (as opposed to a webhook name)."""
    local, _, domain = name.partition("@")
    return bool(local) and bool(domain) and " " not in name and "/" not in name


def notify_config(config: Mapping[str, Any], settings: Settings, graph: Graph | None = None,
                  project: str = "") -> NotifyConfig:
    """Read ``[notify]`` (and ``[notify.webhooks]``) of a loaded andon.toml. A declared
    subscriber that is neither an e-mail address nor a webhook name is an error naming where it
    was declared; an owner that is neither is simply not notified."""
    where = str(settings.root / "andon.toml")
    table = config.get("notify", {})
    if not isinstance(table, Mapping):
        raise ConfigError("[notify] must be a table", where=where,
                          hint='write [notify] then subscribers = ["ops@example.com"]')
    hooks = table.get("webhooks", {})
    if not isinstance(hooks, Mapping) or not all(
            isinstance(u, str) and urlsplit(u).scheme in ("http", "https") for u in hooks.values()):
        raise ConfigError("[notify.webhooks] must map names to http(s) URLs", where=where,
                          hint='write [notify.webhooks] then alerts = "https://hooks.example.com/..."')
    subscribers = table.get("subscribers", [])
    if isinstance(subscribers, str) or not isinstance(subscribers, list):
        raise ConfigError(f"[notify] subscribers = {subscribers!r} must be a list", where=where,
                          hint='write subscribers = ["ops@example.com", "alerts"]')
    unknown_keys = set(table) - {"webhooks", "subscribers"} - {k for k in table
                                                                if k.startswith("smtp_")}
    if unknown_keys:
        raise ConfigError(f"unknown key(s) {sorted(unknown_keys)} in [notify]", where=where,
                          hint="[notify] takes subscribers, webhooks and the smtp_* settings")
    webhooks = {str(k): str(v) for k, v in hooks.items()}
    declared: list[tuple[str, str]] = [(s, where) for s in subscribers]
    if graph is not None:
        declared += [(s, a.where) for a in graph.assets.values() for s in a.subscribers]
    for name, site in declared:
        if not isinstance(name, str) or not (is_address(name) or name in webhooks):
            raise ConfigError(f"subscriber {name!r} is neither an e-mail address nor a webhook "
                              "named in [notify.webhooks]", where=site,
                              hint=f"add {name} = \"https://...\" under [notify.webhooks] in "
                                   "andon.toml, or give an e-mail address")
    smtp = None
    if settings.smtp_host:
        smtp = SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_user,
                          settings.smtp_password, settings.smtp_from, settings.smtp_starttls)
    return NotifyConfig(webhooks, tuple(subscribers), smtp, max(settings.notify_attempts, 1),
                        max(settings.notify_retry_delay, 0.0), settings.notify_timeout, project)
