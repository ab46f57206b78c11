"""The published OpenAPI schema tells the truth: one Danish error body for every 4xx, and times with their
time zone. Real answers are validated against it, formats included."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from services.common import auth
from services.common.db import Database

ERROR_OUT = {"$ref": "#/components/schemas/ErrorOut"}


@pytest.fixture
def it_token(db: Database) -> dict[str, str]:
    auth.add_user(db, "jens", auth.Role.IT)
    return {"Authorization": f"Bearer {auth.create_token(db, 'jens')[1]}"}


def _check(openapi: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    """Validate ``body`` against what the schema publishes for ``status`` (or its range, e.g. 4XX)."""
    responses = openapi["paths"][path][method]["responses"]
    documented = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
    schema = documented["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for(
        {**schema, "components": openapi["components"]}, validate_formats=True
    )
    errors = [error.message for error in validator.iter_errors(body)]
    assert errors == [], f"{method.upper()} {path} {status}: {errors}"


def test_every_api_operation_documents_one_error_body(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorOut"]["properties"]["detail"]["type"] == "string"
    assert schemas["ErrorOut"]["required"] == ["detail"]
    operations = [
        (path, method, operation)
        for path, item in openapi["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("4XX", "422"):
            if status in responses or status == "4XX":
                content = responses[status]["content"]["application/json"]["schema"]
                assert content == ERROR_OUT, (method, path, status)


def test_real_answers_match_the_published_schema(client: TestClient, it_token: dict[str, str]) -> None:
    openapi = client.get("/openapi.json").json()
    # Errors: a validation error, a refusal before the body, an unknown id.
    invalid = client.post("/api/chat/ask", json={}, headers=it_token)
    assert invalid.status_code == 422
    _check(openapi, "post", "/api/chat/ask", 422, invalid.json())
    anonymous = client.post("/api/mail/route", json={"subject": "Hej"})
    assert anonymous.status_code == 401
    _check(openapi, "post", "/api/mail/route", 401, anonymous.json())
    missing = client.get("/api/minutes/meetings/findes-ikke", headers=it_token)
    assert missing.status_code == 404
    _check(openapi, "get", "/api/minutes/meetings/{meeting_id}", 404, missing.json())
    # Times: a routed mail's arrival, a mail model's creation and activation, all with their time zone.
    mail = {"from": "bo@example.dk", "subject": "Storskrald", "body": "Hvornår hentes storskrald?"}
    routed = client.post("/api/mail/route", json=mail, headers=it_token)
    assert routed.status_code == 200
    _check(openapi, "post", "/api/mail/route", 200, routed.json())
    models = client.get("/api/mail/models", headers=it_token)
    assert models.status_code == 200
    _check(openapi, "get", "/api/mail/models", 200, models.json())
    [model] = models.json()
    times = [routed.json()["received_at"], model["created_at"], model["activated_at"]]
    assert all(time.endswith("Z") for time in times), times
