"""Spørg vejledningen: answers with citations and highlighted passages from the real shipped collections,
feedback into the database, abstention, role limits and the editors' content gaps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from browser import (
    LiveServer,
    assert_accessible,
    log_in,
)
from services.chatbot import service, store
from services.common.auth import Role
from services.common.ledger import UsageEvent

LAW_QUESTION = "Hvor lang tid har vi til at afslutte en børnefaglig undersøgelse?"
GUIDE_QUESTION = (
    "Hvordan får jeg borgerpc'erne til at slukke af sig selv kl 17 og være slukket hele weekenden?"
)
OUT_OF_SCOPE = "Hvornår bliver der tømt storskrald i Taastrup i december?"
ELI_PREFIX = "https://www.retsinformation.dk/eli/"
# The first question loads the embedder in the live server; the machine's two cores are shared.
ANSWER_TIMEOUT_MS = 90_000
# Records every aria-busy value the conversation log takes, in window.busyStates.
RECORD_BUSY_STATES = """() => {
    const log = document.getElementById("samtale");
    window.busyStates = [];
    new MutationObserver(() => window.busyStates.push(log.getAttribute("aria-busy")))
        .observe(log, {attributeFilter: ["aria-busy"]});
}"""


@pytest.fixture(scope="module", autouse=True)
def shipped_collections(live_server: LiveServer) -> None:
    """barnets-lov and it-help built in the live server's data dir (embeddings from the shared cache)."""
    service.ensure_shipped_collections(live_server.db, live_server.settings)


def ask(page: Page, question: str, collection_label: str | None = None) -> dict[str, Any]:
    """Ask through the form (Enter sends) and wait for the answer; the JSON the page received."""
    if collection_label is not None:
        page.get_by_label("Søg i").select_option(label=collection_label)
    page.get_by_label("Dit spørgsmål").fill(question)
    with page.expect_response("**/api/chat/ask", timeout=ANSWER_TIMEOUT_MS) as response_info:
        page.get_by_label("Dit spørgsmål").press("Enter")
    response = response_info.value
    assert response.status == 200, response.text()
    expect(page.locator("#samtale")).to_have_attribute("aria-busy", "false")
    return response.json()


def csrf_token(page: Page) -> str:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return token


def test_caseworker_gets_a_cited_law_answer_and_gives_feedback(page: Page, live_server: LiveServer) -> None:
    name = log_in(page, live_server, Role.SAGSBEHANDLER, "/vejledning")
    expect(page.get_by_role("heading", name="Spørg vejledningen", level=1)).to_be_visible()
    options = page.get_by_label("Søg i").locator("option")
    expect(options).to_have_text(
        ["Alle samlinger, du har adgang til", re.compile("Barnets lov"), re.compile("IT-vejledninger")]
    )
    expect(page.get_by_role("log", name="Samtale")).to_be_attached()
    expect(page.get_by_text("Ingen spørgsmål endnu.")).to_be_visible()
    assert_accessible(page, "vejledning-tom")

    # Shift+Enter is a new line, not a question.
    box = page.get_by_label("Dit spørgsmål")
    box.fill("første linje")
    box.press("Shift+Enter")
    box.press_sequentially("anden linje")
    expect(box).to_have_value("første linje\nanden linje")
    expect(page.locator("article.turn")).to_have_count(0)

    # The log is marked busy while the answer is on its way.
    page.evaluate(RECORD_BUSY_STATES)
    reply = ask(page, LAW_QUESTION, "Barnets lov og tilstødende lovgivning")
    assert page.evaluate("window.busyStates") == ["true", "false"]
    assert not reply["abstained"]

    turn = page.locator("article.turn").last
    expect(turn.get_by_role("heading", name="Spørgsmål 1")).to_be_visible()
    expect(turn.locator("p.question")).to_have_text(LAW_QUESTION)
    expect(turn.get_by_role("heading", name="Svar", exact=True)).to_be_visible()
    expect(turn.locator(".answer > p").first).to_contain_text("4 måneder")
    marker = turn.locator("a.cite-mark").first
    expect(marker).to_have_attribute("href", re.compile(r"^#kilde-1-1$"))

    citation = turn.locator("ol.citations li").first.get_by_role("link")
    expect(citation).to_contain_text("§ 20")
    expect(citation).to_have_attribute("href", re.compile("^" + re.escape(ELI_PREFIX)))
    expect(citation).to_have_attribute("target", "_blank")
    expect(citation).to_have_attribute("rel", "noopener")
    expect(citation.locator(".visually-hidden")).to_have_text(" (åbner i nyt vindue)")

    highlight = turn.locator("figure.passage blockquote mark").first
    expect(highlight).to_contain_text("børnefaglige undersøgelse skal afsluttes")
    assert_accessible(page, "vejledning-svar")

    thumbs_up = turn.get_by_role("button", name="Ja", exact=True)
    expect(thumbs_up).to_have_attribute("aria-pressed", "false")
    thumbs_up.click()
    expect(thumbs_up).to_have_attribute("aria-pressed", "true")
    expect(turn.get_by_role("button", name="Nej", exact=True)).to_have_attribute("aria-pressed", "false")
    turn.get_by_label("Hvor mange minutter ville det have taget dig uden kai?").fill("15")
    turn.get_by_role("button", name="Send vurdering").click()
    expect(turn.get_by_role("status")).to_have_text("Tak for din vurdering.")

    with live_server.db.session() as session:
        answer = session.get(store.ChatAnswer, reply["answer_id"])
        assert answer is not None and answer.user == name and answer.helpful is True
        feedback = session.scalars(
            select(UsageEvent).where(
                UsageEvent.reference == reply["answer_id"], UsageEvent.task == "feedback"
            )
        ).one()
        assert feedback.outcome == "helpful" and feedback.quality["manual_minutes"] == 15


def test_guide_citation_opens_kais_copy_of_the_guide(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.SAGSBEHANDLER, "/vejledning")
    first = ask(page, GUIDE_QUESTION, "IT-vejledninger (OS2borgerPC)")
    assert not first["abstained"]
    citation = page.locator("article.turn").first.locator("ol.citations li").first.get_by_role("link")
    expect(citation).to_have_attribute("href", re.compile(r"^/api/chat/sources/it-help/.+taend_sluk"))
    with page.expect_popup() as popup_info:
        citation.click()
    guide = popup_info.value
    guide.wait_for_load_state()
    expect(guide.locator("body")).to_contain_text("tidsplan")
    source = page.request.get(citation.get_attribute("href") or "")
    assert source.status == 200 and "tidsplan" in source.text().lower()

    # A follow-up continues the conversation; "Ny samtale" starts over.
    second = ask(page, "Kan jeg knytte en enkelt computer til en tidsplan?")
    assert second["conversation_id"] == first["conversation_id"]
    expect(page.get_by_role("heading", name="Spørgsmål 2")).to_be_visible()
    page.get_by_role("button", name="Ny samtale").click()
    expect(page.locator("article.turn")).to_have_count(0)
    expect(page.get_by_label("Dit spørgsmål")).to_be_focused()
    third = ask(page, GUIDE_QUESTION)
    assert third["conversation_id"] != first["conversation_id"]


def test_out_of_scope_question_is_declined(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.SAGSBEHANDLER, "/vejledning")
    reply = ask(page, OUT_OF_SCOPE)
    assert reply["abstained"]
    answer = page.locator("article.turn .answer.abstained")
    expect(answer.get_by_role("heading", name="Ikke dækket af vejledningen")).to_be_visible()
    expect(answer).to_contain_text("Det kan jeg ikke finde i vejledningen")
    expect(answer.locator("ol.citations")).to_have_count(0)
    expect(answer.locator("mark")).to_have_count(0)
    assert_accessible(page, "vejledning-ikke-daekket")


def test_staff_cannot_search_the_law(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.MEDARBEJDER, "/vejledning")
    options = page.get_by_label("Søg i").locator("option")
    expect(options).to_have_text(["Alle samlinger, du har adgang til", re.compile("IT-vejledninger")])
    expect(page.get_by_role("link", name="Se huller i vejledningen")).to_have_count(0)
    forced = page.request.post(
        "/api/chat/ask",
        data={"question": LAW_QUESTION, "collection": "barnets-lov"},
        headers={"X-CSRF-Token": csrf_token(page)},
    )
    assert forced.status == 403
    assert "barnets-lov" in forced.json()["detail"]
    response = page.goto("/vejledning/huller")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Adgang nægtet")).to_be_visible()


def test_editor_sees_the_content_gaps(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.ADMIN, "/vejledning")
    gap_question = "Hvilken sats gælder for sygedagpenge til en selvstændig i 2025?"
    asked = page.request.post(
        "/api/chat/ask", data={"question": gap_question}, headers={"X-CSRF-Token": csrf_token(page)}
    )
    assert asked.status == 200 and asked.json()["abstained"]
    page.get_by_role("link", name="Se huller i vejledningen").click()
    page.wait_for_url(f"{live_server.url}/vejledning/huller")
    expect(page.get_by_role("heading", name="Huller i vejledningen", level=1)).to_be_visible()
    row = page.locator("table.gaps tbody tr").filter(has_text=gap_question)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(row.locator("time")).to_have_text(re.compile(r"^\d\d\.\d\d\.\d{4} kl\. \d\d\.\d\d$"))
    expect(row).to_contain_text("ikke fundet")
    expect(row).to_contain_text("it-help")
    assert_accessible(page, "vejledning-huller")


def test_editor_attaches_a_gap_question_to_its_source_and_undoes_it(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, Role.ADMIN, "/vejledning")
    question = "Må vi give en 14-årig lov til at bo hos sin kæreste i stedet for på opholdsstedet?"
    asked = page.request.post(
        "/api/chat/ask", data={"question": question}, headers={"X-CSRF-Token": csrf_token(page)}
    )
    assert asked.status == 200
    # Marked unhelpful (thumbs down), it is a content gap whether or not the guidance answered it.
    unhelpful = page.request.post(
        "/api/chat/feedback",
        data={"answer_id": asked.json()["answer_id"], "helpful": False},
        headers={"X-CSRF-Token": csrf_token(page)},
    )
    assert unhelpful.status == 204
    page.goto("/vejledning/huller")
    row = page.locator("table.gaps tbody tr").filter(has_text=question)
    expect(row).to_have_count(1)
    source = row.get_by_label("Kilde, der besvarer spørgsmålet")
    source.fill("ingen kilde med det navn")
    row.get_by_role("button", name="Tilføj til kilde").click()
    expect(row.get_by_role("status")).to_contain_text("Vælg en kilde fra listen")
    expect(source).to_have_attribute("aria-invalid", "true")

    source.fill("Barnets lov § 47")
    row.get_by_role("button", name="Tilføj til kilde").click()
    expect(row.get_by_role("status")).to_have_text(
        "Tilføjet: spørgsmålet hjælper nu med at finde Barnets lov § 47."
    )
    expect(row.locator("ul.attached li")).to_have_text(
        ["Barnets lov § 47 Fortryd tilføjelsen til Barnets lov § 47"]
    )
    index = service.load_index(live_server.settings, "barnets-lov")
    assert index is not None
    assert [(e.unit, e.text) for e in index.questions.expansions if e.origin == "editor"] == [
        (("retsinformation_2025_282.json", "47"), question)
    ]
    assert_accessible(page, "vejledning-huller-tilfoejet")

    # After a reload the page shows it too; "Fortryd" takes it off the source again.
    page.reload()
    row = page.locator("table.gaps tbody tr").filter(has_text=question)
    row.get_by_role("button", name="Fortryd tilføjelsen til Barnets lov § 47").click()
    expect(row.get_by_role("status")).to_have_text(
        "Fortrudt: spørgsmålet er ikke længere knyttet til kilden."
    )
    expect(row.locator("ul.attached li")).to_have_count(0)
    index = service.load_index(live_server.settings, "barnets-lov")
    assert index is not None and not [e for e in index.questions.expansions if e.origin == "editor"]


def test_anonymous_is_sent_to_login(page: Page, live_server: LiveServer) -> None:
    page.goto("/vejledning/huller")
    page.wait_for_url(f"{live_server.url}/login?next=/vejledning/huller")
