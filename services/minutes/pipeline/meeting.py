"""A whole recording through the pipeline: stream chunks → detect language → transcribe (+ speaker windows)
→ cluster speakers → one ``Transcript``. Used by the service, the CLI and the benchmark alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from faster_whisper import WhisperModel

from services.minutes.pipeline.audio import AudioError, is_silent, stream_audio_chunks
from services.minutes.pipeline.diarize import SpeakerWindow, cluster_speakers, label_segments, speaker_windows
from services.minutes.pipeline.transcribe import (
    DetectedLanguage,
    TranscriptionOptions,
    detect_language,
    transcribe_chunk,
)
from services.minutes.pipeline.types import Segment, Transcript

if TYPE_CHECKING:
    from resemblyzer import VoiceEncoder

# Called after each decoded segment with (segment, seconds of audio processed so far).
SegmentCallback = Callable[[Segment, float], None]


def transcribe_recording(
    path: Path,
    model: WhisperModel,
    options: TranscriptionOptions,
    *,
    chunk_seconds: float = 600.0,
    speaker_encoder: VoiceEncoder | None = None,
    n_speakers: int | None = None,
    model_name: str = "",
    on_segment: SegmentCallback | None = None,
) -> Transcript:
    """Transcribe (and, given a speaker encoder, diarize) the recording at ``path``.

    Raises ``AudioError`` when the file holds no usable sound or no speech.
    """
    language = DetectedLanguage(options.language, 1.0) if options.language else None
    segments: list[Segment] = []
    windows: list[SpeakerWindow] = []
    duration = 0.0
    heard_sound = False

    for chunk in stream_audio_chunks(path, chunk_seconds):
        duration = chunk.end
        if is_silent(chunk.samples):
            continue
        heard_sound = True
        if language is None:
            language = detect_language(model, chunk)
        if speaker_encoder is not None:
            windows.extend(speaker_windows(chunk.samples, chunk.offset, speaker_encoder))
        for segment in transcribe_chunk(model, chunk, language.code, options):
            segment.id = len(segments)
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment, segment.end)
        del chunk  # release this chunk's samples before the next one is decoded

    if not heard_sound:
        raise AudioError("Optagelsen indeholder kun stilhed.")
    if not segments:
        raise AudioError("Der blev ikke fundet tale i optagelsen.")
    assert language is not None
    if windows:
        segments = label_segments(segments, windows, cluster_speakers(windows, n_speakers))
    return Transcript(
        language=language.code,
        language_probability=round(language.probability, 4),
        duration=round(duration, 3),
        segments=segments,
        model=model_name,
    )
