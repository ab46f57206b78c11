"""HTTP layer of mail sorting: parse, call one service function, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from services.common.auth import Principal, PrincipalDep, require_roles
from services.common.deps import DatabaseDep, SettingsDep
from services.mailsort import service
from services.mailsort.policy import CLERK_ROLES
from services.mailsort.schemas import DecisionIn, MailIn, ModelOut, RoutedOut

router = APIRouter(prefix="/api/mail", tags=["mailsort"])
Clerk = Annotated[Principal, Depends(require_roles(*CLERK_ROLES))]


@router.post("/route", response_model=RoutedOut)
def route(body: MailIn, db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep) -> RoutedOut:
    result = service.route_fields(
        db, settings, body.sender, body.to, body.subject, body.body, user=principal.name
    )
    return RoutedOut.model_validate(result.mail)


@router.post(
    "/route/raw",
    response_model=RoutedOut,
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string"}}}}},
)
async def route_raw(
    request: Request, db: DatabaseDep, settings: SettingsDep, principal: PrincipalDep
) -> RoutedOut:
    raw = await request.body()
    result = service.route_raw(db, settings, raw, user=principal.name)
    return RoutedOut.model_validate(result.mail)


@router.get("/mails", response_model=list[RoutedOut])
def mails(db: DatabaseDep, _: Clerk) -> list[RoutedOut]:
    return [RoutedOut.model_validate(m) for m in service.recent_mails(db)]


@router.get("/review", response_model=list[RoutedOut])
def review(db: DatabaseDep, _: Clerk) -> list[RoutedOut]:
    return [RoutedOut.model_validate(m) for m in service.review_queue(db)]


@router.post("/mails/{mail_id}/queue", response_model=RoutedOut)
def decide(
    mail_id: str, body: DecisionIn, db: DatabaseDep, settings: SettingsDep, principal: Clerk
) -> RoutedOut:
    return RoutedOut.model_validate(service.decide(db, settings, mail_id, body.queue, principal))


@router.get("/queues")
def queues(db: DatabaseDep, settings: SettingsDep, _: PrincipalDep) -> list[dict]:
    return service.queues(db, settings)


@router.get("/models", response_model=list[ModelOut])
def models(db: DatabaseDep, _: Clerk) -> list[ModelOut]:
    return [ModelOut.model_validate(m) for m in service.list_models(db)]


@router.post("/models/retrain", response_model=service.RetrainReport)
def retrain(
    db: DatabaseDep,
    settings: SettingsDep,
    _: Clerk,
    promote: Annotated[
        bool, Query(description="false: store the candidate with its comparison; a person promotes it.")
    ] = True,
) -> service.RetrainReport:
    return service.retrain(db, settings, promote=promote)


@router.post("/models/{version}/promote", response_model=ModelOut)
def promote(
    version: str,
    db: DatabaseDep,
    principal: Clerk,
    confirm_worse: Annotated[
        bool, Query(description="Promote although the comparison did not find the candidate as good.")
    ] = False,
) -> ModelOut:
    return ModelOut.model_validate(service.promote_model(db, version, principal, confirm_worse=confirm_worse))


@router.delete("/models/{version}", status_code=status.HTTP_204_NO_CONTENT)
def discard(version: str, db: DatabaseDep, settings: SettingsDep, principal: Clerk) -> None:
    service.discard_candidate(db, settings, version, principal)


@router.post("/models/{version}/restore", response_model=ModelOut)
def restore(version: str, db: DatabaseDep, principal: Clerk) -> ModelOut:
    return ModelOut.model_validate(service.restore_model(db, version, principal))


@router.get("/drift")
def drift(db: DatabaseDep, _: Clerk) -> list[dict]:
    return service.drift_report(db)
