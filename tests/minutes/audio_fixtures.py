"""Test audio built from the shared Danish clips (../shared/data/audio_da, NST read speech, two speakers).

Speaker A has one clip (``u0013002.wav``), speaker B twelve (``u0042*.wav``); a "conversation" alternates them
with short pauses and keeps the ground-truth turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from services.common.config import shared_data_dir

SAMPLE_RATE = 16000
SHARED_DATA = shared_data_dir()
AUDIO_DA = SHARED_DATA / "audio_da"
SPEAKER_A_CLIPS = ("u0013002.wav",)
SPEAKER_B_CLIPS = tuple(f"u0042{n:03d}.wav" for n in range(8, 20))


@dataclass
class Turn:
    speaker: int  # 0 = A, 1 = B
    start: float  # seconds in the assembled recording
    end: float


@cache
def load_clip(name: str) -> np.ndarray:
    """One shared clip as float32 mono 16 kHz (decode_audio downmixes the stereo files)."""
    from faster_whisper import decode_audio

    audio = decode_audio(str(AUDIO_DA / name), sampling_rate=SAMPLE_RATE)
    audio.setflags(write=False)  # cached: callers must not change it
    return audio


def assemble(
    clips: list[tuple[int, str]], *, seed: int = 0, pause: tuple[float, float] = (0.3, 0.8), lead: float = 0.5
) -> tuple[np.ndarray, list[Turn]]:
    """Concatenate ``(speaker, clip name)`` turns with random pauses and a faint noise floor.

    Each turn gets a random gain (0.5-1.2) so that loudness does not give the speaker away.
    """
    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = [np.zeros(round(lead * SAMPLE_RATE), dtype=np.float32)]
    turns: list[Turn] = []
    position = len(pieces[0])
    for index, (speaker, name) in enumerate(clips):
        if index:
            gap = np.zeros(round(rng.uniform(*pause) * SAMPLE_RATE), dtype=np.float32)
            pieces.append(gap)
            position += len(gap)
        clip = load_clip(name) * np.float32(rng.uniform(0.5, 1.2))
        pieces.append(clip)
        turns.append(Turn(speaker, position / SAMPLE_RATE, (position + len(clip)) / SAMPLE_RATE))
        position += len(clip)
    pieces.append(np.zeros(round(lead * SAMPLE_RATE), dtype=np.float32))
    audio = np.concatenate(pieces)
    audio += rng.normal(0.0, 1e-3, len(audio)).astype(np.float32)  # room noise instead of digital silence
    return audio, turns


def conversation(n_turns: int = 12, *, seed: int = 0) -> tuple[np.ndarray, list[Turn]]:
    """A, B, A, B, ... with ``n_turns`` turns; A repeats its only clip, B goes through its clips."""
    clips = [
        (0, SPEAKER_A_CLIPS[0]) if i % 2 == 0 else (1, SPEAKER_B_CLIPS[(i // 2) % len(SPEAKER_B_CLIPS)])
        for i in range(n_turns)
    ]
    return assemble(clips, seed=seed)


def monologue(n_clips: int = 8, *, seed: int = 1) -> tuple[np.ndarray, list[Turn]]:
    """Speaker B alone, ``n_clips`` clips with pauses."""
    return assemble([(1, name) for name in SPEAKER_B_CLIPS[:n_clips]], seed=seed)


def pseudo_words(
    audio: np.ndarray, turns: list[Turn], *, length: float = 0.4
) -> list[tuple[float, float, int]]:
    """Ground truth as ``(start, end, speaker)`` pseudo-words of ``length`` seconds over the audible parts of
    each turn: a word is kept where its loudness is at least a tenth of the turn's loudest word."""
    words: list[tuple[float, float, int]] = []
    for turn in turns:
        edges = np.arange(turn.start, turn.end, length)
        spans = [(float(a), float(min(a + length, turn.end))) for a in edges]
        loudness = [
            float(np.sqrt(np.mean(np.square(audio[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)]))))
            for a, b in spans
        ]
        loudest = max(loudness)
        words.extend(
            (a, b, turn.speaker) for (a, b), rms in zip(spans, loudness, strict=True) if rms >= loudest / 10
        )
    return words


# Container → (codec, sample format) for writing test recordings in every accepted upload format.
_ENCODERS = {
    ".wav": ("pcm_s16le", "s16"),
    ".flac": ("flac", "s16"),
    ".mp3": ("libmp3lame", "fltp"),
    ".m4a": ("aac", "fltp"),
    ".ogg": ("libopus", "flt"),
    ".mp4": ("aac", "fltp"),
}


def write_audio(path: Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Encode mono float32 ``audio`` into ``path``; the suffix picks the container and codec (PyAV)."""
    import av

    codec, sample_format = _ENCODERS[path.suffix]
    rate = 48000 if codec == "libopus" else sample_rate  # Opus only runs at 48 kHz
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=rate)
        samples = audio.reshape(1, -1).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = sample_rate
        for resampled in resampler.resample(frame) + resampler.resample(None):
            container.mux(stream.encode(resampled))
        container.mux(stream.encode(None))
    return path
