"""Local speaker diarization: who spoke when, from resemblyzer d-vectors over voiced audio.

A meeting arrives as a stream of audio chunks, so the work is split in three steps that keep only small
per-window embeddings (1 KB each, about 5,000 per hour of speech), never the audio:

1. ``speaker_windows`` embeds short overlapping windows over the voiced parts of one chunk;
2. ``cluster_speakers`` groups all windows of the meeting into speakers, estimating how many there are;
3. ``label_segments`` puts "Taler 1".."Taler n" on the transcript's words and segments, splitting segments
   where the speaker changes.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from services.minutes.pipeline.types import Segment, Word

if TYPE_CHECKING:
    from resemblyzer import VoiceEncoder

SPEAKER_LABEL = "Taler {}"

# Resemblyzer's feature settings (resemblyzer/hparams.py): the encoder was trained on exactly these.
_ENCODER_SAMPLE_RATE = 16000
_MEL_WINDOW_MS = 25
_MEL_STEP_MS = 10
_MEL_CHANNELS = 40
_TARGET_DBFS = -30.0


@dataclass
class SpeakerWindow:
    start: float  # absolute seconds in the meeting
    end: float
    embedding: np.ndarray  # L2-normalised, shape (256,)


def voiced_regions(
    audio: np.ndarray,
    sample_rate: int = 16000,
    *,
    min_silence_ms: int = 250,
    pad_ms: int = 100,
) -> list[tuple[int, int]]:
    """Sample ranges of speech in ``audio`` (the Silero VAD shipped with faster-whisper).

    Pauses from ``min_silence_ms`` on split regions, so windows do not straddle a turn change at a pause.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(audio) == 0:
        return []
    options = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms)
    return [(t["start"], t["end"]) for t in get_speech_timestamps(audio, options, sampling_rate=sample_rate)]


def window_ranges(
    regions: Iterable[tuple[int, int]], window: int, step: int, min_length: int
) -> list[tuple[int, int]]:
    """Windows of ``window`` samples every ``step`` inside each region, the last one flush with its end.

    A region shorter than a window but at least ``min_length`` long is one window of its own (shorter);
    shorter regions give none: d-vectors of well under a second of speech are mostly noise, and
    ``label_segments`` gives the words there the speaker of the nearest window instead.
    """
    ranges = []
    for start, end in regions:
        if end - start < min_length:
            continue
        if end - start <= window:
            ranges.append((start, end))
            continue
        starts = list(range(start, end - window + 1, step))
        if end - (starts[-1] + window) > step // 4:  # a tail worth a window of its own
            starts.append(end - window)
        ranges.extend((s, s + window) for s in starts)
    return ranges


def _volume_gain(audio: np.ndarray) -> float:
    """Gain that brings ``audio`` to the loudness resemblyzer normalises its training audio to."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms < 1e-6:
        return 1.0
    return float(10 ** (_TARGET_DBFS / 20) / rms)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz * 3.0 / 200.0
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * 200.0 / 3.0
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log, linear)


@cache
def _mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, equal to ``librosa.filters.mel`` (slaney norm)."""
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    mel_freqs = _mel_to_hz(np.linspace(0.0, _hz_to_mel(sample_rate / 2.0), n_mels + 2))
    widths = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]
    return weights.astype(np.float32)


def _mel_batch(batch: np.ndarray, sample_rate: int) -> np.ndarray:
    """(n, samples) waveforms -> (n, frames, 40) power mel spectrograms, as resemblyzer computes them.

    Same numbers as resemblyzer's ``wav_to_mel_spectrogram`` (librosa, centred zero-padded frames, periodic
    Hann window) without importing ``librosa.feature``, which costs seconds (numba) on first use.
    """
    n_fft = sample_rate * _MEL_WINDOW_MS // 1000
    hop = sample_rate * _MEL_STEP_MS // 1000
    padded = np.pad(batch, ((0, 0), (n_fft // 2, n_fft // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=1)[:, ::hop]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mels = power.astype(np.float32) @ _mel_filters(sample_rate, n_fft, _MEL_CHANNELS).T
    return np.ascontiguousarray(mels, dtype=np.float32)


def _embed(encoder: VoiceEncoder, mels: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        embeddings = encoder(torch.from_numpy(mels).to(encoder.device)).cpu().numpy()
    # The encoder L2-normalises already, but an all-zero ReLU output comes back as NaN: keep it a zero vector
    # (similar to nothing) rather than let a NaN into the clustering.
    embeddings = np.nan_to_num(embeddings, nan=0.0)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return (embeddings / np.maximum(norms, 1e-12)).astype(np.float32)


def speaker_windows(
    audio: np.ndarray,
    offset: float,
    encoder: VoiceEncoder,
    *,
    window_seconds: float = 1.5,
    step_seconds: float = 0.75,
    min_speech_seconds: float = 1.0,
    sample_rate: int = 16000,
    batch_size: int = 64,
) -> Iterator[SpeakerWindow]:
    """Speaker embeddings of overlapping windows over the voiced parts of one chunk of a meeting.

    ``audio`` is float32 mono at 16 kHz (the encoder's rate); ``offset`` is the chunk's start in the meeting
    in seconds, so the windows' times are absolute. Windows stay inside the voiced regions the VAD finds;
    regions shorter than ``min_speech_seconds`` give no window.
    """
    if sample_rate != _ENCODER_SAMPLE_RATE:
        raise ValueError(f"speaker_windows needs {_ENCODER_SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    if not 0 < step_seconds <= window_seconds:
        raise ValueError("need 0 < step_seconds <= window_seconds")
    audio = np.asarray(audio, dtype=np.float32)
    regions = voiced_regions(audio, sample_rate)
    ranges = window_ranges(
        regions,
        round(window_seconds * sample_rate),
        round(step_seconds * sample_rate),
        round(min_speech_seconds * sample_rate),
    )
    # One gain per region, not per window: it evens out speakers' loudness without pumping up quiet tails.
    gains = np.array([_volume_gain(audio[start:end]) for start, end in regions], dtype=np.float32)
    region_of = np.searchsorted([start for start, _ in regions], [start for start, _ in ranges], "right") - 1

    # Full windows are batched; the few short ones (a short region) each go through alone.
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(ranges):
        by_length.setdefault(end - start, []).append(index)
    embeddings = np.zeros((len(ranges), 256), dtype=np.float32)
    for indices in by_length.values():
        for first in range(0, len(indices), batch_size):
            group = indices[first : first + batch_size]
            batch = np.stack([audio[slice(*ranges[i])] * gains[region_of[i]] for i in group])
            embeddings[group] = _embed(encoder, _mel_batch(batch, sample_rate))

    for (start, end), embedding in zip(ranges, embeddings, strict=True):
        yield SpeakerWindow(offset + start / sample_rate, offset + end / sample_rate, embedding)


def stream_speaker_windows(
    chunks: Iterable[tuple[np.ndarray, float]], encoder: VoiceEncoder, **options: float
) -> Iterator[SpeakerWindow]:
    """``speaker_windows`` over a stream of ``(audio, offset)`` chunks, one chunk in memory at a time."""
    for audio, offset in chunks:
        yield from speaker_windows(audio, offset, encoder, **options)


def cluster_speakers(
    windows: Sequence[SpeakerWindow],
    n_speakers: int | None = None,
    max_speakers: int = 8,
    *,
    # Measured: one voice split in two gives centroids at 0.83-0.91 (JFK, NST speaker B), two NST voices 0.72.
    max_similarity: float = 0.80,
    max_windows: int = 2000,
    smoothing: int = 3,
) -> list[int]:
    """A speaker id (0..k-1, numbered by first appearance in time) for each window, in the given order.

    Average-linkage agglomerative clustering on cosine distance. When ``n_speakers`` is None the number of
    speakers is the cut with the best silhouette among those whose speakers all differ clearly (no two
    centroids with cosine similarity above ``max_similarity``); if no cut qualifies it is one speaker.
    At most ``max_windows`` evenly spread windows are clustered (quadratic cost); then every window goes to
    its nearest centroid, and labels are smoothed over time with a majority filter of ``smoothing`` windows.
    """
    if not windows:
        return []
    embeddings = np.stack([w.embedding for w in windows]).astype(np.float32)
    order = np.argsort([w.start for w in windows], kind="stable")
    embeddings = embeddings[order]

    sample = np.unique(
        np.linspace(0, len(embeddings) - 1, min(len(embeddings), max_windows)).round().astype(int)
    )
    sample_labels = _agglomerative(embeddings[sample], n_speakers, max_speakers, max_similarity)
    centroids = _centroids(embeddings[sample], sample_labels)
    labels = np.argmax(embeddings @ centroids.T, axis=1)
    labels = _first_appearance(_majority_filter(labels, smoothing))

    result = np.empty(len(windows), dtype=int)
    result[order] = labels
    return result.tolist()


def _agglomerative(
    embeddings: np.ndarray, n_speakers: int | None, max_speakers: int, max_similarity: float
) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import silhouette_score

    n = len(embeddings)
    if n < 2 or n_speakers == 1:
        return np.zeros(n, dtype=int)
    distances = np.clip(1.0 - embeddings @ embeddings.T, 0.0, 2.0).astype(np.float64)
    distances = (distances + distances.T) / 2
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")

    def cut(k: int) -> np.ndarray:
        return fcluster(tree, k, criterion="maxclust") - 1

    if n_speakers is not None:
        return cut(min(n_speakers, n))
    best, best_score = np.zeros(n, dtype=int), -1.0
    for k in range(2, min(max_speakers, n - 1) + 1):
        labels = cut(k)
        found = len(np.unique(labels))
        if found < 2 or found >= n:
            continue
        centroids = _centroids(embeddings, labels)
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -1.0)
        if similarity.max() > max_similarity:
            continue  # two of the "speakers" sound alike: a split within one speaker
        score = silhouette_score(distances, labels, metric="precomputed")
        if score > best_score:
            best, best_score = labels, score
    return best


def _centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit-length mean embedding per label 0..max(labels) (labels must be dense)."""
    sums = np.zeros((labels.max() + 1, embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, embeddings)
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _majority_filter(labels: np.ndarray, width: int) -> np.ndarray:
    """Most frequent label in a centred window of ``width``; ties keep the label as it is."""
    if width < 2 or len(labels) < 2:
        return labels
    half = width // 2
    span = 2 * half + 1  # an even width grows by one to stay centred
    one_hot = np.eye(labels.max() + 1, dtype=int)[labels]
    counts = np.cumsum(np.pad(one_hot, ((half + 1, half), (0, 0))), axis=0)
    # counts[i]: how often each label occurs in labels[i - half : i + half + 1]
    counts = counts[span:] - counts[:-span]
    winner = np.argmax(counts, axis=1)
    keep = counts[np.arange(len(labels)), labels] == counts.max(axis=1)
    return np.where(keep, labels, winner)


def _first_appearance(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0, 1, ... in the order they first occur."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(labels.max() + 1, dtype=int)
    rank[labels[np.sort(first)]] = np.arange(len(first))
    return rank[labels]


def label_segments(
    segments: list[Segment], windows: Sequence[SpeakerWindow], labels: Sequence[int]
) -> list[Segment]:
    """The transcript with speakers: new segments and words, the input is left as it is.

    Each word gets the speaker whose windows overlap it most (the nearest window's if none does); a segment
    is split where the speaker changes between its words (text rebuilt from the words) and gets the speaker
    of most of its speech. Segments without words go by the overlap of their whole span. Speaker ids become
    "Taler 1".."Taler n" in order of first appearance; segment ids are renumbered 0..n-1 in time order.
    Without windows (no speech found) the segments come back unlabelled.
    """
    if len(windows) != len(labels):
        raise ValueError(f"{len(windows)} windows but {len(labels)} labels")
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    if not windows:
        return [dataclasses.replace(s, id=i, words=list(s.words)) for i, s in enumerate(ordered)]
    lookup = _WindowLookup(windows, labels)

    # (segment, speaker of each word, speaker of the span for a segment without words)
    pieces: list[tuple[Segment, list[int], int]] = []
    for segment in ordered:
        if not segment.words:
            pieces.append((segment, [], lookup.speaker(segment.start, segment.end)))
            continue
        speakers = [lookup.speaker(w.start, w.end) for w in segment.words]
        pieces.extend((part, part_speakers, -1) for part, part_speakers in _split(segment, speakers))

    names: dict[int, str] = {}  # cluster id -> "Taler n", by first appearance

    def name(speaker: int) -> str:
        return names.setdefault(speaker, SPEAKER_LABEL.format(len(names) + 1))

    result = []
    for index, (segment, speakers, whole) in enumerate(pieces):
        words = [
            dataclasses.replace(w, speaker=name(s)) for w, s in zip(segment.words, speakers, strict=True)
        ]
        speaker = name(whole) if not words else _majority_by_duration(words)
        result.append(dataclasses.replace(segment, id=index, words=words, speaker=speaker))
    return result


def _split(segment: Segment, speakers: list[int]) -> Iterator[tuple[Segment, list[int]]]:
    """Runs of words with one speaker, each as its own segment (the segment itself if there is one run)."""
    cuts = [i for i in range(1, len(speakers)) if speakers[i] != speakers[i - 1]]
    if not cuts:
        yield segment, speakers
        return
    bounds = [0, *cuts, len(speakers)]
    for first, last in itertools.pairwise(bounds):
        words = segment.words[first:last]
        start = segment.start if first == 0 else words[0].start
        end = segment.end if last == len(speakers) else words[-1].end
        text = "".join(w.word for w in words)  # Whisper's words carry their leading space
        yield dataclasses.replace(segment, start=start, end=end, text=text, words=words), speakers[first:last]


def _majority_by_duration(words: list[Word]) -> str | None:
    totals: dict[str | None, float] = {}
    for w in words:
        totals[w.speaker] = totals.get(w.speaker, 0.0) + max(w.end - w.start, 1e-3)
    return max(totals, key=totals.__getitem__)  # dicts keep insertion order: ties go to the first speaker


class _WindowLookup:
    """Speaker of a time span from the windows' labels, by overlap, else by the nearest window."""

    def __init__(self, windows: Sequence[SpeakerWindow], labels: Sequence[int]) -> None:
        order = np.argsort([w.start for w in windows], kind="stable")
        self.starts = np.array([windows[i].start for i in order])
        self.ends = np.array([windows[i].end for i in order])
        self.labels = np.asarray(labels, dtype=int)[order]
        self.longest = float(np.max(self.ends - self.starts))
        # The window reaching furthest among those up to each index: the nearest one before a span, O(log n).
        self.latest = np.maximum.accumulate(self.ends)
        self.latest_index = np.maximum.accumulate(
            np.where(self.ends == self.latest, np.arange(len(self.ends)), 0)
        )

    def speaker(self, start: float, end: float) -> int:
        first = int(np.searchsorted(self.starts, start - self.longest, "left"))
        last = int(np.searchsorted(self.starts, end, "right"))
        overlap = np.minimum(self.ends[first:last], end) - np.maximum(self.starts[first:last], start)
        overlap = np.maximum(overlap, 0.0)
        if overlap.sum() <= 0:
            return self._nearest(start, end)
        labels = self.labels[first:last]
        votes = np.bincount(labels, weights=overlap)
        tied = np.flatnonzero(votes >= votes.max() - 1e-9)
        if len(tied) == 1:
            return int(tied[0])
        # With windows overlapping by half, every instant lies in two of them: on a tie the window centred
        # closest to the span decides.
        centres = (self.starts[first:last] + self.ends[first:last]) / 2
        distance = np.where(
            np.isin(labels, tied) & (overlap > 0), np.abs(centres - (start + end) / 2), np.inf
        )
        return int(labels[np.argmin(distance)])

    def _nearest(self, start: float, end: float) -> int:
        after = int(np.searchsorted(self.starts, start, "left"))  # first window starting at or after the span
        before = after - 1
        gap_before = start - self.latest[before] if before >= 0 else np.inf
        gap_after = self.starts[after] - end if after < len(self.starts) else np.inf
        if gap_before <= gap_after:
            return int(self.labels[self.latest_index[before]])
        return int(self.labels[after])
