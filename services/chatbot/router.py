"""HTTP layer of the chatbot: parse, call one service function, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import FileResponse, Response

from services.chatbot import service
from services.chatbot.schemas import (
    AskIn,
    AskOut,
    CitationOut,
    CollectionOut,
    ExpansionIn,
    ExpansionOut,
    FeedbackIn,
    GapOut,
    PassageOut,
    UnitOut,
)
from services.common.auth import PrincipalDep
from services.common.deps import DatabaseDep, RowIdPath, SettingsDep
from services.common.files import file_response, format_of

router = APIRouter(prefix="/api/chat", tags=["chatbot"])


@router.post("/ask", response_model=AskOut)
def ask(body: AskIn, db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep) -> AskOut:
    reply = service.ask(db, settings, principal, body.question, body.collection, body.conversation_id)
    answer = reply.answer
    return AskOut(
        answer=answer.text,
        abstained=answer.abstained,
        citations=[CitationOut.model_validate(c) for c in answer.citations],
        passages=[
            PassageOut(citation=n, title=p.chunk.title, text=p.chunk.text, highlights=p.highlights)
            for n, p in enumerate(answer.passages, start=1)
        ],
        answer_id=reply.answer_id,
        conversation_id=reply.conversation_id,
        confidence=round(answer.confidence, 4),
        answer_source=answer.source,
    )


@router.get("/collections", response_model=list[CollectionOut])
def collections(db: DatabaseDep, principal: PrincipalDep) -> list[CollectionOut]:
    return [CollectionOut.model_validate(c) for c in service.list_collections(db, principal)]


@router.get("/sources/{collection}/{source:path}")
def source(
    collection: str, source: str, db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep
) -> FileResponse:
    path = service.source_file(db, settings, principal, collection, source)
    return file_response(path, format_of(path), path.name, inline=True)


@router.post("/feedback", status_code=status.HTTP_204_NO_CONTENT)
def feedback(body: FeedbackIn, db: DatabaseDep, principal: PrincipalDep) -> Response:
    service.give_feedback(db, principal, body.answer_id, body.helpful, body.manual_minutes)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/gaps", response_model=list[GapOut])
def gaps(db: DatabaseDep, principal: PrincipalDep) -> list[GapOut]:
    return [GapOut.model_validate(g) for g in service.content_gaps(db, principal)]


@router.get("/units", response_model=list[UnitOut])
def units(db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep) -> list[UnitOut]:
    return [UnitOut.model_validate(u) for u in service.unit_choices(db, settings, principal)]


@router.post("/expansions", response_model=ExpansionOut, status_code=status.HTTP_201_CREATED)
def add_expansion(
    body: ExpansionIn, db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep
) -> ExpansionOut:
    attached = service.add_expansion(
        db, settings, principal, body.answer_id, body.collection, body.source, body.section
    )
    return ExpansionOut.model_validate(attached)


@router.delete("/expansions/{expansion_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_expansion(
    expansion_id: RowIdPath, db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    service.remove_expansion(db, settings, principal, expansion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
