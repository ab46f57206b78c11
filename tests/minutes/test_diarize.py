"""Speaker diarization: real resemblyzer encoder and Silero VAD on real Danish speech, offline.

The recordings are assembled from the shared NST clips (see audio_fixtures.py): two speakers alternating with
short pauses, and one speaker alone. Accuracy is the share of speech time (pseudo-words over the audible parts
of each turn) that ends up with the right speaker, under the best matching of labels to speakers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from audio_fixtures import AUDIO_DA, SAMPLE_RATE, Turn, conversation, monologue, pseudo_words
from services.minutes.pipeline.diarize import (
    SpeakerWindow,
    cluster_speakers,
    label_segments,
    speaker_windows,
    stream_speaker_windows,
)
from services.minutes.pipeline.types import Segment, Word

# The model tests need the shared clips; resemblyzer itself still imports from a deprecated scipy path.
needs_audio = pytest.mark.skipif(not AUDIO_DA.is_dir(), reason=f"shared audio not found at {AUDIO_DA}")
pytestmark = pytest.mark.filterwarnings("ignore:Please import `binary_dilation`:DeprecationWarning")

CHUNK_SECONDS = 30.0  # a meeting is diarized chunk by chunk; small chunks here to cross several boundaries


@pytest.fixture(scope="module")
def encoder():
    from models.registry import load_voice_encoder

    return load_voice_encoder("cpu")


def chunks(audio: np.ndarray, seconds: float = CHUNK_SECONDS):
    size = round(seconds * SAMPLE_RATE)
    for start in range(0, len(audio), size):
        yield audio[start : start + size], start / SAMPLE_RATE


@pytest.fixture(scope="module")
def dialogue(encoder) -> tuple[np.ndarray, list[Turn], list[SpeakerWindow]]:
    audio, turns = conversation(12)
    return audio, turns, list(stream_speaker_windows(chunks(audio), encoder))


def transcript(words: list[tuple[float, float, int]], seconds: float = 10.0) -> list[Segment]:
    """Segments of about ``seconds`` from the pseudo-words, cut regardless of turns, as ASR would do."""
    segments: list[Segment] = []
    current: list[Word] = []
    for index, (start, end, _) in enumerate(words):
        current.append(Word(start, end, f" w{index}", 1.0))
        if current[-1].end - current[0].start >= seconds or index == len(words) - 1:
            text = "".join(w.word for w in current)
            segments.append(Segment(len(segments), current[0].start, current[-1].end, text, current))
            current = []
    return segments


def attributed_share(result: list[Segment], truth: list[tuple[float, float, int]]) -> float:
    """Share of the truth's duration whose word got the right speaker, best label-to-speaker matching."""
    predicted = {(w.start, w.end): w.speaker for s in result for w in s.words}
    names = sorted({name for name in predicted.values() if name is not None})
    confusion = np.zeros((len(names), 2))
    for start, end, speaker in truth:
        confusion[names.index(predicted[(start, end)]), speaker] += end - start
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    return float(confusion[rows, cols].sum() / confusion.sum())


@pytest.mark.slow
@needs_audio
def test_windows_cover_voiced_audio_with_absolute_times(encoder, dialogue) -> None:
    audio, turns, windows = dialogue
    assert windows
    assert all(w.embedding.shape == (256,) for w in windows)
    assert np.allclose([np.linalg.norm(w.embedding) for w in windows], 1.0, atol=1e-4)
    assert all(0 <= w.start < w.end <= len(audio) / SAMPLE_RATE for w in windows)
    assert [w.start for w in windows] == sorted(w.start for w in windows)
    # Windows stay on speech: none starts in the lead-in silence or ends in the trailing one.
    assert windows[0].start >= turns[0].start - 0.2
    assert windows[-1].end <= turns[-1].end + 0.2
    # Every chunk after the first contributes windows at its own offset.
    assert any(w.start >= CHUNK_SECONDS for w in windows)
    assert any(w.start >= 2 * CHUNK_SECONDS for w in windows)


@pytest.mark.slow
@needs_audio
def test_offset_shifts_times_only(encoder) -> None:
    audio, _ = conversation(4, seed=5)
    at_zero = list(speaker_windows(audio, 0.0, encoder))
    shifted = list(speaker_windows(audio, 3600.0, encoder))
    assert [w.start + 3600.0 for w in at_zero] == pytest.approx([w.start for w in shifted])
    assert [w.end + 3600.0 for w in at_zero] == pytest.approx([w.end for w in shifted])
    assert np.allclose(np.stack([w.embedding for w in at_zero]), np.stack([w.embedding for w in shifted]))


@pytest.mark.slow
@needs_audio
@pytest.mark.parametrize("n_speakers", [None, 2], ids=["estimated", "given"])
def test_two_speakers_attributed(dialogue, n_speakers: int | None) -> None:
    audio, turns, windows = dialogue
    labels = cluster_speakers(windows, n_speakers=n_speakers)
    assert sorted(set(labels)) == [0, 1]

    truth = pseudo_words(audio, turns)
    segments = transcript(truth)
    result = label_segments(segments, windows, labels)

    share = attributed_share(result, truth)
    print(f"two speakers, n_speakers={n_speakers}: {share:.1%} of speech time attributed correctly")
    assert share >= 0.9
    assert {s.speaker for s in result} == {"Taler 1", "Taler 2"}
    assert len(result) > len(segments)  # the ~10 s segments span turns, so some were split


@pytest.mark.slow
@needs_audio
def test_single_speaker_is_one_speaker(encoder) -> None:
    audio, _ = monologue(8)
    windows = list(stream_speaker_windows(chunks(audio), encoder))
    assert len(windows) > 20
    assert set(cluster_speakers(windows)) == {0}


@pytest.mark.slow
@needs_audio
def test_silence_gives_no_windows(encoder) -> None:
    silence = np.random.default_rng(0).normal(0.0, 1e-3, 5 * SAMPLE_RATE).astype(np.float32)
    windows = list(speaker_windows(silence, 0.0, encoder))
    assert windows == []
    assert cluster_speakers(windows) == []
    segment = Segment(0, 0.0, 5.0, " hm", [Word(1.0, 1.5, " hm", 0.5)])
    assert label_segments([segment], windows, [])[0].speaker is None


# -- clustering and labelling on synthetic embeddings (no model) --


def synthetic_windows(speakers: list[int], *, seed: int = 0, noise: float = 0.35) -> list[SpeakerWindow]:
    """One window per 0.75 s; embedding: the speaker's direction plus noise, non-negative like resemblyzer."""
    rng = np.random.default_rng(seed)
    directions = np.abs(rng.normal(size=(max(speakers) + 1, 256)))
    windows = []
    for index, speaker in enumerate(speakers):
        vector = directions[speaker] / np.linalg.norm(directions[speaker])
        vector = np.abs(vector + rng.normal(scale=noise / 16, size=256))
        windows.append(SpeakerWindow(index * 0.75, index * 0.75 + 1.5, (vector / np.linalg.norm(vector))))
    return windows


def test_cluster_counts_speakers_on_synthetic_embeddings() -> None:
    three = [0] * 30 + [1] * 20 + [2] * 25 + [0] * 10
    assert cluster_speakers(synthetic_windows(three)) == three
    assert set(cluster_speakers(synthetic_windows([0] * 60))) == {0}
    assert cluster_speakers(synthetic_windows(three), n_speakers=3) == three


def test_cluster_samples_long_meetings_and_smooths() -> None:
    truth = ([0] * 40 + [1] * 40) * 5
    windows = synthetic_windows(truth, seed=1)
    assert cluster_speakers(windows, max_windows=60) == truth  # 60 of 400 clustered, the rest by centroid
    flipped = list(windows)
    flipped[10] = dataclasses.replace(windows[10], embedding=windows[60].embedding)  # one stray window
    assert cluster_speakers(flipped, n_speakers=2) == truth
    assert cluster_speakers(flipped, n_speakers=2, smoothing=1)[10] == 1


def test_label_segments_splits_at_speaker_change() -> None:
    # Windows every 0.75 s: speaker id 1 when centred before 10 s, then id 0; none from 19.5 s to 25 s.
    windows = [SpeakerWindow(t, t + 1.5, np.zeros(256)) for t in np.arange(0.0, 18.6, 0.75)]
    windows += [SpeakerWindow(25.0, 26.5, np.zeros(256))]
    labels = [1 if (w.start + w.end) / 2 < 10.0 else 0 for w in windows[:-1]] + [1]
    words = [Word(t, t + 0.4, f" w{i}", 0.9) for i, t in enumerate(np.arange(8.0, 12.0, 0.5))]
    segments = [
        Segment(7, 8.0, 12.2, " w0 w1 w2 w3 w4 w5 w6 w7", words, avg_logprob=-0.2),
        Segment(3, 1.0, 4.0, " before", [Word(1.0, 4.0, " before", 0.9)]),
        Segment(9, 15.0, 18.0, " no words"),
        Segment(11, 21.0, 22.0, " in the gap", [Word(21.0, 22.0, " in", 0.9)]),
    ]
    original = [dataclasses.replace(s, words=[dataclasses.replace(w) for w in s.words]) for s in segments]

    result = label_segments(segments, windows, labels)

    assert segments == original  # the input is not touched
    assert [s.id for s in result] == [0, 1, 2, 3, 4]
    assert [(s.start, s.end) for s in result] == [
        (1.0, 4.0),
        (8.0, 9.9),
        (10.0, 12.2),
        (15.0, 18.0),
        (21.0, 22.0),
    ]
    assert [s.speaker for s in result] == ["Taler 1", "Taler 1", "Taler 2", "Taler 2", "Taler 2"]
    assert [s.text for s in result[1:3]] == [" w0 w1 w2 w3", " w4 w5 w6 w7"]
    assert [w.speaker for w in result[1].words] == ["Taler 1"] * 4
    assert [w.speaker for w in result[2].words] == ["Taler 2"] * 4
    assert result[2].avg_logprob == -0.2
    assert result[0].text == " before" and result[3].text == " no words"


def test_label_segments_numbers_speakers_by_first_appearance() -> None:
    windows = [SpeakerWindow(float(t), t + 1.5, np.zeros(256)) for t in range(6)]
    result = label_segments(
        [Segment(0, 0.0, 7.0, " a b", [Word(0.0, 2.5, " a", 1.0), Word(3.5, 7.0, " b", 1.0)])],
        windows,
        [5, 5, 5, 2, 2, 2],
    )
    assert [(s.speaker, s.text) for s in result] == [("Taler 1", " a"), ("Taler 2", " b")]
