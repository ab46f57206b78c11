"""What every service's API answers share: one error body, and one way to write a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from services.common.db import as_utc


class ErrorOut(BaseModel):
    """Every 4xx answer (and the 5xx kai gives itself)."""

    detail: str = Field(description="What went wrong, in Danish, for the person in front of the screen.")


def _utc(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(UTC)


# A time in an answer: UTC, written with its zone ("2026-12-06T05:31:48.988244Z"), whether the database
# handed it over naive (SQLite; kai stores UTC) or aware (PostgreSQL).
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


def document_errors(openapi: dict[str, Any]) -> dict[str, Any]:
    """``openapi`` with ``ErrorOut`` as the body of every API operation's 4xx answers, in place of FastAPI's
    default 422 schema (a list of pydantic errors, which kai never sends)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorOut"] = ErrorOut.model_json_schema()
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    invalid = {"description": "Ugyldigt input", "content": content}
    refused = {"description": "Afvist: login, rolle, ukendt id, for stor, …", "content": content}
    for path, item in openapi.get("paths", {}).items():
        for operation in item.values() if path.startswith("/api/") else ():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = invalid
            responses["4XX"] = refused
    return openapi
