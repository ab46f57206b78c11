"""Mail sorting use cases on the real default model: route, review, correct, retrain, restore, drift."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from kai_cli import run_kai
from services.common.audit import recent_events
from services.common.auth import Principal, Role
from services.common.config import Settings, shared_data_dir
from services.common.db import Database
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.ledger import UsageEvent
from services.mailsort import service, store

DEV = shared_data_dir() / "mail_da" / "dev.jsonl"

CLERK = Principal("it-medarbejder", Role.IT)


def _eml(subject: str, body: str, to: str = "post@kommune.dk") -> bytes:
    message = EmailMessage()
    message["From"] = "Borger <borger@example.dk>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((subject, body)))}@example.dk>"
    message.set_content(body)
    return bytes(message)


PRINTER = _eml(
    "Printeren på 2. sal virker ikke",
    "Hej IT\n\nPrinteren ved kopirummet melder papirstop, men der er intet papir i klemme. "
    "Kan I hjælpe?\n\nMvh Lars",
    "it@kommune.dk",
)
WORRY = _eml(
    "Bekymring for en dreng i 3. klasse",
    "Jeg er lærer og er bekymret for en elev, cpr 010115-1234, som kommer sulten og med blå mærker. "
    "Han siger, han ikke tør gå hjem i dag.\n\nVenlig hilsen\nKaren",
)


def test_route_writes_a_review_or_auto_row_and_a_ledger_row(db: Database, settings: Settings) -> None:
    result = service.route_raw(db, settings, PRINTER)
    decision = result.contract()
    assert set(decision) == {"queue", "confidence", "auto", "contains_cpr", "urgent", "explanation"}
    assert decision["queue"] == "it-support"
    assert 0 < decision["confidence"] <= 1
    assert any("printer" in term.lower() for term in decision["explanation"])
    assert decision["contains_cpr"] is False
    with db.session() as session:
        rows = list(session.scalars(select(UsageEvent).where(UsageEvent.reference == result.mail.id)))
    assert [(r.service, r.task) for r in rows] == [("mailsort", "route")]


def test_cpr_and_urgency_are_flagged_and_the_number_is_never_stored(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    result = service.route_raw(db, settings, WORRY)
    assert result.mail.contains_cpr and result.mail.urgent
    assert result.mail.queue == "boern-unge-raadgivning"
    stored = json.dumps([result.mail.subject, result.mail.text, result.mail.explanation], ensure_ascii=False)
    assert "010115-1234" not in stored and "[CPR]" in stored
    with db.session() as session:
        qualities = [r.quality for r in session.scalars(select(UsageEvent))]
    assert "010115" not in json.dumps(qualities)
    assert "010115" not in caplog.text


def test_decisions_and_corrections_are_recorded(db: Database, settings: Settings) -> None:
    routed = service.route_raw(db, settings, PRINTER).mail
    corrected = service.decide(db, settings, routed.id, "it-fagsystemer", CLERK)
    expected = store.MailStatus.CORRECTED if routed.auto else store.MailStatus.DECIDED
    assert corrected.status == expected and corrected.final_queue == "it-fagsystemer"
    with pytest.raises(Conflict):
        service.decide(db, settings, routed.id, "it-fagsystemer", CLERK)
    with pytest.raises(InvalidInput, match="Ukendt kø"):
        service.decide(db, settings, routed.id, "kantinen", CLERK)
    with db.session() as session:
        tasks = [r.task for r in session.scalars(select(UsageEvent).where(UsageEvent.reference == routed.id))]
    assert tasks == ["route", "correction" if routed.auto else "decision"]
    [event] = recent_events(db, actor="it-medarbejder")
    assert (event.action, event.object_type, event.object_id) == ("corrected", "mail", routed.id)


def test_unreadable_mail_is_refused_but_the_watcher_keeps_it(db: Database, settings: Settings) -> None:
    with pytest.raises(InvalidInput):
        service.route_raw(db, settings, b"")
    kept = service.keep_unreadable(db, settings, b"\x00\x01 garbage", "Kunne ikke læses", source="imap")
    assert kept.status == store.MailStatus.REVIEW
    assert [m.id for m in service.review_queue(db)] == [kept.id]


def test_retrain_needs_enough_new_mail_then_promotes_and_restores(db: Database, settings: Settings) -> None:
    first = service.active_router(db, settings)[1]
    report = service.retrain(db, settings)
    assert not report.promoted  # no corrections yet: nothing new to judge a candidate on
    assert service.active_router(db, settings)[1] == first
    versions = [m.version for m in service.list_models(db)]
    assert report.candidate in versions and first in versions
    restored = service.restore_model(db, first)
    assert restored.active and service.active_router(db, settings)[1] == first


def test_a_candidate_waits_for_a_person_who_promotes_it_with_confirmation(
    db: Database, settings: Settings
) -> None:
    first = service.active_router(db, settings)[1]
    routed = service.route_raw(db, settings, PRINTER).mail
    service.decide(db, settings, routed.id, "it-fagsystemer", CLERK)

    report = service.retrain(db, settings, promote=False)
    assert not report.promoted and not report.recommended  # one correction: too few to judge
    assert service.active_router(db, settings)[1] == first
    overview = service.model_overview(db)
    assert overview.candidate is not None and overview.candidate.version == report.candidate
    assert overview.candidate.activated_at is None and overview.candidate.corrections == 1
    assert overview.compared_with is not None and overview.compared_with.version == first
    assert overview.candidate.comparison is not None
    assert overview.candidate.comparison["current_version"] == first
    assert overview.candidate.comparison["reason"] == report.reason
    assert "For få nye mails" in (overview.candidate_warning or "")

    # a candidate is promoted, not restored; one not found as good needs a confirmation
    with pytest.raises(Conflict, match="aldrig været i brug"):
        service.restore_model(db, report.candidate, CLERK)
    with pytest.raises(Conflict, match="Bekræft"):
        service.promote_model(db, report.candidate, CLERK)
    assert service.active_router(db, settings)[1] == first
    promoted = service.promote_model(db, report.candidate, CLERK, confirm_worse=True)
    assert promoted.active and service.active_router(db, settings)[1] == report.candidate
    assert promoted.comparison is not None and promoted.comparison["promoted_by"] == CLERK.name
    assert "For få nye mails" in promoted.comparison["promoted_against_advice"]
    assert service.model_overview(db).candidate is None
    events = [(e.action, e.object_type, e.object_id) for e in recent_events(db, actor=CLERK.name)]
    assert ("approved", "mail_model", report.candidate) in events

    # models that were in use stay (to go back to); the earlier one is restored as before
    with pytest.raises(Conflict, match="gendan"):
        service.promote_model(db, first, CLERK)
    with pytest.raises(Conflict, match="gemmes"):
        service.discard_candidate(db, settings, first, CLERK)
    assert service.restore_model(db, first, CLERK).active


def test_a_discarded_candidate_leaves_no_row_and_no_file(db: Database, settings: Settings) -> None:
    first = service.active_router(db, settings)[1]
    report = service.retrain(db, settings, promote=False)
    with db.session() as session:
        file = (
            store.models_dir(settings.resolved_storage_dir) / store.get_model(session, report.candidate).file
        )
    assert file.is_file()
    service.discard_candidate(db, settings, report.candidate, CLERK)
    assert [m.version for m in service.list_models(db)] == [first]
    assert not file.exists()
    assert ("deleted", report.candidate) in {(e.action, e.object_id) for e in recent_events(db)}
    with pytest.raises(NotFound):
        service.promote_model(db, report.candidate, CLERK)


def test_a_promotion_compared_with_another_active_model_needs_confirmation(
    db: Database, settings: Settings
) -> None:
    service.active_router(db, settings)
    stale = service.retrain(db, settings, promote=False).candidate
    newer = service.retrain(db, settings, promote=False).candidate
    service.promote_model(db, newer, CLERK, confirm_worse=True)
    with pytest.raises(Conflict, match=f"den aktive model er nu {newer}"):
        service.promote_model(db, stale, CLERK)


def test_drift_report_counts_per_week(db: Database, settings: Settings) -> None:
    service.route_raw(db, settings, PRINTER)
    service.route_raw(db, settings, WORRY)
    [week] = service.drift_report(db)
    assert week["mails"] == 2
    assert 0 < week["mean_confidence"] <= 1
    assert sum(week["queues"].values()) == 2


def test_cli_route_and_eval_contracts(settings: Settings, tmp_path: Path) -> None:
    mail = tmp_path / "printer.eml"
    mail.write_bytes(PRINTER)
    routed = run_kai(settings, "mailsort", "route", str(mail), "--json")
    assert routed.returncode == 0, routed.stderr
    assert set(json.loads(routed.stdout)) == {
        "queue",
        "confidence",
        "auto",
        "contains_cpr",
        "urgent",
        "explanation",
    }

    lines = DEV.read_text(encoding="utf-8").splitlines()
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    train.write_text("\n".join(lines[:240]) + "\n", encoding="utf-8")
    test.write_text("\n".join(lines[240:]) + "\n", encoding="utf-8")
    scored = run_kai(settings, "mailsort", "eval", "--train", str(train), str(test), "--json")
    assert scored.returncode == 0, scored.stderr
    figures = json.loads(scored.stdout)
    assert set(figures) == {"n", "accuracy", "macro_f1", "auto_coverage", "auto_precision"}
    assert figures["n"] == 80
    assert figures["macro_f1"] > 0.6


def test_cli_retrain_keeps_its_verdict_and_promote_needs_confirmation(
    db: Database, settings: Settings
) -> None:
    first = service.active_router(db, settings)[1]
    retrained = run_kai(settings, "mailsort", "retrain")
    assert retrained.returncode == 0, retrained.stderr
    assert "ikke forfremmet" in retrained.stdout and service.active_router(db, settings)[1] == first
    candidate = service.model_overview(db).candidate
    assert candidate is not None

    refused = run_kai(settings, "mailsort", "promote", candidate.version)
    assert refused.returncode != 0 and "Bekræft" in refused.stderr
    promoted = run_kai(settings, "mailsort", "promote", candidate.version, "--confirm-worse")
    assert promoted.returncode == 0, promoted.stderr
    assert service.active_router(db, settings)[1] == candidate.version


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mailsort", "route", "findes-ikke.eml", "--json"], "findes ikke"),
        (["mailsort", "eval", "--train", "findes-ikke.jsonl", "x.jsonl", "--json"], "findes"),
    ],
)
def test_cli_errors_are_one_line(settings: Settings, args: list[str], message: str) -> None:
    result = run_kai(settings, *args)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
