"""Request and response bodies of the chatbot API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.chatbot.service import MAX_QUESTION_CHARS


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question, in Danish.")
    collection: str | None = Field(
        None, description="Search only this collection; default: all you may read."
    )
    conversation_id: str | None = Field(None, description="Continue a conversation (follow-up question).")


class CitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    section: str
    title: str
    url: str
    score: float


class PassageOut(BaseModel):
    citation: int = Field(description="1-based number of the citation this passage belongs to.")
    title: str
    text: str
    highlights: list[tuple[int, int]] = Field(description="Character spans of the sentences that answer.")


class AskOut(BaseModel):
    """The CLI's JSON (answer, abstained, citations) plus what the web page needs."""

    answer: str
    abstained: bool
    citations: list[CitationOut]
    passages: list[PassageOut]
    answer_id: str
    conversation_id: str
    confidence: float
    answer_source: str


class CollectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    title: str
    chunks: int
    contact: str


class FeedbackIn(BaseModel):
    answer_id: str
    helpful: bool
    manual_minutes: float | None = Field(
        None, ge=0, le=480, description="How long the lookup would have taken without kai, in minutes."
    )


class ExpansionIn(BaseModel):
    """Attach an asked question (the answer it got) to the § or guide that answers it."""

    answer_id: str = Field(description="The answer the question got (``answer_id`` of a content gap).")
    collection: str
    source: str = Field(description="The document, e.g. 'retsinformation_2025_282.json'.")
    section: str = Field("", description="The § (e.g. '47'); empty for a guide, which is cited by its file.")


class ExpansionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    collection: str
    source: str
    section: str
    label: str
    question: str
    added_by: str
    added_at: str


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    collection: str
    source: str
    section: str
    label: str


class GapOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    question: str
    times: int
    last_asked: str
    collections: list[str]
    reason: str
    answer_id: str
    cited: list[str] = Field(description="What an unhelpful answer cited.")
    attached: list[ExpansionOut] = Field(description="Sources an editor attached the question to.")
