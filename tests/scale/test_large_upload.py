"""A long recording is streamed to disk: the API process's memory stays flat whatever the file's size."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import KAI, worker_env

from servers import peak_rss_mib, running_kai
from services.common.config import Settings

UPLOAD_MB = 64
SAMPLE_RATE = 16_000


def _recording(path: Path, megabytes: float) -> Path:
    """Quiet noise as 16-bit WAV of about ``megabytes``, written a minute at a time."""
    rng = np.random.default_rng(0)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        while path.stat().st_size < megabytes * 1024 * 1024:
            out.writeframes(rng.normal(0, 300, SAMPLE_RATE * 60).astype("<i2").tobytes())
    return path


def _upload(client: httpx.Client, recording: Path) -> httpx.Response:
    with recording.open("rb") as audio:
        return client.post("/api/minutes/meetings", files={"file": (recording.name, audio, "audio/wav")})


@pytest.fixture
def api_server(queued_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``kai serve`` in its own process, jobs going to Redis (so nothing but the upload runs in it)."""
    env = worker_env(queued_settings, queued_settings.data_dir) | {"KAI_MAX_UPLOAD_MB": str(2 * UPLOAD_MB)}
    with running_kai(KAI, env, tmp_path / "api.log") as server:
        yield server


def test_upload_is_streamed_to_disk(
    api_server: tuple[str, int], queued_settings: Settings, api_headers: dict[str, str], tmp_path: Path
) -> None:
    url, pid = api_server
    recording = _recording(tmp_path / "byraadsmoede.wav", UPLOAD_MB)
    with httpx.Client(base_url=url, headers=api_headers, timeout=120) as client:
        # Warm up with a one-minute recording: routes, database, audio decoder.
        assert _upload(client, _recording(tmp_path / "kort.wav", 1)).status_code == 202
        before = peak_rss_mib(pid)
        response = _upload(client, recording)
        growth = peak_rss_mib(pid) - before
    assert response.status_code == 202, response.text
    stored = queued_settings.resolved_storage_dir / "minutes" / response.json()["id"] / "recording.wav"
    assert stored.stat().st_size == recording.stat().st_size
    # A 64 MB body held whole in memory anywhere in the server would show as at least that much growth.
    assert growth < UPLOAD_MB / 4, f"peak memory grew by {growth:.0f} MiB for a {UPLOAD_MB} MB upload"
