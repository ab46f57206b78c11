"""Issue #11, finding 2: a meeting belongs to the person who uploaded it.

The owner and ``admin`` may do everything; the users and roles the owner shares a meeting with may read,
listen, export, edit and approve it; only the owner and ``admin`` may cancel it, delete it and change who it
is shared with. Everyone else gets the same 404 as for a meeting that does not exist, on every route and page.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from security_fixtures import ADMIN, CASEWORKER, DANISH_WAV, NAMED, OUTSIDER, OWNER, Kai
from services.common.audit import AuditEvent
from services.minutes.store import Meeting

API = "/api/minutes/meetings"
MINUTES_BODY = {
    "title": "Overtaget",
    "meeting_date": None,
    "participants": [],
    "sections": [
        {"number": 1, "title": "Punkt", "start": 0.0, "end": 1.0, "segment_ids": [], "summary": ["Ændret"]}
    ],
}
# Every route of a meeting, with a body that would be accepted from someone allowed to send it.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("GET", "/result", None),
    ("GET", "/audio", None),
    ("GET", "/export/docx", None),
    ("GET", "/access", None),
    ("PUT", "/access", {"users": [OUTSIDER], "roles": []}),
    ("PUT", "/speakers", {"speakers": {"Taler 1": "Overtaget"}}),
    ("PATCH", "/transcript", {"segments": [{"id": 0, "text": "Overtaget"}]}),
    ("PUT", "/minutes", MINUTES_BODY),
    ("GET", "/review", None),
    ("PUT", "/review/items/d0.0", {"status": "removed"}),
    ("POST", "/review/items", {"kind": "decision", "section": 0, "text": "Overtaget"}),
    ("POST", "/approve", {}),
    ("POST", "/cancel", None),
    ("DELETE", "", None),
]


def _share(kai: Kai, meeting_id: str, users: Sequence[str] = (), roles: Sequence[str] = ()) -> None:
    body = {"users": list(users), "roles": list(roles)}
    response = kai.as_user(OWNER, "PUT", f"{API}/{meeting_id}/access", json=body)
    assert response.status_code == 200, response.text


def _call(kai: Kai, user: str, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
    return kai.as_user(user, method, path, json=body) if body is not None else kai.as_user(user, method, path)


def _listed(kai: Kai, user: str) -> set[str]:
    return {meeting["id"] for meeting in kai.as_user(user, "GET", API).json()}


def _owner_view(kai: Kai, meeting_id: str) -> tuple[dict, dict]:
    meeting = kai.as_user(OWNER, "GET", f"{API}/{meeting_id}").json()
    meeting.pop("job")  # its progress may still move
    return meeting, kai.as_user(OWNER, "GET", f"{API}/{meeting_id}/result").json()


def _fresh_upload(kai: Kai) -> str:
    created = kai.upload(OWNER, DANISH_WAV, language="da", title="Nyt møde")
    assert created.status_code == 202, created.text
    return created.json()["id"]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
def test_someone_it_is_not_shared_with_gets_404_on_every_route_and_changes_nothing(
    kai: Kai, transcribed: str, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    _share(kai, transcribed, [NAMED], ["sagsbehandler"])  # shared, but not with the outsider
    before = _owner_view(kai, transcribed)
    missing = uuid.uuid4().hex
    refused = _call(kai, OUTSIDER, method, f"{API}/{transcribed}{suffix}", body)
    unknown = _call(kai, OUTSIDER, method, f"{API}/{missing}{suffix}", body)
    assert refused.status_code == unknown.status_code == 404, refused.text
    # The same answer as for a meeting that does not exist: nothing tells that it does.
    assert refused.json()["detail"] == unknown.json()["detail"].replace(missing, transcribed)
    assert _owner_view(kai, transcribed) == before


@pytest.mark.slow
def test_the_list_and_the_pages_show_only_the_meetings_you_may_see(kai: Kai, transcribed: str) -> None:
    _share(kai, transcribed)
    assert transcribed in _listed(kai, OWNER) and transcribed in _listed(kai, ADMIN)
    for user in (OUTSIDER, NAMED, CASEWORKER):
        assert transcribed not in _listed(kai, user)
    outsider = kai.browser(OUTSIDER)
    assert transcribed not in outsider.get("/referat").text
    page = outsider.get(f"/referat/{transcribed}")
    assert page.status_code == 404 and "Mødet findes ikke" in page.text and "Budgetmøde" not in page.text

    _share(kai, transcribed, [NAMED], ["sagsbehandler"])
    assert transcribed in _listed(kai, NAMED) and transcribed in _listed(kai, CASEWORKER)
    assert transcribed not in _listed(kai, OUTSIDER)
    assert transcribed in kai.browser(CASEWORKER).get("/referat").text


@pytest.mark.slow
@pytest.mark.parametrize("user", [NAMED, CASEWORKER])
def test_shared_users_may_read_listen_export_and_edit_but_not_manage(
    kai: Kai, transcribed: str, user: str
) -> None:
    _share(kai, transcribed, [NAMED], ["sagsbehandler"])
    meeting = f"{API}/{transcribed}"
    for path in (
        meeting,
        f"{meeting}/result",
        f"{meeting}/audio",
        f"{meeting}/export/txt",
        f"{meeting}/review",
    ):
        assert kai.as_user(user, "GET", path).status_code == 200, path
    segment = kai.as_user(user, "GET", f"{meeting}/result").json()["transcript"]["segments"][0]
    edit = {"segments": [{"id": segment["id"], "text": f"Rettet af {user}."}]}
    assert kai.as_user(user, "PATCH", f"{meeting}/transcript", json=edit).status_code == 200
    label = segment["speaker"] or "Taler 1"
    renamed = kai.as_user(
        user, "PUT", f"{meeting}/speakers", json={"speakers": {label: f"Navngivet af {user}"}}
    )
    assert renamed.status_code == 200, renamed.text
    page = kai.browser(user).get(f"/referat/{transcribed}")
    assert page.status_code == 200 and f"Rettet af {user}." in page.text
    assert 'id="share-form"' not in page.text and 'id="delete-meeting"' not in page.text

    for method, suffix, body in [
        ("GET", "/access", None),
        ("PUT", "/access", {"users": [user], "roles": []}),
        ("POST", "/cancel", None),
        ("DELETE", "", None),
    ]:
        refused = _call(kai, user, method, f"{meeting}{suffix}", body)
        assert refused.status_code == 403, (method, suffix, refused.text)
        assert "Kun mødets ejer eller en administrator" in refused.json()["detail"]
    assert kai.as_user(OWNER, "GET", f"{meeting}/access").json() == {
        "users": [NAMED],
        "roles": ["sagsbehandler"],
    }


@pytest.mark.slow
def test_the_owner_sees_the_sharing_section_on_the_page(kai: Kai, transcribed: str) -> None:
    _share(kai, transcribed, [NAMED], ["sagsbehandler"])
    page = kai.browser(OWNER).get(f"/referat/{transcribed}").text
    assert 'id="share-form"' in page and f'value="{NAMED}"' in page
    assert 'value="sagsbehandler" checked' in page


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"users": ["findesikke"], "roles": []}, "Brugeren 'findesikke' findes ikke"),
        ({"users": [], "roles": ["borgmester"]}, "Ukendt rolle 'borgmester'"),
        ({"users": [""], "roles": []}, "Brugernavnet må ikke være tomt"),
        ({"roles": []}, "users"),
    ],
)
def test_bad_sharing_is_refused_and_changes_nothing(kai: Kai, body: dict[str, Any], message: str) -> None:
    meeting_id = _fresh_upload(kai)
    _share(kai, meeting_id, [NAMED])
    response = kai.as_user(OWNER, "PUT", f"{API}/{meeting_id}/access", json=body)
    assert response.status_code == 422 and message in response.json()["detail"], response.text
    assert kai.as_user(OWNER, "GET", f"{API}/{meeting_id}/access").json() == {"users": [NAMED], "roles": []}
    assert kai.as_user(OWNER, "DELETE", f"{API}/{meeting_id}").status_code == 204


def test_owner_and_admin_may_share_cancel_and_delete(kai: Kai) -> None:
    first, second = _fresh_upload(kai), _fresh_upload(kai)
    shared = kai.as_user(ADMIN, "PUT", f"{API}/{first}/access", json={"users": [NAMED, NAMED], "roles": []})
    assert shared.status_code == 200 and shared.json() == {"users": [NAMED], "roles": []}
    assert kai.as_user(OWNER, "POST", f"{API}/{first}/cancel").status_code == 200
    assert kai.as_user(ADMIN, "POST", f"{API}/{second}/cancel").status_code == 200
    assert kai.as_user(OWNER, "DELETE", f"{API}/{first}").status_code == 204
    assert kai.as_user(ADMIN, "DELETE", f"{API}/{second}").status_code == 204
    assert first not in _listed(kai, NAMED)
    with kai.db.session() as session:
        assert session.get(Meeting, first) is None and session.get(Meeting, second) is None


def test_a_meeting_without_an_owner_is_for_admin_only(kai: Kai) -> None:
    meeting_id = uuid.uuid4().hex
    with kai.db.session() as session:
        session.add(
            Meeting(id=meeting_id, title="Uden ejer", audio_filename="x.wav", audio_file="recording.wav")
        )
    assert kai.as_user(OWNER, "GET", f"{API}/{meeting_id}").status_code == 404
    assert kai.as_user(ADMIN, "GET", f"{API}/{meeting_id}").status_code == 200
    assert kai.as_user(ADMIN, "DELETE", f"{API}/{meeting_id}").status_code == 204


@pytest.mark.slow
def test_a_shared_user_may_approve(kai: Kai) -> None:
    meeting_id = _fresh_upload(kai)
    assert kai.wait_done(OWNER, meeting_id)["job"]["status"] == "done"
    _share(kai, meeting_id, [NAMED])
    approved = kai.as_user(NAMED, "POST", f"{API}/{meeting_id}/approve", json={})
    assert approved.status_code == 200 and approved.json()["approved_at"]
    assert kai.as_user(OUTSIDER, "POST", f"{API}/{meeting_id}/approve", json={}).status_code == 404
    assert kai.as_user(OWNER, "DELETE", f"{API}/{meeting_id}").status_code == 204


@pytest.mark.slow
def test_reads_exports_edits_and_refusals_are_audited_with_ids_only(kai: Kai, transcribed: str) -> None:
    _share(kai, transcribed, [NAMED])
    with kai.db.session() as session:
        start = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    meeting = f"{API}/{transcribed}"
    segment = kai.as_user(NAMED, "GET", f"{meeting}/result").json()["transcript"]["segments"][0]
    kai.as_user(NAMED, "GET", f"{meeting}/export/md")
    kai.as_user(
        NAMED, "PATCH", f"{meeting}/transcript", json={"segments": [{"id": segment["id"], "text": "Ny"}]}
    )
    kai.as_user(NAMED, "GET", f"{meeting}/audio", headers={"Range": "bytes=0-"})
    kai.as_user(NAMED, "GET", f"{meeting}/audio", headers={"Range": "bytes=5000-"})
    kai.as_user(OUTSIDER, "GET", f"{meeting}/result")
    kai.as_user(NAMED, "DELETE", meeting)
    kai.browser(NAMED).get(f"/referat/{transcribed}")
    with kai.db.session() as session:
        events = [
            (e.actor, e.action, e.object_type, e.object_id, e.outcome)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > start, AuditEvent.object_type == "meeting")
                .order_by(AuditEvent.id)
            )
        ]
    assert events == [
        (NAMED, "viewed", "meeting", transcribed, "ok"),
        (NAMED, "exported", "meeting", transcribed, "ok"),
        (NAMED, "corrected", "meeting", transcribed, "ok"),
        (NAMED, "viewed", "meeting", transcribed, "ok"),  # listening from the start; a seek is not a new read
        (OUTSIDER, "viewed", "meeting", transcribed, "denied"),
        (NAMED, "deleted", "meeting", transcribed, "denied"),
        (NAMED, "viewed", "meeting", transcribed, "ok"),
    ]
