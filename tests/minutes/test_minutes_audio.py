"""The stored recording streamed back for the review page's <audio>: behind login, seekable, 404 when gone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_minutes_api import JFK, _upload, _wait_done

from services.common.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def meeting_id(client: TestClient) -> str:
    created = _upload(client, JFK, language="en")
    # Wait for the job, so nothing reads the file any more when a test removes it.
    assert _wait_done(client, created["id"])["job"]["status"] == "done"
    return created["id"]


def test_recording_is_streamed_with_its_media_type(client: TestClient, meeting_id: str) -> None:
    response = client.get(f"/api/minutes/meetings/{meeting_id}/audio")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/flac"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.content == JFK.read_bytes()


def test_a_range_request_seeks(client: TestClient, meeting_id: str) -> None:
    size = JFK.stat().st_size
    response = client.get(f"/api/minutes/meetings/{meeting_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 1000-1999/{size}"
    assert response.content == JFK.read_bytes()[1000:2000]


def test_audio_needs_a_login(client: TestClient, meeting_id: str) -> None:
    response = client.get(f"/api/minutes/meetings/{meeting_id}/audio", headers={"Authorization": ""})
    assert response.status_code == 401


def test_unknown_meeting_and_removed_audio_are_404(
    client: TestClient, settings: Settings, meeting_id: str
) -> None:
    unknown = client.get("/api/minutes/meetings/findesikke/audio")
    assert unknown.status_code == 404 and "findes ikke" in unknown.json()["detail"]

    for stored in (settings.resolved_storage_dir / "minutes" / meeting_id).glob("recording.*"):
        stored.unlink()
    removed = client.get(f"/api/minutes/meetings/{meeting_id}/audio")
    assert removed.status_code == 404 and "findes ikke længere" in removed.json()["detail"]

    assert client.delete(f"/api/minutes/meetings/{meeting_id}").status_code == 204
    assert client.get(f"/api/minutes/meetings/{meeting_id}/audio").status_code == 404
