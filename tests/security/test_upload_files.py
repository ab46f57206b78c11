"""Issue #11, finding 1: no upload can become a page on kai's origin.

A recording is accepted only with an audio/video suffix and content the decoder reads, and is stored under a
name kai chooses; every file kai serves has a media type fixed by kai's own format name, ``nosniff`` and a
``sandbox`` policy, so even a stored file that holds markup is never run as a page.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from security_fixtures import ADMIN, DANISH_WAV, OUTSIDER, OWNER, Kai
from services.chatbot.store import ChatCollection, sources_dir
from services.common.auth import Role
from services.minutes.store import Meeting

SCRIPT = b"<script>document.title = 'stjaalet'</script>"


def _tampered(tmp_path: Path) -> Path:
    """A valid WAV recording with a script appended: the decoder still reads it as audio."""
    path = tmp_path / "optagelse.wav"
    path.write_bytes(DANISH_WAV.read_bytes() + SCRIPT)
    return path


def _stored(kai: Kai) -> tuple[list[str], list[Path]]:
    with kai.db.session() as session:
        ids = sorted(session.scalars(select(Meeting.id)))
    folder = kai.settings.resolved_storage_dir / "minutes"
    return ids, sorted(folder.rglob("*")) if folder.exists() else []


def _assert_locked_down(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    "name", ["optagelse.html", "optagelse.svg", "optagelse.xhtml", "optagelse.wav.htm", "optagelse"]
)
def test_a_recording_named_as_a_page_is_refused_and_nothing_is_stored(
    kai: Kai, tmp_path: Path, name: str
) -> None:
    before = _stored(kai)
    response = kai.upload(OWNER, _tampered(tmp_path), name=name)
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert "kan ikke bruges som optagelse" in detail and "WAV" in detail and "MP3" in detail
    assert _stored(kai) == before


def test_an_oversized_agenda_file_is_refused_and_nothing_is_stored(kai: Kai) -> None:
    before = _stored(kai)
    agenda = b"Punkt om budget\n" * 20_000  # 320 KB: far past any real agenda
    response = kai.as_user(
        OWNER,
        "POST",
        "/api/minutes/meetings",
        files={"file": (DANISH_WAV.name, DANISH_WAV.read_bytes()), "agenda": ("dagsorden.txt", agenda)},
    )
    assert response.status_code == 413, response.text
    assert "Dagsordenen er større end 256 KB" in response.json()["detail"]
    assert _stored(kai) == before


def test_an_accepted_recording_is_stored_under_kais_name_and_served_only_as_audio(
    kai: Kai, tmp_path: Path
) -> None:
    response = kai.upload(OWNER, _tampered(tmp_path), name="Optagelse fra mødet.WAV")
    assert response.status_code == 202, response.text
    meeting_id = response.json()["id"]
    folder = kai.settings.resolved_storage_dir / "minutes" / meeting_id
    assert [path.name for path in folder.iterdir()] == ["recording.wav"]

    audio = kai.as_user(OWNER, "GET", f"/api/minutes/meetings/{meeting_id}/audio")
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.headers["content-disposition"] == 'inline; filename="optagelse.wav"'
    _assert_locked_down(audio)
    assert audio.content.endswith(SCRIPT)  # the bytes as uploaded; only never as a page
    assert kai.as_user(OWNER, "DELETE", f"/api/minutes/meetings/{meeting_id}").status_code == 204


def test_a_stored_recording_with_a_page_suffix_is_never_served_as_a_page(kai: Kai, tmp_path: Path) -> None:
    # A recording stored before the fix kept the uploaded suffix: it is served as opaque bytes.
    meeting_id = uuid.uuid4().hex
    folder = kai.settings.resolved_storage_dir / "minutes" / meeting_id
    folder.mkdir(parents=True)
    (folder / "audio.html").write_bytes(_tampered(tmp_path).read_bytes())
    with kai.db.session() as session:
        session.add(
            Meeting(
                id=meeting_id,
                title="Gammelt møde",
                audio_filename="optagelse.html",
                audio_file="audio.html",
                created_by=OWNER,
            )
        )
    audio = kai.as_user(OWNER, "GET", f"/api/minutes/meetings/{meeting_id}/audio")
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "application/octet-stream"
    _assert_locked_down(audio)
    assert kai.as_user(OWNER, "DELETE", f"/api/minutes/meetings/{meeting_id}").status_code == 204


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("md", "text/markdown; charset=utf-8"),
        ("txt", "text/plain; charset=utf-8"),
        ("srt", "application/x-subrip; charset=utf-8"),
        ("vtt", "text/vtt; charset=utf-8"),
        ("json", "application/json"),
    ],
)
def test_exports_have_a_fixed_type_and_cannot_run_as_a_page(
    kai: Kai, transcribed: str, fmt: str, media_type: str
) -> None:
    response = kai.as_user(OWNER, "GET", f"/api/minutes/meetings/{transcribed}/export/{fmt.upper()}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    _assert_locked_down(response)


@pytest.mark.slow
def test_a_transcribed_recording_is_served_with_its_audio_type(kai: Kai, transcribed: str) -> None:
    audio = kai.as_user(OWNER, "GET", f"/api/minutes/meetings/{transcribed}/audio")
    assert audio.headers["content-type"] == "audio/flac"
    _assert_locked_down(audio)


def test_guidance_sources_are_served_sandboxed_with_a_fixed_type(kai: Kai) -> None:
    with kai.db.session() as session:
        session.add(ChatCollection(name="sikkerhed", title="Test", roles=[role.value for role in Role]))
    folder = sources_dir(kai.settings.resolved_storage_dir, "sikkerhed")
    folder.mkdir(parents=True)
    (folder / "side.html").write_bytes(b"<html><body><p>Vejledning</p>" + SCRIPT + b"</body></html>")
    (folder / "billede.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'>" + SCRIPT + b"</svg>")

    page = kai.as_user(OUTSIDER, "GET", "/api/chat/sources/sikkerhed/side.html")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    _assert_locked_down(page)
    unknown = kai.as_user(OUTSIDER, "GET", "/api/chat/sources/sikkerhed/billede.svg")
    assert unknown.headers["content-type"] == "application/octet-stream"
    _assert_locked_down(unknown)


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [
        ("html", "text/html; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_savings_reports_are_downloads_that_cannot_run_as_a_page(
    kai: Kai, suffix: str, media_type: str
) -> None:
    response = kai.browser(ADMIN).get(f"/gevinster/rapport.{suffix}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"] == f'attachment; filename="gevinster.{suffix}"'
    assert response.headers["cache-control"] == "no-store"
    _assert_locked_down(response)
