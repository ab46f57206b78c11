"""The Postsortering page: IT sees routed mails and the review queue, routes and corrects in one click,
retrains a candidate, reads its figures and promotes or discards it; other roles get 403."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from browser import (
    LiveServer,
    assert_accessible,
    log_in,
)
from services.common.audit import recent_events
from services.common.auth import Role
from services.mailsort import service, store
from services.mailsort.store import MailStatus

# Vague mails the default model is unsure of (they wait for a person) and two of its own training mails
# (routed automatically).
VAGUE = [
    ("Printeren virker ikke", "Hej\n\nPrinteren på 2. sal melder papirstop. Kan I hjælpe?\n\nMvh Lars"),
    ("Regning", "Jeg har fået en regning, som jeg ikke forstår. Hvem skal jeg kontakte?"),
]
RETRAIN_TIMEOUT_MS = 120_000  # cross-validation on two shared cores


@pytest.fixture(scope="module")
def routed(live_server: LiveServer) -> dict[str, store.RoutedMail]:
    """One mail waiting for review and one routed automatically, routed in the live server's database."""
    known = [json.loads(line) for line in service.DEFAULT_TRAINING.read_text(encoding="utf-8").splitlines()]
    sure = [m for m in known if m["queue"] == "teknik-miljoe"][:2]
    mails = [
        service.route_fields(
            live_server.db,
            live_server.settings,
            "Borger <borger@example.dk>",
            "post@kommune.dk",
            subject,
            body,
        ).mail
        for subject, body in VAGUE
    ]
    mails += [
        service.route_fields(
            live_server.db, live_server.settings, m["from"], m["to"], m["subject"], m["body"]
        ).mail
        for m in sure
    ]
    review = next((m for m in mails if not m.auto), None)
    auto = next((m for m in mails if m.auto), None)
    assert review is not None and auto is not None, [(m.subject, m.queue, m.confidence) for m in mails]
    return {"review": review, "auto": auto}


def _row(table: Locator, mail: store.RoutedMail) -> Locator:
    return table.locator(f"tr[data-mail-id='{mail.id}']")


def test_clerk_routes_corrects_retrains_and_promotes(
    page: Page, live_server: LiveServer, routed: dict[str, store.RoutedMail]
) -> None:
    clerk = log_in(page, live_server, Role.IT, "/post")
    expect(page).to_have_title(re.compile("Postsortering"))
    expect(page.get_by_role("heading", name="Postsortering", level=1)).to_be_visible()
    review_mail, auto_mail = routed["review"], routed["auto"]

    # The routed mails: subject, the model's queue, its confidence in per cent, the words that weighed most.
    sorted_row = _row(page.locator("table#sorteret"), auto_mail)
    expect(sorted_row).to_contain_text(auto_mail.subject)
    expect(sorted_row).to_contain_text(auto_mail.queue or "")
    expect(sorted_row).to_contain_text(f"{round(auto_mail.confidence * 100)} %")
    expect(sorted_row).to_contain_text(auto_mail.explanation[0])
    expect(sorted_row.locator("[data-mail-status]")).to_have_text(f"Sorteret automatisk: {auto_mail.queue}")
    # The review queue: each of the model's suggestions is a button.
    review_row = _row(page.locator("table#vurdering"), review_mail)
    expect(review_row.locator("button.post-route")).to_have_count(len(review_mail.suggestions))
    assert_accessible(page, "post")

    # One click sends a waiting mail to the model's second suggestion.
    choice = review_mail.suggestions[1]
    label = f"Send til {choice['queue']} ({round(choice['probability'] * 100)} %)"
    review_row.get_by_role("button", name=label).click()
    status = page.get_by_role("status")
    expect(status).to_contain_text(f"er sendt til {choice['queue']}")
    expect(review_row.locator("[data-mail-status]")).to_have_text(f"Afgjort: {choice['queue']}")
    decided = service.get_mail(live_server.db, review_mail.id)
    assert (decided.status, decided.final_queue, decided.decided_by) == (
        MailStatus.DECIDED,
        choice["queue"],
        clerk,
    )

    # An automatic routing is corrected from the list of routed mails.
    other = next(q for q in ("oekonomi", "borgerservice") if q != auto_mail.queue)
    sorted_row.get_by_label("Vælg kø").select_option(other)
    sorted_row.get_by_role("button", name="Ret").click()
    expect(sorted_row.locator("[data-mail-status]")).to_have_text(f"Rettet: {other}")
    expect(status).to_contain_text(f"er sendt til {other}")
    corrected = service.get_mail(live_server.db, auto_mail.id)
    assert (corrected.status, corrected.final_queue, corrected.queue) == (
        MailStatus.CORRECTED,
        other,
        auto_mail.queue,
    )
    # Both decisions are what the next model learns from, and both are in the audit log.
    with live_server.db.session() as session:
        taught = {m.id for m in store.taught_mails(session)}
    assert {review_mail.id, auto_mail.id} <= taught
    actions = {(e.action, e.object_id) for e in recent_events(live_server.db, actor=clerk)}
    assert {("corrected", review_mail.id), ("corrected", auto_mail.id)} <= actions
    assert_accessible(page, "post-corrected")

    # Retraining gives a candidate, shown beside the active model; nothing changes until it is promoted.
    active_before = page.locator("#aktiv-version").inner_text()
    page.get_by_role("button", name="Genoptræn").click()
    candidate_heading = page.get_by_role("heading", name=re.compile("^Kandidat"))
    expect(candidate_heading).to_be_visible(timeout=RETRAIN_TIMEOUT_MS)
    expect(candidate_heading).to_be_focused()
    candidate = page.locator("#kandidat-version").inner_text()
    expect(status).to_contain_text(f"Kandidat {candidate} er trænet")
    comparison = page.locator("table#sammenligning")
    expect(comparison.get_by_role("row", name=re.compile("^Macro-F1"))).to_contain_text("%")
    expect(page.locator("table#sammenligning-koeer")).to_contain_text(other)
    expect(page.locator("#aktiv-version")).to_have_text(active_before)
    overview = service.model_overview(live_server.db)
    assert overview.active is not None and overview.active.version == active_before
    assert overview.candidate is not None and overview.candidate.version == candidate
    assert overview.candidate.corrections >= 2 and overview.candidate.comparison is not None
    assert_accessible(page, "post-candidate")

    # Two corrections are too few to judge the candidate on: promoting it needs an explicit confirmation.
    page.get_by_role("button", name="Forfrem", exact=True).click()
    expect(status).to_contain_text("Bekræft")
    assert service.model_overview(live_server.db).active.version == active_before  # type: ignore[union-attr]
    page.get_by_label("Forfrem alligevel").check()
    page.get_by_role("button", name="Forfrem", exact=True).click()
    expect(status).to_contain_text(f"Model {candidate} er nu aktiv")
    expect(page.locator("#aktiv-version")).to_have_text(candidate)
    expect(page.get_by_role("heading", name=re.compile("^Kandidat"))).to_have_count(0)
    history = page.locator("table#modelhistorik")
    expect(history.get_by_role("row", name=re.compile(f"^{active_before}"))).to_contain_text("Tidligere")
    promoted = service.model_overview(live_server.db).active
    assert promoted is not None and promoted.version == candidate
    assert promoted.comparison is not None and promoted.comparison["promoted_by"] == clerk
    assert promoted.comparison["promoted_against_advice"]
    assert ("approved", candidate) in {
        (e.action, e.object_id) for e in recent_events(live_server.db, actor=clerk)
    }
    assert_accessible(page, "post-promoted")


def test_clerk_discards_a_candidate(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.ADMIN, "/post")
    active = page.locator("#aktiv-version").inner_text()
    page.get_by_role("button", name="Genoptræn").click()
    expect(page.get_by_role("heading", name=re.compile("^Kandidat"))).to_be_visible(
        timeout=RETRAIN_TIMEOUT_MS
    )
    candidate = page.locator("#kandidat-version").inner_text()
    with live_server.db.session() as session:
        model_file = (
            store.models_dir(live_server.settings.resolved_storage_dir)
            / store.get_model(session, candidate).file
        )
    assert model_file.is_file()

    page.get_by_role("button", name="Kassér").click()
    expect(page.get_by_role("status")).to_contain_text(f"Kandidat {candidate} er kasseret")
    expect(page.get_by_role("heading", name=re.compile("^Kandidat"))).to_have_count(0)
    expect(page.locator("#aktiv-version")).to_have_text(active)
    assert candidate not in {m.version for m in service.list_models(live_server.db)}
    assert not model_file.exists()
    assert_accessible(page, "post-discarded")


def test_staff_are_forbidden(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.MEDARBEJDER)
    expect(page.get_by_role("link", name="Postsortering")).to_have_count(0)
    response = page.goto("/post")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Adgang nægtet")).to_be_visible()
    assert page.request.get("/post/modeller").status == 403
    assert_accessible(page, "post-forbidden")
