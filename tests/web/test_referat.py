"""The Referat page end to end with the real models: upload, live progress, review, approve, download."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from stored_meetings import store_meeting

from browser import (
    LiveServer,
    assert_accessible,
    log_in,
    new_user,
)
from services.common.auth import Role
from services.common.config import shared_data_dir
from services.common.ledger import Task, UsageEvent

pytestmark = pytest.mark.slow

JFK = shared_data_dir() / "audio_en" / "jfk.flac"
NEW_NAME = "John F. Kennedy"
# Processing waits for the model to load and shares two cores with the rest of the test run.
PROCESSING_TIMEOUT_MS = 240_000
# Reports every value the progress bar shows, with its status line, to the test (across page loads).
RECORD_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.getElementById("job-progress");
  const status = document.getElementById("job-status");
  if (!bar) return;
  new MutationObserver(() => window.kaiProgress(bar.value, status.textContent))
    .observe(bar, { attributes: true });
});
"""


def _fill_upload_form(page: Page, title: str) -> None:
    assert JFK.is_file(), f"{JFK} is missing (the shared test data)"
    page.get_by_label("Optagelse").set_input_files(JFK)
    page.get_by_label("Titel").fill(title)
    page.get_by_label("Deltagere").fill("John F. Kennedy, Referent")
    page.get_by_label("Dagsorden").fill("Tiltrædelsestalen\nEventuelt")
    page.get_by_label("Sprog").select_option("en")


def _review_row(live_server: LiveServer, meeting_id: str) -> UsageEvent:
    with live_server.db.session() as session:
        return session.scalars(
            select(UsageEvent).where(UsageEvent.task == "review", UsageEvent.reference == meeting_id)
        ).one()


def test_upload_review_approve_and_download(page: Page, live_server: LiveServer) -> None:
    progress_seen: list[tuple[float, str]] = []
    page.expose_function("kaiProgress", lambda value, status: progress_seen.append((value, status)))
    page.add_init_script(RECORD_PROGRESS)
    log_in(page, live_server, Role.MEDARBEJDER, "/referat")
    expect(page.get_by_role("heading", name="Referat", level=1)).to_be_visible()
    assert_accessible(page, "referat-upload")

    _fill_upload_form(page, "Tiltrædelsestale")
    page.get_by_role("button", name="Upload og behandl").click()
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#job-status")).not_to_be_empty()
    assert_accessible(page, "referat-progress")

    page.wait_for_url(re.compile(r"/referat/[0-9a-f]{32}$"), timeout=PROCESSING_TIMEOUT_MS)
    meeting_id = page.url.rsplit("/", 1)[1]
    # The processing itself (not just the upload) was followed until it reached 100 %.
    processing = [value for value, status in progress_seen if not status.startswith("Uploader")]
    assert processing and processing[-1] == 100, progress_seen
    assert progress_seen[-1][1] == "Færdig: 100 %", progress_seen

    segments = page.locator("#segments li.segment")
    expect(page.locator("#segments")).to_contain_text("country")
    expect(page.locator("audio#audio")).to_have_attribute("src", f"/api/minutes/meetings/{meeting_id}/audio")
    assert_accessible(page, "referat-review")

    # Rename the first speaker: every line of theirs shows the new name.
    speaker_input = page.locator("#speaker-form input[data-label]").first
    label = speaker_input.get_attribute("data-label")
    speaker_input.fill(NEW_NAME)
    page.get_by_role("button", name="Gem navne").click()
    expect(page.locator("#speaker-status")).to_have_text(re.compile("Navnene er gemt"))
    expect(page.locator(f'#segments .speaker[data-label="{label}"]').first).to_have_text(NEW_NAME)

    # Click a line: the audio moves there (and plays), and the line is highlighted.
    target = segments.last
    start = float(target.get_attribute("data-start") or 0)
    target.locator("p.text").click()
    page.wait_for_function(
        "([start]) => { const a = document.getElementById('audio');"
        " return a.currentTime >= start && a.currentTime > 0; }",
        arg=[start],
    )
    expect(target).to_have_class(re.compile(r"\bcurrent\b"))
    page.evaluate("document.getElementById('audio').pause()")

    # Correct a line of the transcript.
    first = segments.first
    first.get_by_role("button", name=re.compile("^Ret linjen")).click()
    first.locator("textarea").fill("And so, my fellow Americans, ask not.")
    first.get_by_role("button", name="Gem linjen").click()
    expect(first.locator("p.text")).to_have_text("And so, my fellow Americans, ask not.")

    # Add a decision to the minutes (it is saved at once, marked as added), and save the minutes.
    page.locator("fieldset.agenda-item").first.get_by_role("button", name="Tilføj beslutning").click()
    page.get_by_label("Beslutningens tekst").fill("Talen lægges på hjemmesiden.")
    page.get_by_role("button", name="Tilføj", exact=True).click()
    expect(page.locator('li.review-item[data-status="added"]')).to_contain_text(
        "Talen lægges på hjemmesiden."
    )
    page.locator("fieldset.agenda-item").first.get_by_label("Resumé").fill("Præsidenten holdt sin tale.")
    page.get_by_role("button", name="Gem referat").click()
    expect(page.locator("#minutes-status")).to_have_text(re.compile("Referatet er gemt"))

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Godkend referatet").click()
    expect(page.locator("#approved-mark")).to_contain_text("Godkendt")
    expect(page.locator("#minutes-form")).to_have_count(0)
    expect(page.locator(".minutes-pane")).to_contain_text("Talen lægges på hjemmesiden.")
    assert_accessible(page, "referat-approved")
    review = _review_row(live_server, meeting_id)
    assert review.quality["review_seconds"] > 0
    assert review.user and review.user.startswith("medarbejder-")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Hent Word (DOCX)").click()
    content = (download_info.value.path()).read_bytes()
    assert content[:2] == b"PK"
    document = zipfile.ZipFile(io.BytesIO(content)).read("word/document.xml").decode()
    assert NEW_NAME in document and "Godkendt referat" in document

    page.goto("/referat")
    row = page.get_by_role("row", name=re.compile("Tiltrædelsestale"))
    expect(row.first).to_contain_text("Godkendt")


def _csrf(page: Page) -> str:
    """The CSRF token of the page's session, as its scripts send it."""
    return page.locator('meta[name="csrf-token"]').get_attribute("content") or ""


def _upload_jfk(page: Page, title: str) -> str:
    """Upload the JFK clip through the API with the page's session and CSRF token; the new meeting's id."""
    upload = {"name": JFK.name, "mimeType": "audio/flac", "buffer": JFK.read_bytes()}
    created = page.request.post(
        "/api/minutes/meetings",
        multipart={"file": upload, "language": "en", "title": title},
        headers={"X-CSRF-Token": _csrf(page)},
    )
    assert created.status == 202, created.text()
    return created.json()["id"]


def test_meeting_page_follows_processing_until_ready(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.LEDELSE, "/referat")
    page.goto(f"/referat/{_upload_jfk(page, 'Fulgt møde')}")
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#segments")).to_contain_text("country", timeout=PROCESSING_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Fulgt møde", level=1)).to_be_visible()


def test_cancelled_processing_says_so(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.SAGSBEHANDLER, "/referat")
    _fill_upload_form(page, "Annulleret møde")
    page.get_by_role("button", name="Upload og behandl").click()
    page.get_by_role("button", name="Annullér behandlingen").click()
    expect(page.locator("#upload-error")).to_contain_text("annulleret", timeout=30_000)
    expect(page.get_by_role("button", name="Upload og behandl")).to_be_enabled()


def test_bad_upload_shows_the_api_message(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.MEDARBEJDER, "/referat")
    text_file = {
        "name": "noter.txt",
        "mimeType": "text/plain",
        "buffer": b"Dette er ikke lyd.\n" * 50,
    }
    # What the API itself answers for this file (with the page's session and CSRF token).
    answer = page.request.post(
        "/api/minutes/meetings", multipart={"file": text_file}, headers={"X-CSRF-Token": _csrf(page)}
    )
    assert answer.status == 415
    message = answer.json()["detail"]

    page.get_by_label("Optagelse").set_input_files(files=[text_file])
    page.get_by_role("button", name="Upload og behandl").click()
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.locator("#job")).to_be_hidden()
    assert_accessible(page, "referat-upload-error")


def test_the_owner_shares_a_meeting_from_its_page(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.MEDARBEJDER, "/referat")
    colleague, _ = new_user(live_server, Role.MEDARBEJDER)
    meeting_id = _upload_jfk(page, "Delt møde")
    meeting = f"/api/minutes/meetings/{meeting_id}"
    page.goto(f"/referat/{meeting_id}")

    page.get_by_label("Del med brugere").fill(f" {colleague} ")
    page.get_by_label("Sagsbehandlere").check()
    page.get_by_role("button", name="Gem deling").click()
    expect(page.locator("#share-status")).to_have_text("Delingen er gemt.")
    expect(page.get_by_label("Del med brugere")).to_have_value(colleague)
    assert page.request.get(f"{meeting}/access").json() == {"users": [colleague], "roles": ["sagsbehandler"]}
    assert_accessible(page, "referat-deling")

    # A name kai does not know: the API's Danish message, and the sharing stays as it was.
    page.get_by_label("Del med brugere").fill("findes-ikke")
    page.get_by_role("button", name="Gem deling").click()
    expect(page.locator("#share-status")).to_have_text("Brugeren 'findes-ikke' findes ikke.")
    assert page.request.get(f"{meeting}/access").json()["users"] == [colleague]
    assert page.request.delete(meeting, headers={"X-CSRF-Token": _csrf(page)}).status == 204


def test_unknown_meeting_is_a_danish_404(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.IT, "/referat")
    response = page.goto("/referat/findesikke")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Mødet findes ikke")).to_be_visible()


def test_anonymous_is_sent_to_login(page: Page, live_server: LiveServer) -> None:
    page.goto("/referat")
    page.wait_for_url(f"{live_server.url}/login?next=/referat")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
    assert page.request.get("/api/minutes/meetings").status == 401


def _draft_counts(live_server: LiveServer) -> dict[str, dict[str, int]]:
    """The item counts of every approved meeting's measured review row (simulated rows are another report),
    summed by hand: what Gevinster must show."""
    sums: dict[str, dict[str, int]] = {"decisions": {}, "actions": {}}
    with live_server.db.session() as session:
        measured = select(UsageEvent).where(UsageEvent.task == Task.REVIEW, UsageEvent.simulated.is_(False))
        rows = session.scalars(measured).all()
        for row in rows:
            for kind, total in sums.items():
                for key, value in (row.quality.get(kind) or {}).items():
                    total[key] = total.get(key, 0) + value
    return sums


def test_review_each_decision_and_action_then_approve(
    page: Page, live_server: LiveServer, browser: Browser
) -> None:
    owner = log_in(page, live_server, Role.MEDARBEJDER, "/referat")
    meeting_id, draft = store_meeting(live_server.db, live_server.settings, owner, audio=True)
    n_decisions = sum(len(s.decisions) for s in draft.sections)
    n_actions = sum(len(s.actions) for s in draft.sections)
    page.goto(f"/referat/{meeting_id}")
    items = page.locator("li.review-item")
    expect(items).to_have_count(n_decisions + n_actions)
    decisions = page.locator('li.review-item[data-kind="decision"]')
    actions = page.locator('li.review-item[data-kind="action"]')

    # Each item links to where it was said: its button plays the recording from that segment's start.
    first = decisions.nth(0)
    seek = first.get_by_role("button", name=re.compile("^Afspil beslutning"))
    segment = int(seek.get_attribute("data-segment") or -1)
    start = float(page.locator(f"#segment-{segment}").get_attribute("data-start") or -1)
    assert start > 0 and float(seek.get_attribute("data-start") or 0) == start
    seek.click()
    page.wait_for_function(
        "([start]) => { const a = document.getElementById('audio');"
        " return Math.abs(a.currentTime - start) < 1.5 && a.currentTime > 0; }",
        arg=[start],
    )
    page.evaluate("document.getElementById('audio').pause()")

    # Accept one, edit one, remove one, add one.
    first.get_by_role("button", name=re.compile("^Godkend beslutning")).click()
    expect(decisions.nth(0)).to_have_attribute("data-status", "accepted")
    decisions.nth(1).get_by_role("button", name=re.compile("^Ret beslutning")).click()
    page.get_by_label("Beslutningens tekst").fill("Forslaget sendes i høring som foreslået af forvaltningen.")
    page.get_by_role("button", name="Gem rettelsen").click()
    expect(decisions.nth(1)).to_have_attribute("data-status", "edited")
    expect(decisions.nth(1)).to_contain_text("Forslaget sendes i høring som foreslået")
    actions.nth(0).get_by_role("button", name=re.compile("^Fjern handlingspunkt")).click()
    expect(actions.nth(0)).to_have_attribute("data-status", "removed")
    page.get_by_role("button", name="Tilføj handlingspunkt").first.click()
    page.get_by_label("Opgave", exact=True).fill("Invitere skolebestyrelserne til dialogmøde")
    page.get_by_label("Ansvarlig", exact=True).fill("Karsten Friis")
    page.get_by_label(re.compile("^Frist")).fill("efter sommerferien")
    page.get_by_role("button", name="Tilføj", exact=True).click()
    added = page.locator('li.review-item[data-status="added"]')
    expect(added).to_have_count(1)
    expect(added).to_contain_text("Frist: efter sommerferien")
    expect(page.locator("#review-counts")).to_contain_text("1 rettet")
    assert_accessible(page, "referat-item-review")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Godkend referatet").click()
    expect(page.locator("#approved-mark")).to_contain_text("Godkendt")
    expect(page.locator(".minutes-pane")).to_contain_text("Invitere skolebestyrelserne til dialogmøde")

    quality = _review_row(live_server, meeting_id).quality
    assert quality["decisions"] == {
        "proposed": n_decisions, "accepted": n_decisions - 1, "edited": 1, "removed": 0, "added": 0,
        "unmarked": n_decisions - 2,
    }  # fmt: skip
    assert quality["actions"] == {
        "proposed": n_actions, "accepted": n_actions - 1, "edited": 0, "removed": 1, "added": 1,
        "unmarked": n_actions - 1,
    }  # fmt: skip

    # Gevinster sums the counts of every approved meeting (this one among them).
    manager = browser.new_context(base_url=live_server.url).new_page()
    try:
        log_in(manager, live_server, Role.LEDELSE, "/gevinster")
        expected = _draft_counts(live_server)
        for label, kind in (("Beslutninger", "decisions"), ("Handlingspunkter", "actions")):
            row = manager.locator(
                "#draft-quality tbody tr", has=manager.get_by_role("rowheader", name="I alt")
            )
            cells = row.filter(has_text=label).locator("td").all_inner_texts()
            c = expected[kind]
            assert cells[2:7] == [str(c[k]) for k in ("proposed", "accepted", "edited", "removed", "added")]
            precision = (c["accepted"] + c["edited"]) / c["proposed"]
            assert cells[7] == f"{precision:.2f}".replace(".", ",")
    finally:
        manager.context.close()
