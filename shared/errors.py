"""Errors every service answers the same way, with a machine-readable body.

Body: ``{"code": 409, "status": "Conflict", "message": "...", "rule": "...",
"rule_name": "...", "source": "...", "errors": {...}}``; ``errors`` maps a field to its
reasons, ``rule`` names the business rule that refused the request, and ``rule_name`` and
``source`` cite it from the catalogue (shared/rule_catalogue.json) so a person reads which
rule it is and what it rests on.
"""
from __future__ import annotations

from typing import Any

from shared import rule_catalogue


class ApiError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, message: str, *, rule: str | None = None,
                 errors: dict[str, Any] | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message, self.rule, self.errors, self.details = message, rule, errors, details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.status, "status": self.title, "message": self.message}
        if self.rule:
            body["rule"] = self.rule
            body.update(rule_catalogue.cite(self.rule, self.details))
        if self.errors:
            body["errors"] = self.errors
        if self.details:
            body["details"] = self.details
        return body


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"


class Forbidden(ApiError):
    status, title = 403, "Forbidden"


class NotFound(ApiError):
    status, title = 404, "Not Found"


class RuleViolation(ApiError):
    """A business rule refused the command (deadline, quota, order of steps...)."""
    status, title = 409, "Conflict"


class Invalid(ApiError):
    """Well-formed input that is still wrong, field by field."""
    status, title = 422, "Unprocessable Entity"


class NotYetSeen(ApiError):
    """A precondition depends on another service's event this service has not received yet."""
    status, title = 409, "Conflict"

    def body(self) -> dict[str, Any]:
        return {**super().body(), "retryable": True}
