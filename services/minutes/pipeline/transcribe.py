"""Speech to text with faster-whisper, one audio chunk at a time, segments streamed as they are decoded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import faster_whisper
from faster_whisper import BatchedInferencePipeline, WhisperModel

from services.minutes.pipeline.audio import AudioChunk
from services.minutes.pipeline.types import Segment, Word


@dataclass(frozen=True)
class TranscriptionOptions:
    language: str | None = "da"  # None: detect from the first chunk with sound
    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True
    glossary: tuple[str, ...] = ()  # local names and terms, given to Whisper as hotwords
    batch_size: int = 0  # > 0: faster-whisper's batched pipeline (worth it on a GPU)

    def decode_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``WhisperModel.transcribe``; the benchmark's raw baseline uses the same."""
        kwargs: dict[str, Any] = {
            "beam_size": self.beam_size,
            "vad_filter": self.vad_filter,
            "word_timestamps": self.word_timestamps,
            # temperature 0 first (faster-whisper's default ladder) so the same audio gives the same text
            "temperature": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            "condition_on_previous_text": True,
        }
        if self.glossary:
            kwargs["hotwords"] = ", ".join(self.glossary)
        if self.batch_size > 0:
            kwargs["batch_size"] = self.batch_size
        return kwargs


@dataclass(frozen=True)
class DetectedLanguage:
    code: str
    probability: float


def detect_language(model: WhisperModel, chunk: AudioChunk) -> DetectedLanguage:
    """Language of the speech in ``chunk``, judged on up to its first 3 × 30 s of speech."""
    code, probability, _ = model.detect_language(
        audio=chunk.samples, vad_filter=True, language_detection_segments=3
    )
    return DetectedLanguage(code, float(probability))


def _to_segment(raw: faster_whisper.transcribe.Segment, offset: float) -> Segment:
    words = [
        Word(
            start=round(w.start + offset, 3),
            end=round(w.end + offset, 3),
            word=w.word,
            probability=round(float(w.probability), 4),
        )
        for w in raw.words or []
    ]
    return Segment(
        id=raw.id,
        start=round(raw.start + offset, 3),
        end=round(raw.end + offset, 3),
        text=raw.text.strip(),
        words=words,
        avg_logprob=float(raw.avg_logprob),
        no_speech_prob=float(raw.no_speech_prob),
    )


def transcribe_chunk(
    model: WhisperModel, chunk: AudioChunk, language: str, options: TranscriptionOptions
) -> Iterator[Segment]:
    """Segments of one chunk with times relative to the whole recording, as Whisper decodes them."""
    engine = BatchedInferencePipeline(model) if options.batch_size > 0 else model
    raw_segments, _ = engine.transcribe(chunk.samples, language=language, **options.decode_kwargs())
    for raw in raw_segments:
        if raw.text.strip():
            yield _to_segment(raw, chunk.offset)
