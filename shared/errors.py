"""Domain errors that become RFC 9457 problem+json answers.

Pure: domain rules and use cases raise these; only shared/problems.py knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Conflict(DomainError):
    """The resource is in a state where the action is not allowed (names the allowed actions)."""

    status = 409
    title = "Conflict"


class TooManyRequests(DomainError):
    """Wait before trying again: `retry_after` (seconds) becomes the Retry-After header."""

    status = 429
    title = "Too many requests"
