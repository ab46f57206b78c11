"""Mail sorting use cases: route a mail, let a person decide or correct, retrain and promote, evaluate.
The same functions serve the API, the CLI and the IMAP watcher."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from evaluation.metrics import classification_scores
from services.common import ledger
from services.common.audit import Action, audit
from services.common.auth import Principal
from services.common.config import Settings
from services.common.db import Database, utcnow
from services.common.errors import Conflict, InvalidInput
from services.common.privacy import contains_cpr, mask_cpr
from services.mailsort import store
from services.mailsort.imap import ImapMessageInfo
from services.mailsort.model import TrainedRouter, train_and_compare, train_router
from services.mailsort.parse import MailParseError, parse_fields, parse_message
from services.mailsort.readers import read_labelled
from services.mailsort.types import LabelledMail, ParsedMail
from services.mailsort.urgency import is_urgent

log = logging.getLogger(__name__)

DEFAULT_TRAINING = Path(__file__).parent / "data" / "mail_da_dev.jsonl"
# `kai mailsort eval --json` prints exactly these (plus n): a contract checked from outside.
EVAL_KEYS = ("accuracy", "macro_f1", "auto_coverage", "auto_precision")


# --- models ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load_router(path: str) -> TrainedRouter:
    """A model file is loaded once per process; a new version is a new file."""
    return TrainedRouter.load(Path(path))


def _store_model(
    db: Database,
    settings: Settings,
    router: TrainedRouter,
    corrections: int,
    note: str,
    *,
    active: bool,
    comparison: dict[str, Any] | None = None,
) -> store.MailModel:
    folder = store.models_dir(settings.resolved_storage_dir)
    folder.mkdir(parents=True, exist_ok=True)
    file = f"router-{router.version}.joblib"
    router.save(folder / file)
    with db.session() as session:
        row = store.MailModel(
            version=router.version,
            file=file,
            trained_on=router.trained_on,
            corrections=corrections,
            metrics=router.metrics,
            note=note,
            active=False,
            comparison=comparison,
        )
        session.add(row)
        if active:
            _activate(session, row)
    return row


def _activate(session: Any, row: store.MailModel) -> None:
    for other in store.list_models(session):
        other.active = False
    session.flush()
    row.active, row.activated_at = True, utcnow()


def active_router(db: Database, settings: Settings) -> tuple[TrainedRouter, str]:
    """The model that routes now; the first call on a new installation trains the shipped default."""
    with db.session() as session:
        row = store.active_model(session)
    if row is None:
        row = train_default_model(db, settings)
    return _load_router(str(store.models_dir(settings.resolved_storage_dir) / row.file)), row.version


def train_default_model(db: Database, settings: Settings) -> store.MailModel:
    router = train_router(
        list(read_labelled(DEFAULT_TRAINING)), target_precision=settings.mail_target_precision
    )
    return _store_model(
        db, settings, router, 0, "Standardmodel trænet på kai's danske eksempelmails", active=True
    )


def train_from_file(db: Database, settings: Settings, path: Path) -> store.MailModel:
    """`kai mailsort train DATA`: a new model from a file in any supported format, made active."""
    router = train_router(_labelled(path), target_precision=settings.mail_target_precision)
    return _store_model(db, settings, router, 0, f"Trænet på {path.name}", active=True)


def _labelled(path: Path) -> list[LabelledMail]:
    mails = [m for m in read_labelled(path) if m.queue]
    if not mails:
        raise InvalidInput(f"{path.name} indeholder ingen mails med en kø.")
    return mails


def list_models(db: Database) -> list[store.MailModel]:
    with db.session() as session:
        return store.list_models(session)


@dataclass
class ModelOverview:
    models: list[store.MailModel]  # newest first
    active: store.MailModel | None
    candidate: store.MailModel | None  # the newest model never active: awaiting a person's decision
    compared_with: store.MailModel | None  # the model the candidate was compared with
    candidate_warning: str | None  # why promoting the candidate needs a confirmation; None: it does not


def model_overview(db: Database) -> ModelOverview:
    with db.session() as session:
        models = store.list_models(session)
        candidate = store.newest_candidate(session)
    active = next((m for m in models if m.active), None)
    if candidate is None:
        return ModelOverview(models, active, None, None, None)
    compared_version = (candidate.comparison or {}).get("current_version")
    compared = next((m for m in models if m.version == compared_version), None)
    warning = _promotion_warning(candidate, active.version if active else None)
    return ModelOverview(models, active, candidate, compared, warning)


def restore_model(db: Database, version: str, actor: Principal | None = None) -> store.MailModel:
    """Make an earlier version the active one again. A candidate that was never in use is promoted
    instead (``promote_model``), where its comparison is read first."""
    with db.session() as session:
        row = store.get_model(session, version)
        if row.activated_at is None:
            raise Conflict(
                f"Model {version} har aldrig været i brug. Forfrem den som kandidat i stedet, så "
                "sammenligningen med den aktive model bliver vurderet."
            )
        _activate(session, row)
        audit(session, actor, Action.APPROVED, object_type="mail_model", object_id=version)
    return row


def promote_model(
    db: Database, version: str, actor: Principal | None, *, confirm_worse: bool = False
) -> store.MailModel:
    """Put a candidate in use. One that its comparison did not find at least as good as the active model
    (or that was compared with another model than the one active now) needs ``confirm_worse``; the audit log
    records who promoted it, and the model keeps whether it was promoted against the comparison's advice."""
    with db.session() as session:
        row = store.get_model(session, version)
        if row.activated_at is not None:
            state = "er den aktive model" if row.active else "har været i brug før; gendan den i stedet"
            raise Conflict(f"Model {version} {state}.")
        active = store.active_model(session)
        warning = _promotion_warning(row, active.version if active else None)
        if warning and not confirm_worse:
            raise Conflict(f"{warning} Bekræft, hvis kandidaten skal tages i brug alligevel.")
        row.comparison = {
            **(row.comparison or {}),
            "promoted_by": actor.name if actor else None,
            "promoted_against_advice": warning,
        }
        _activate(session, row)
        audit(session, actor, Action.APPROVED, object_type="mail_model", object_id=version)
    if warning:
        log.warning("Mail model %s promoted against the comparison's advice", version)
    return row


def _promotion_warning(candidate: store.MailModel, active_version: str | None) -> str | None:
    """Why promoting ``candidate`` needs a person's confirmation, or None when its comparison supports it."""
    comparison = candidate.comparison or {}
    if not comparison:
        return "Kandidaten er ikke sammenlignet med den aktive model."
    compared_with = comparison.get("current_version")
    if active_version is not None and compared_with != active_version:
        return (
            f"Kandidaten er sammenlignet med model {compared_with}, "
            f"men den aktive model er nu {active_version}."
        )
    if not comparison.get("recommended"):
        return f"Kandidaten er ikke vurderet mindst lige så god: {comparison.get('reason', '')}"
    return None


def discard_candidate(db: Database, settings: Settings, version: str, actor: Principal | None) -> None:
    """Throw away a candidate that was never in use: its row and its file. Models that routed mail stay."""
    with db.session() as session:
        row = store.get_model(session, version)
        if row.activated_at is not None:
            raise Conflict(f"Model {version} har været i brug og gemmes, så den kan gendannes.")
        file = row.file
        session.delete(row)
        audit(session, actor, Action.DELETED, object_type="mail_model", object_id=version)
    # after the commit: a failed commit leaves the file, never a row without its file
    (store.models_dir(settings.resolved_storage_dir) / file).unlink(missing_ok=True)


# --- routing ---------------------------------------------------------------------------------------------


@dataclass
class RouteResult:
    mail: store.RoutedMail

    def contract(self) -> dict[str, Any]:
        """The CLI's JSON: queue, confidence, auto, contains_cpr, urgent, explanation."""
        return {
            "queue": self.mail.queue,
            "confidence": round(self.mail.confidence, 4),
            "auto": self.mail.auto,
            "contains_cpr": self.mail.contains_cpr,
            "urgent": self.mail.urgent,
            "explanation": list(self.mail.explanation),
        }


def _masked(mail: ParsedMail) -> ParsedMail:
    """``mail`` with every CPR number masked in every field: what the model reads and what is stored."""
    return replace(
        mail,
        message_id=mask_cpr(mail.message_id),
        sender=mask_cpr(mail.sender),
        to=mask_cpr(mail.to),
        subject=mask_cpr(mail.subject),
        new_text=mask_cpr(mail.new_text),
        quoted_text=mask_cpr(mail.quoted_text),
        signature=mask_cpr(mail.signature),
        attachments=[replace(a, filename=mask_cpr(a.filename)) for a in mail.attachments],
        problems=[mask_cpr(problem) for problem in mail.problems],
    )


def _stored_fields(mail: ParsedMail) -> dict[str, str]:
    """The (masked) fields kept for retraining: what the model reads."""
    return {
        "subject": mail.subject,
        "new_text": mail.new_text,
        "quoted_text": mail.quoted_text,
        "to": mail.to,
        "sender": mail.sender,
    }


def _routed_before(db: Database, key: str) -> store.RoutedMail | None:
    with db.session() as session:
        return store.routed_before(session, key)


def _save_routed(
    db: Database,
    row: store.RoutedMail,
    *,
    quality: ledger.RoutingQuality,
    processing_seconds: float = 0.0,
    user: str | None = None,
) -> store.RoutedMail:
    """Store a routed mail with its ledger row: the one place a routing is recorded. When a concurrent retry
    stored the same mail first (the unique ``dedup_key``), nothing is written and that mail is returned."""
    try:
        with db.session() as session:
            session.add(row)
            session.flush()
            ledger.record_routing(
                session,
                auto=row.auto,
                processing_seconds=processing_seconds,
                user=user,
                reference=row.id,
                quality=quality,
            )
    except IntegrityError:
        stored = _routed_before(db, row.dedup_key) if row.dedup_key else None
        if stored is None:
            raise
        return stored
    return row


def route_mail(
    db: Database,
    settings: Settings,
    mail: ParsedMail,
    *,
    key: str,
    source: str = "api",
    user: str | None = None,
) -> RouteResult:
    """Route one parsed mail: automatically when the model is sure enough for its queue and the mail could be
    read whole, else to review. A mail routed before (the same ``key``, from ``store.dedup_key``) is not
    routed again: its stored routing is returned."""
    stored = _routed_before(db, key)
    if stored is not None:
        log.info("Mail %s routed before: the stored routing is returned", stored.id)
        return RouteResult(stored)
    started = time.perf_counter()
    masked = _masked(mail)
    flagged_cpr = masked != mail  # a CPR number in any field
    router, version = active_router(db, settings)
    decision = router.route(masked)
    auto = decision.auto and mail.intact  # a mail whose structure could not be read goes to a person
    urgent = is_urgent(masked).urgent
    row = store.RoutedMail(
        source=source,
        message_id=masked.message_id[:300],
        dedup_key=key,
        sender=masked.sender[:300],
        mailbox=masked.to[:300],
        subject=masked.subject[:500],
        text=_stored_fields(masked),
        model_version=version,
        queue=decision.queue,
        confidence=decision.confidence,
        auto=auto,
        suggestions=[{"queue": q, "probability": round(p, 4)} for q, p in decision.top3],
        explanation=list(decision.explanation),
        contains_cpr=flagged_cpr,
        urgent=urgent,
        problems=masked.problems,
        status=store.MailStatus.AUTO if auto else store.MailStatus.REVIEW,
        final_queue=decision.queue if auto else None,
    )
    row = _save_routed(
        db,
        row,
        quality=ledger.RoutingQuality(
            queue=decision.queue,
            confidence=round(decision.confidence, 4),
            model=version,
            contains_cpr=flagged_cpr,
            urgent=urgent,
        ),
        processing_seconds=time.perf_counter() - started,
        user=user,
    )
    log.info("Mail %s routed: %s (auto=%s)", row.id, row.queue, row.auto)
    return RouteResult(row)


def route_raw(
    db: Database, settings: Settings, raw: bytes, *, source: str = "api", user: str | None = None
) -> RouteResult:
    """Route an RFC 822 mail. An unreadable mail raises ``InvalidInput`` (the watcher keeps it for review)."""
    if len(raw) > settings.mail_max_bytes:
        raise InvalidInput(f"Mailen er større end grænsen på {settings.mail_max_bytes // (1024 * 1024)} MB.")
    try:
        mail = parse_message(raw)
    except MailParseError as exc:
        raise InvalidInput(str(exc)) from exc
    key = _raw_key(settings, mail.message_id, raw)
    return route_mail(db, settings, mail, key=key, source=source, user=user)


def _raw_key(settings: Settings, message_id: str, raw: bytes) -> str:
    """The dedup key of a raw mail: its Message-ID, else its bytes with line endings made alike."""
    return store.dedup_key(settings.resolved_storage_dir, message_id, raw.replace(b"\r\n", b"\n"))


def keep_unreadable(
    db: Database, settings: Settings, raw: bytes, reason: str, *, source: str
) -> store.RoutedMail:
    """A mail that cannot be parsed still lands in the review queue, so no mail is lost (and, kept again on a
    retry, it is not kept twice)."""
    key = _raw_key(settings, "", raw)
    stored = _routed_before(db, key)
    if stored is not None:
        return stored
    row = store.RoutedMail(
        source=source,
        dedup_key=key,
        subject="(kunne ikke læses)",
        problems=[mask_cpr(reason)],
        status=store.MailStatus.REVIEW,
        contains_cpr=contains_cpr(raw.decode("latin-1", errors="replace")),
    )
    return _save_routed(db, row, quality=ledger.RoutingQuality(unreadable=True))


def imap_route_step(db: Database, settings: Settings) -> Callable[[bytes, ImapMessageInfo], str]:
    """The watcher's routing step: route a fetched mail, or keep an unreadable one for review, so no mail is
    lost; routing is idempotent, so a mail handed over again (a retry after a crash) is not routed twice."""

    def route(raw: bytes, _info: ImapMessageInfo) -> str:
        try:
            result = route_raw(db, settings, raw, source="imap")
        except InvalidInput as exc:
            keep_unreadable(db, settings, raw, exc.message, source="imap")
            return "manual"
        return "routed" if result.mail.auto else "manual"

    return route


def route_fields(
    db: Database,
    settings: Settings,
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    user: str | None = None,
) -> RouteResult:
    if not (subject.strip() or body.strip()):
        raise InvalidInput("Mailen har hverken emne eller tekst.")
    mail = parse_fields(sender, to, subject, body)
    # The same fields, whatever the line endings and the spaces around them, are the same mail.
    lines = "\n".join(line.rstrip() for line in body.splitlines()).strip()
    content = json.dumps([mail.sender, mail.to, mail.subject, lines], ensure_ascii=False).encode()
    key = store.dedup_key(settings.resolved_storage_dir, "", content)
    return route_mail(db, settings, mail, key=key, user=user)


# --- people decide --------------------------------------------------------------------------------------


def decide(
    db: Database, settings: Settings, mail_id: str, queue: str, actor: Principal | None
) -> store.RoutedMail:
    """A person sets the queue: a decision for a mail in review, a correction for an automatic one."""
    user = actor.name if actor else None
    router, _ = active_router(db, settings)
    if queue not in router.queues:
        raise InvalidInput(f"Ukendt kø '{queue}'. Kendte køer: {', '.join(sorted(router.queues))}.")
    with db.session() as session:
        mail = store.get_mail(session, mail_id)
        if mail.final_queue == queue and mail.status != store.MailStatus.REVIEW:
            raise Conflict(f"Mailen ligger allerede i køen '{queue}'.")
        was_auto = mail.status in (store.MailStatus.AUTO, store.MailStatus.CORRECTED)
        mail.final_queue, mail.decided_by, mail.decided_at = queue, user, utcnow()
        mail.status = store.MailStatus.CORRECTED if was_auto else store.MailStatus.DECIDED
        record = ledger.record_correction if was_auto else ledger.record_decision
        choice = ledger.QueueChoiceQuality(queue, mail.queue, round(mail.confidence, 4))
        record(session, user=user, reference=mail.id, quality=choice)
        audit(session, actor, Action.CORRECTED, object_type="mail", object_id=mail.id)
    return mail


def review_queue(db: Database, limit: int = 200) -> list[store.RoutedMail]:
    with db.session() as session:
        return store.mails_with_status(session, store.MailStatus.REVIEW, limit)


def recent_mails(db: Database, limit: int = 200) -> list[store.RoutedMail]:
    from sqlalchemy import select

    with db.session() as session:
        query = select(store.RoutedMail).order_by(store.RoutedMail.received_at.desc()).limit(limit)
        return list(session.scalars(query))


def get_mail(db: Database, mail_id: str) -> store.RoutedMail:
    with db.session() as session:
        return store.get_mail(session, mail_id)


def queues(db: Database, settings: Settings) -> list[dict[str, Any]]:
    """The active model's queues with their automatic-routing thresholds and cross-validated precision."""
    router, version = active_router(db, settings)
    per_queue = router.metrics.get("per_queue", {})
    return [
        {"queue": q, "threshold": router.thresholds.get(q), **per_queue.get(q, {}), "model": version}
        for q in router.queues
    ]


# --- retraining ------------------------------------------------------------------------------------------


@dataclass
class RetrainReport:
    """``candidate_metrics`` and ``current_metrics``: both models on the same held-out mails (with
    ``per_queue``); ``recommended``: the comparison found the candidate not worse."""

    candidate: str
    current: str
    promoted: bool
    reason: str
    corrections: int
    candidate_metrics: dict[str, Any]
    current_metrics: dict[str, Any]
    recommended: bool
    holdout: int
    left_out_seen: int


def _taught(db: Database) -> list[LabelledMail]:
    with db.session() as session:
        rows = store.taught_mails(session)
    return [
        LabelledMail(
            parse_fields(
                r.text.get("sender", ""),
                r.text.get("to", ""),
                r.text.get("subject", ""),
                r.text.get("new_text", ""),
            ),
            r.final_queue,
            r.id,
        )
        for r in rows
        if r.final_queue
    ]


def retrain(
    db: Database, settings: Settings, training: Path | None = None, *, promote: bool = True
) -> RetrainReport:
    """Train a candidate on the base data plus every person's decision and correction and compare it with the
    active model on a held-out split. With ``promote`` it is put in use only if it is not worse; without, it
    is stored with its comparison for a person to promote (``promote_model``) or discard."""
    current, current_version = active_router(db, settings)
    corrections = _taught(db)
    base = _labelled(training or DEFAULT_TRAINING)
    candidate_data = base + corrections
    comparison = train_and_compare(candidate_data, current, target_precision=settings.mail_target_precision)
    note = f"Gentrænet med {len(corrections)} rettelser"
    record = {
        "current_version": current_version,
        "recommended": comparison.promote,
        "reason": comparison.reason,
        "holdout": comparison.holdout,
        "left_out_seen": comparison.left_out_seen,
        "candidate": comparison.candidate_metrics,
        "current": comparison.current_metrics,
    }
    promoted = promote and comparison.promote
    row = _store_model(
        db, settings, comparison.candidate, len(corrections), note, active=promoted, comparison=record
    )
    return RetrainReport(
        candidate=row.version,
        current=current_version,
        promoted=promoted,
        reason=comparison.reason,
        corrections=len(corrections),
        candidate_metrics=comparison.candidate_metrics,
        current_metrics=comparison.current_metrics,
        recommended=comparison.promote,
        holdout=comparison.holdout,
        left_out_seen=comparison.left_out_seen,
    )


# --- evaluation and drift ------------------------------------------------------------------------------


def evaluate(settings: Settings, train_path: Path, test_path: Path) -> dict[str, Any]:
    """`kai mailsort eval --train TRAIN TEST`: train on TRAIN, score on TEST (nothing is stored)."""
    router = train_router(_labelled(train_path), target_precision=settings.mail_target_precision)
    test = _labelled(test_path)
    decisions = router.route_many([m.mail for m in test])
    scores = classification_scores([m.queue for m in test], decisions)
    return {"n": len(test), **{key: scores[key] for key in EVAL_KEYS}}


def drift_report(db: Database) -> list[dict[str, Any]]:
    """Per ISO week: mails, mean confidence, share routed automatically, corrections, and the queue mix."""
    weeks: dict[str, list[store.RoutedMail]] = defaultdict(list)
    for mail in recent_mails(db, limit=100_000):
        received = mail.received_at if mail.received_at.tzinfo else mail.received_at.replace(tzinfo=UTC)
        year, week, _ = received.isocalendar()
        weeks[f"{year}-W{week:02d}"].append(mail)
    report = []
    for week in sorted(weeks):
        mails = weeks[week]
        report.append(
            {
                "week": week,
                "mails": len(mails),
                "mean_confidence": round(sum(m.confidence for m in mails) / len(mails), 4),
                "auto_share": round(sum(m.auto for m in mails) / len(mails), 4),
                "corrected": sum(m.status == store.MailStatus.CORRECTED for m in mails),
                "queues": dict(Counter(m.final_queue or m.queue or "?" for m in mails).most_common()),
            }
        )
    return report
