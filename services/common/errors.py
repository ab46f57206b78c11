"""Errors a person can act on. The API turns them into JSON 4xx answers and the CLI into one-line messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Row = TypeVar("Row")


class KaiError(Exception):
    """Base class: ``message`` is shown to the user as is, ``status_code`` is the HTTP status."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(KaiError):
    status_code = 422


class Unauthorized(KaiError):
    """No valid login or token: the caller must identify first."""

    status_code = 401


class Forbidden(KaiError):
    """The caller's role may not do this (or a form lacks its CSRF token)."""

    status_code = 403


class NotFound(KaiError):
    status_code = 404


class Conflict(KaiError):
    status_code = 409


class PayloadTooLarge(KaiError):
    status_code = 413


class UnsupportedMediaType(KaiError):
    status_code = 415


class ConfigurationError(KaiError):
    """The installation is wrong (missing weights, bad model path): not the user's input."""

    status_code = 503


def get_or_not_found(session: Session, table: type[Row], key: Any, message: str) -> Row:
    """The row of ``table`` with primary key ``key``; ``NotFound(message)`` when there is none."""
    row = session.get(table, key)
    if row is None:
        raise NotFound(message)
    return row
