"""The minutes API end to end: real upload, real job, real models, review and export."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import docx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from audio_fixtures import SHARED_DATA, conversation, write_audio
from services.common.audit import recent_events
from services.common.config import Settings
from services.common.db import open_database
from services.common.jobs import Job, JobStatus
from services.common.ledger import UsageEvent
from services.minutes.store import Meeting

pytestmark = pytest.mark.slow

JFK = SHARED_DATA / "audio_en" / "jfk.flac"
AGENDA = "1. Godkendelse af dagsorden\n2. Budgetopfølgning\n3. Eventuelt\n"


def _wait_done(client: TestClient, meeting_id: str, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    progress_seen: list[float] = []
    while time.monotonic() < deadline:
        meeting = client.get(f"/api/minutes/meetings/{meeting_id}").json()
        progress_seen.append(meeting["job"]["progress"])
        if meeting["job"]["status"] in ("done", "failed", "cancelled"):
            meeting["progress_seen"] = progress_seen
            return meeting
        time.sleep(0.2)
    raise AssertionError(f"job for {meeting_id} did not finish")


def _upload(client: TestClient, path: Path, **form: str) -> dict:
    with path.open("rb") as handle:
        response = client.post("/api/minutes/meetings", files={"file": (path.name, handle)}, data=form)
    assert response.status_code == 202, response.text
    return response.json()


def _ledger(settings: Settings) -> list[UsageEvent]:
    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        rows = list(session.scalars(select(UsageEvent).order_by(UsageEvent.id)))
    db.dispose()
    return rows


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/openapi.json").status_code == 200


def test_meeting_from_upload_to_approved_minutes(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    audio, _ = conversation(8, seed=3)
    recording = write_audio(tmp_path / "udvalgsmøde.mp3", audio)
    created = _upload(
        client,
        recording,
        title="Børne- og Skoleudvalget",
        meeting_date="2026-11-20",
        participants="Mette Hansen, Ali Khan",
        agenda_text=AGENDA,
        speakers="2",
    )
    assert created["job"]["status"] in ("queued", "running")
    meeting = _wait_done(client, created["id"])
    assert meeting["job"]["status"] == "done", meeting["job"]
    assert meeting["job"]["progress"] == 100.0

    result = client.get(f"/api/minutes/meetings/{created['id']}/result").json()
    transcript, minutes = result["transcript"], result["minutes"]
    assert transcript["language"] == "da"
    assert {s["speaker"] for s in transcript["segments"]} == {"Taler 1", "Taler 2"}
    assert [s["title"] for s in minutes["sections"]] == [
        "Godkendelse af dagsorden",
        "Budgetopfølgning",
        "Eventuelt",
    ]
    assert minutes["participants"] == ["Mette Hansen", "Ali Khan"]
    assert result["approved"] is False

    # Review: rename a speaker, correct a line, approve with the measured review time.
    renamed = client.put(
        f"/api/minutes/meetings/{created['id']}/speakers", json={"speakers": {"Taler 1": "Mette Hansen"}}
    )
    assert renamed.status_code == 200
    assert renamed.json()["speakers"] == {"Taler 1": "Mette Hansen"}
    first = transcript["segments"][0]
    edited = client.patch(
        f"/api/minutes/meetings/{created['id']}/transcript",
        json={"segments": [{"id": first["id"], "text": "Velkommen til mødet i Børne- og Skoleudvalget."}]},
    )
    assert edited.status_code == 200
    assert edited.json()["segments"][0]["text"] == "Velkommen til mødet i Børne- og Skoleudvalget."

    srt = client.get(f"/api/minutes/meetings/{created['id']}/export/srt").text
    assert "Mette Hansen:" in srt and "Velkommen til mødet" in srt
    approved = client.post(f"/api/minutes/meetings/{created['id']}/approve", json={"review_seconds": 312.5})
    assert approved.status_code == 200 and approved.json()["approved_at"]

    # The machine's draft is kept beside the approved version.
    draft_json = client.get(f"/api/minutes/meetings/{created['id']}/export/json?version=draft").json()
    final_json = client.get(f"/api/minutes/meetings/{created['id']}/export/json?version=final").json()
    assert draft_json["segments"][0]["text"] == first["text"]
    assert final_json["segments"][0]["text"] == "Velkommen til mødet i Børne- og Skoleudvalget."
    assert set(final_json) >= {"language", "duration", "segments"}
    assert set(final_json["segments"][0]) >= {"start", "end", "speaker", "text", "words"}

    docx_bytes = client.get(f"/api/minutes/meetings/{created['id']}/export/docx?version=final").content
    document = docx.Document(io.BytesIO(docx_bytes))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Børne- og Skoleudvalget" in text and "Godkendt referat" in text
    vtt = client.get(f"/api/minutes/meetings/{created['id']}/export/vtt").text
    assert vtt.startswith("WEBVTT")
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", vtt)

    # Approved minutes are frozen.
    late = client.put(
        f"/api/minutes/meetings/{created['id']}/speakers", json={"speakers": {"Taler 2": "Ali"}}
    )
    assert late.status_code == 409

    db = open_database(settings.resolved_database_url)
    actions = [(e.action, e.object_id) for e in recent_events(db)]
    db.dispose()
    assert ("uploaded", created["id"]) in actions and ("approved", created["id"]) in actions

    rows = _ledger(settings)
    transcribe_row = next(r for r in rows if r.task == "transcribe")
    review_row = next(r for r in rows if r.task == "review")
    assert transcribe_row.service == "minutes" and transcribe_row.outcome == "ok"
    assert transcribe_row.volume == pytest.approx(transcript["duration"])
    assert transcribe_row.volume_unit == "audio_seconds"
    assert transcribe_row.processing_seconds > 0
    assert transcribe_row.quality["speakers"] == 2
    assert review_row.quality["review_seconds"] == 312.5
    assert review_row.quality["edit_distance_chars"] > 0
    assert 0 < review_row.quality["edit_ratio"] < 1


def test_delete_leaves_nothing_behind(client: TestClient, settings: Settings) -> None:
    created = _upload(client, JFK, language="en")
    assert _wait_done(client, created["id"])["job"]["status"] == "done"
    folder = settings.resolved_storage_dir / "minutes" / created["id"]
    assert any(folder.iterdir())

    assert client.delete(f"/api/minutes/meetings/{created['id']}").status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/minutes/meetings/{created['id']}").status_code == 404
    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        assert session.get(Meeting, created["id"]) is None
        assert session.get(Job, created["job"]["id"]) is None
    db.dispose()


def test_interrupted_transcription_is_resumed_at_start(
    settings: Settings, tmp_path: Path, api_headers: dict[str, str]
) -> None:
    # Simulate a crash: the job was "running" when the process died and nobody finished it.
    settings.prepare_dirs()
    db = open_database(settings.resolved_database_url)
    meeting_id = "crashed0000000000000000000000001"
    folder = settings.resolved_storage_dir / "minutes" / meeting_id
    folder.mkdir(parents=True)
    (folder / "audio.flac").write_bytes(JFK.read_bytes())
    with db.session() as session:
        job = Job(
            kind="minutes.transcribe",
            payload={"meeting_id": meeting_id},
            status=JobStatus.RUNNING,
            progress=37.0,
            attempts=1,
        )
        session.add(job)
        session.flush()
        session.add(
            Meeting(
                id=meeting_id,
                title="Afbrudt møde",
                language="en",
                audio_filename="jfk.flac",
                audio_file="audio.flac",
                job_id=job.id,
                created_by="referent",  # the owner: the user of api_headers
            )
        )
    db.dispose()

    from services.app import create_app

    with TestClient(create_app(settings), headers=api_headers) as client:
        meeting = _wait_done(client, meeting_id)
        result = client.get(f"/api/minutes/meetings/{meeting_id}/result").json()
    assert meeting["job"]["status"] == "done"
    assert meeting["job"]["attempts"] == 2
    text = " ".join(s["text"] for s in result["transcript"]["segments"]).lower()
    assert "ask not what your country can do for you" in text
    assert sum(1 for row in _ledger(settings) if row.task == "transcribe") == 1


# --- bad input: a clear 4xx, and nothing already stored is touched -------------------------------------


def _stored_state(settings: Settings) -> tuple[list[str], list[Path]]:
    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        ids = sorted(session.scalars(select(Meeting.id)))
    db.dispose()
    files = (
        sorted((settings.resolved_storage_dir / "minutes").rglob("*"))
        if (settings.resolved_storage_dir / "minutes").exists()
        else []
    )
    return ids, files


@pytest.fixture
def client_with_one_meeting(client: TestClient) -> TestClient:
    created = _upload(client, JFK, language="en")
    assert _wait_done(client, created["id"])["job"]["status"] == "done"
    return client


@pytest.mark.parametrize(
    ("name", "content", "form", "status", "message"),
    [
        ("notes.wav", "Dette er ikke lyd.\n" * 100, {}, 415, "lyd"),
        ("tom.mp3", b"", {}, 415, "tom"),
        ("beskadiget.flac", b"fLaC\x00\x00\x00\x22" + bytes(range(256)) * 4, {}, 415, ""),
        ("jfk.flac", None, {"language": "xx"}, 422, "sprogkode"),
        ("jfk.flac", None, {"agenda_text": "\n \n"}, 422, "Dagsordenen"),
        ("jfk.flac", None, {"speakers": "0"}, 422, "talere"),
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(
    client_with_one_meeting: TestClient,
    settings: Settings,
    name: str,
    content: str | bytes | None,
    form: dict[str, str],
    status: int,
    message: str,
) -> None:
    client = client_with_one_meeting
    before = _stored_state(settings)
    body = JFK.read_bytes() if content is None else content
    response = client.post(
        "/api/minutes/meetings",
        files={"file": (name, body.encode() if isinstance(body, str) else body)},
        data=form,
    )
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert _stored_state(settings) == before


def test_binary_agenda_is_refused(client_with_one_meeting: TestClient, settings: Settings) -> None:
    before = _stored_state(settings)
    response = client_with_one_meeting.post(
        "/api/minutes/meetings",
        files={"file": ("jfk.flac", JFK.read_bytes()), "agenda": ("dagsorden.pdf", b"%PDF-1.4\x00\x01\x02")},
    )
    assert response.status_code == 422
    assert "tekst" in response.json()["detail"]
    assert _stored_state(settings) == before


def test_silent_recording_is_refused(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "stille.wav", np.zeros(16000 * 10, dtype=np.float32))
    response = client.post("/api/minutes/meetings", files={"file": ("stille.wav", path.read_bytes())})
    assert response.status_code == 415
    assert "stilhed" in response.json()["detail"]
    assert _stored_state(settings) == ([], [])


def test_oversized_upload_is_refused(settings: Settings) -> None:
    from services.app import create_app

    small = settings.model_copy(update={"max_upload_mb": 1})
    with TestClient(create_app(small)) as client:
        response = client.post(
            "/api/minutes/meetings", files={"file": ("stor.wav", b"RIFF" + bytes(3 * 1024 * 1024))}
        )
        assert response.status_code == 413
        assert "1 MB" in response.json()["detail"]
        assert _stored_state(small) == ([], [])


def test_unknown_meeting_and_format(client_with_one_meeting: TestClient) -> None:
    client = client_with_one_meeting
    assert client.get("/api/minutes/meetings/findesikke").status_code == 404
    meeting_id = client.get("/api/minutes/meetings").json()[0]["id"]
    response = client.get(f"/api/minutes/meetings/{meeting_id}/export/pdf")
    assert response.status_code == 422 and "docx" in response.json()["detail"]
    bad_speaker = client.put(
        f"/api/minutes/meetings/{meeting_id}/speakers", json={"speakers": {"Taler 9": "X"}}
    )
    assert bad_speaker.status_code == 404
    assert (
        json.loads(client.get(f"/api/minutes/meetings/{meeting_id}/export/json").content)["language"] == "en"
    )
