"""Typed errors carrying an HTTP status and a message safe to show a visitor."""

from __future__ import annotations

from dataclasses import dataclass, field


class MapappError(Exception):
    """Base error: ``status`` for HTTP, ``message`` safe to show."""

    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": self.message, "status": self.status}


class BadRequest(MapappError):
    status = 400


class Forbidden(MapappError):
    """Signed in, but not allowed (a planner on an admin page, a read-only layer)."""

    status = 403


class CsrfError(MapappError):
    """A state-changing request with the session cookie and no valid CSRF token."""

    status = 400


class RateLimited(MapappError):
    """Too many requests of one kind for now (public contributions)."""

    status = 429


class NotFound(MapappError):
    status = 404


class Gone(MapappError):
    """A resource of an older data version (a map page to reload)."""

    status = 410


class Conflict(MapappError):
    """A write based on a stale version (If-Match failed); carries the current state."""

    status = 412

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current


class AlreadyExists(Conflict):
    """Something with that name or id exists already (a duplicate, not a stale
    version: 409, and no current state to show)."""

    status = 409


class PreconditionRequired(MapappError):
    """A write without the If-Match header naming the version it is based on."""

    status = 428


@dataclass
class Problem:
    """One validation problem: where it is and what is wrong."""

    file: str
    feature: str
    field: str
    message: str  # in English, for logs, the CLI and import reports
    code: str = ""  # what is wrong, for translated messages (layers/validation.py)
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.file}: feature {self.feature}: {self.field}: {self.message}"


class ValidationError(MapappError):
    """Data that does not meet its layer's schema; lists every problem found."""

    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"... and {len(problems) - 20} more problems")
        super().__init__("\n".join(lines))

    def to_dict(self) -> dict:
        return {
            "error": "validation failed",
            "status": self.status,
            "problems": [p.__dict__ for p in self.problems],
        }


class TimeLimit(MapappError):
    """A read that took longer than its time budget (:data:`mapapp.limits.QUERY_SECONDS`)
    and was stopped, so it holds no worker: 503, to be narrowed or tried later."""

    status = 503


class StoreError(MapappError):
    """The store cannot be opened or written (corrupt file, missing table...)."""

    status = 500
