"""Real faster-whisper on real audio: the transcription path of the minutes pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import numpy as np
import pytest
from faster_whisper import WhisperModel

from audio_fixtures import AUDIO_DA, SHARED_DATA, load_clip, write_audio
from services.minutes.pipeline.audio import AudioError, stream_audio_chunks
from services.minutes.pipeline.meeting import transcribe_recording
from services.minutes.pipeline.transcribe import TranscriptionOptions

pytestmark = pytest.mark.slow

JFK = SHARED_DATA / "audio_en" / "jfk.flac"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def _wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(_normalise(reference), _normalise(hypothesis))


def test_english_reference_clip_within_ten_percent_wer(whisper: WhisperModel) -> None:
    transcript = transcribe_recording(JFK, whisper, TranscriptionOptions(language="en"))
    assert _wer(JFK_TEXT, transcript.text) <= 0.10, transcript.text
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(11.0, abs=0.1)
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) >= 20
    starts = [w.start for w in words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in words)


def test_chunk_boundaries_do_not_cut_words(whisper: WhisperModel) -> None:
    # 4-second chunks force two cuts inside the 11-second speech; each must fall in a pause.
    chunks = list(stream_audio_chunks(JFK, chunk_seconds=4.0))
    assert len(chunks) >= 2
    transcript = transcribe_recording(JFK, whisper, TranscriptionOptions(language="en"), chunk_seconds=4.0)
    assert _wer(JFK_TEXT, transcript.text) <= 0.15, transcript.text
    assert [s.id for s in transcript.segments] == list(range(len(transcript.segments)))


def test_danish_clips_are_detected_as_danish(whisper: WhisperModel, tmp_path: Path) -> None:
    clips = sorted(AUDIO_DA.glob("*.wav"))
    pause = np.zeros(8000, dtype=np.float32)
    audio = np.concatenate([part for clip in clips for part in (load_clip(clip.name), pause)])
    path = write_audio(tmp_path / "dansk.flac", audio)
    transcript = transcribe_recording(path, whisper, TranscriptionOptions(language=None))
    assert transcript.language == "da"
    assert transcript.language_probability > 0.5
    assert len(transcript.text) > 100
    assert transcript.duration == pytest.approx(len(audio) / 16000, abs=0.1)


@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".ogg", ".mp4", ".wav"])
def test_every_upload_format_transcribes(whisper: WhisperModel, tmp_path: Path, suffix: str) -> None:
    from faster_whisper import decode_audio

    path = write_audio(tmp_path / f"jfk{suffix}", decode_audio(str(JFK)))
    transcript = transcribe_recording(path, whisper, TranscriptionOptions(language="en"))
    assert _wer(JFK_TEXT, transcript.text) <= 0.15, transcript.text


def test_silence_only_is_refused(whisper: WhisperModel, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "stille.wav", np.zeros(16000 * 5, dtype=np.float32))
    with pytest.raises(AudioError, match="stilhed"):
        transcribe_recording(path, whisper, TranscriptionOptions())


def test_not_audio_is_refused(whisper: WhisperModel, tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("Dagsorden: 1. Godkendelse\n" * 50)
    with pytest.raises(AudioError):
        transcribe_recording(path, whisper, TranscriptionOptions())
