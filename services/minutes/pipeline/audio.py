"""Decode any audio (or a video's audio track) to 16 kHz mono float32, as a stream of chunks.

PyAV (bundled with faster-whisper) brings FFmpeg, so WAV, MP3, M4A, OGG, FLAC and MP4 need no system package.
Chunks are cut at the quietest moment near the chunk length so a word is never split, and only one chunk (plus
a short look-ahead) is held at a time: memory does not grow with the length of the meeting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000
# The recording formats kai accepts (file suffixes): audio, or video with an audio track, FFmpeg decodes.
RECORDING_FORMATS = ("wav", "mp3", "m4a", "aac", "ogg", "oga", "opus", "flac", "webm", "mp4")
# A sound below this RMS level (about -60 dBFS) throughout the file counts as silence.
SILENCE_RMS = 1e-3


class AudioError(ValueError):
    """The file cannot be used as audio; the message says why, in Danish, for the person who uploaded it."""


@dataclass(frozen=True)
class AudioInfo:
    duration: float  # seconds, from the container; 0.0 when the container does not say
    codec: str
    sample_rate: int
    channels: int


@dataclass
class AudioChunk:
    offset: float  # seconds from the start of the recording
    samples: np.ndarray  # float32 mono at SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end(self) -> float:
        return self.offset + self.duration


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(
            "Filen kan ikke læses som lyd eller video (ukendt eller beskadiget format)."
        ) from exc


def probe_audio(path: Path) -> AudioInfo:
    """Check that ``path`` has an audio stream; cheap (reads headers only)."""
    if path.stat().st_size == 0:
        raise AudioError("Filen er tom.")
    with _open(path) as container:
        if not container.streams.audio:
            raise AudioError("Filen indeholder intet lydspor.")
        stream = container.streams.audio[0]
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        return AudioInfo(
            duration=duration,
            codec=stream.codec_context.name,
            sample_rate=stream.codec_context.sample_rate or 0,
            channels=stream.codec_context.channels or 0,
        )


def _decoded_blocks(path: Path, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Decoded, resampled mono float32 blocks of about ``block_seconds`` each."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    fifo = av.AudioFifo()
    block = int(block_seconds * SAMPLE_RATE)
    decoded_any = False
    with _open(path) as container:
        if not container.streams.audio:
            raise AudioError("Filen indeholder intet lydspor.")
        frames = container.decode(audio=0)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.InvalidDataError:
                continue  # a damaged packet: skip it, as FFmpeg's own tools do
            except av.error.FFmpegError as exc:
                raise AudioError("Lyden i filen er beskadiget og kan ikke afkodes.") from exc
            decoded_any = True
            frame.pts = None  # resampled frames get their own timing
            for out in resampler.resample(frame):
                fifo.write(out)
            while fifo.samples >= block:
                yield fifo.read(block).to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            fifo.write(out)
        if fifo.samples:
            yield fifo.read().to_ndarray().reshape(-1)
    del resampler
    gc.collect()  # PyAV's resampler keeps buffers alive until collected (faster-whisper issue 390)
    if not decoded_any:
        raise AudioError("Filen indeholder ingen lyd, der kan afkodes.")


def _quietest_cut(samples: np.ndarray, search_from: int) -> int:
    """Index of the quietest 100 ms frame in ``samples[search_from:]``: a pause to cut at."""
    frame = SAMPLE_RATE // 10
    tail = samples[search_from:]
    n_frames = len(tail) // frame
    if n_frames < 2:
        return len(samples)
    energy = np.square(tail[: n_frames * frame].reshape(n_frames, frame)).mean(axis=1)
    return search_from + int(np.argmin(energy)) * frame + frame // 2


def stream_audio_chunks(
    path: Path, chunk_seconds: float = 600.0, search_seconds: float = 20.0
) -> Iterator[AudioChunk]:
    """Consecutive chunks of about ``chunk_seconds``, each cut at a pause in its last ``search_seconds``."""
    target = int(chunk_seconds * SAMPLE_RATE)
    search = int(min(search_seconds, chunk_seconds / 2) * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_len = 0
    offset = 0
    for block in _decoded_blocks(path):
        pending.append(block)
        pending_len += len(block)
        while pending_len >= target + search:
            buffer = np.concatenate(pending)
            cut = _quietest_cut(buffer[: target + search], target - search)
            yield AudioChunk(offset / SAMPLE_RATE, buffer[:cut])
            offset += cut
            rest = buffer[cut:].copy()  # a view would keep the whole previous buffer alive
            pending, pending_len = [rest], len(rest)
    if pending_len:
        yield AudioChunk(offset / SAMPLE_RATE, np.concatenate(pending))


def is_silent(samples: np.ndarray) -> bool:
    return samples.size == 0 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS


def has_sound(path: Path) -> bool:
    """True as soon as one 30 s block is louder than silence; a silent file is read to the end."""
    return any(not is_silent(block) for block in _decoded_blocks(path))
