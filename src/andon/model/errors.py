"""Errors that carry what a person needs: what went wrong, where, and what to do next.

Every layer raises these; the CLI turns them into ``Error: ...`` plus a hint and a distinct exit
code, the HTTP API into a JSON body with a 4xx status.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # a run or a check failed
EXIT_USAGE = 2  # usage or configuration error


class AndonError(Exception):
    """Base error: ``message`` says what went wrong in one sentence, ``where`` names the file and
    object, ``hint`` says what to do next."""

    exit_code = EXIT_USAGE
    http_status = 400

    def __init__(self, message: str, *, where: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str]:
        return {"error": type(self).__name__, "message": self.message, "where": self.where,
                "hint": self.hint}


class DefinitionError(AndonError):
    """A pipeline, source, pool or project definition is invalid (found at load time)."""


class ConfigError(AndonError):
    """A setting or the project file is missing or malformed."""


class NotFound(AndonError):
    """A named object (run, asset, pipeline, partition) does not exist."""

    http_status = 404


class Conflict(AndonError):
    """The request is valid but cannot be applied to the current state."""

    http_status = 409


class BadRequest(AndonError):
    """A request names something that exists but asks for something impossible."""

    http_status = 422


class IllegalTransition(Conflict):
    """A run was asked to move between two states that are not connected."""


class UnsafePath(AndonError):
    """A path andon was asked to read or write leaves the project's roots, or is not a regular
    file or folder (a FIFO, a device, a socket): refused, never opened."""

    http_status = 422


class Forbidden(AndonError):
    """The caller may not do this (a decision on another owner's data set)."""

    http_status = 403
