"""Request and response bodies of the mailsort API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.common.schemas import UtcDateTime


class MailIn(BaseModel):
    """A mail as fields (for integrations that already parsed it); raw RFC 822 goes to /route/raw."""

    sender: str = Field("", alias="from", max_length=300)
    to: str = Field("", max_length=300)
    subject: str = Field("", max_length=1000)
    body: str = Field("", max_length=2_000_000)

    model_config = ConfigDict(populate_by_name=True)


class RoutedOut(BaseModel):
    """The CLI's JSON (queue, confidence, auto, contains_cpr, urgent, explanation) plus review details."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    queue: str | None
    confidence: float
    auto: bool
    contains_cpr: bool
    urgent: bool
    explanation: list[str]
    suggestions: list[dict[str, Any]]
    status: str
    final_queue: str | None
    subject: str
    sender: str
    mailbox: str
    received_at: UtcDateTime
    model_version: str
    problems: list[str]


class DecisionIn(BaseModel):
    queue: str = Field(min_length=1, max_length=64)


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: str
    created_at: UtcDateTime
    active: bool
    trained_on: int
    corrections: int
    metrics: dict[str, Any]
    note: str
    comparison: dict[str, Any] | None  # a retrained model's held-out comparison with the model then active
    activated_at: UtcDateTime | None  # None: a candidate never in use
