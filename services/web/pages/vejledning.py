"""Spørg vejledningen: the chat over the guidance collections, and the editors' list of content gaps.

The page renders the collections the user may read; the chat itself runs in vejledning.js against /api/chat.
On the gaps page an editor attaches an asked question to the § or guide that answers it
(vejledning_huller.js against /api/chat/expansions).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from services.chatbot import service
from services.chatbot.policy import GAP_EDITOR_ROLES
from services.common.auth import Principal
from services.common.deps import DatabaseDep, SettingsDep
from services.web.rendering import PageUser, danish_time, page_router, page_user, render

router = page_router()
Editor = Annotated[Principal, Depends(page_user(GAP_EDITOR_ROLES))]


@router.get("/vejledning", response_model=None)
def chat_page(request: Request, db: DatabaseDep, principal: PageUser) -> Response:
    return render(
        request,
        "vejledning.html",
        principal,
        collections=service.list_collections(db, principal),
        is_editor=principal.role in GAP_EDITOR_ROLES,
    )


@router.get("/vejledning/huller", response_model=None)
def gaps_page(request: Request, db: DatabaseDep, settings: SettingsDep, principal: Editor) -> Response:
    gaps = [
        {
            "question": gap.question,
            "times": gap.times,
            "last_asked": gap.last_asked,
            "last_asked_text": danish_time(gap.last_asked),
            "collections": gap.collections,
            "reason": gap.reason,
            "answer_id": gap.answer_id,
            "cited": gap.cited,
            "attached": gap.attached,
        }
        for gap in service.content_gaps(db, principal)
    ]
    units = service.unit_choices(db, settings, principal)
    return render(request, "vejledning_huller.html", principal, gaps=gaps, units=units)
