"""Postsortering: routed mails with queue, confidence and explanation; the review queue with the model's
suggestions; one-click routing and correction; retraining with a candidate a person promotes or discards.

The page renders what is stored; every change goes through the JSON API under /api/mail from static/post.js
(with the session's CSRF token), so the page and the API share one set of rules. After a model action the
script fetches the models section again from /post/modeller, rendered by the same template as the page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from services.common.auth import Principal
from services.common.deps import DatabaseDep, SettingsDep
from services.mailsort import service
from services.mailsort.policy import CLERK_ROLES
from services.mailsort.store import MailStatus
from services.web.rendering import page_router, page_user, render

router = page_router()
Clerk = Annotated[Principal, Depends(page_user(CLERK_ROLES))]
RECENT_MAILS = 50  # the newest routed mails shown; older ones are in the API and the drift report
# What a mail's status says to a clerk; the script uses the same words after a decision.
STATUS_LABELS = {
    MailStatus.AUTO: "Sorteret automatisk",
    MailStatus.REVIEW: "Venter på vurdering",
    MailStatus.DECIDED: "Afgjort",
    MailStatus.CORRECTED: "Rettet",
}
# The figures compared for a candidate: (metrics key, Danish label), each a share shown in per cent.
COMPARED_METRICS = (
    ("macro_f1", "Macro-F1"),
    ("accuracy", "Nøjagtighed"),
    ("auto_coverage", "Sorteret automatisk"),
    ("auto_precision", "Præcision af automatisk sortering"),
)


def percent(share: float | None) -> str:
    """0.8765 → '87,7 %'; a missing figure → '–'."""
    if share is None:
        return "–"
    return f"{share * 100:.1f} %".replace(".", ",")


def _models_context(db: DatabaseDep) -> dict[str, object]:
    return {
        "overview": service.model_overview(db),
        "compared_metrics": COMPARED_METRICS,
        "percent": percent,
    }


@router.get("/post", response_model=None)
def mail_page(request: Request, db: DatabaseDep, settings: SettingsDep, principal: Clerk) -> Response:
    return render(
        request,
        "post.html",
        principal,
        mails=service.recent_mails(db, limit=RECENT_MAILS),
        review=service.review_queue(db),
        queues=[q["queue"] for q in service.queues(db, settings)],
        status_labels=STATUS_LABELS,
        **_models_context(db),
    )


@router.get("/post/modeller", response_model=None)
def models_section(request: Request, db: DatabaseDep, principal: Clerk) -> Response:
    """The models section alone, for the script to show a model action's result."""
    return render(request, "post_modeller.html", principal, **_models_context(db))
