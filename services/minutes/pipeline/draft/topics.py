"""Topics for a meeting without an agenda: TextTiling segmentation, distinctive keywords, section titles."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from services.minutes.pipeline.draft.sentences import Sentence
from services.minutes.pipeline.draft.similarity import char_vectors, cosine, row_sum
from services.minutes.pipeline.draft.transitions import POINT_NUMBER, TRANSITION
from services.minutes.pipeline.draft.words import FILLER_WORDS, content_tokens, word_set

_TOPIC_WINDOW = 4  # sentences on each side of a candidate boundary
_MIN_TOPIC_SENTENCES = 4
_MIN_TOPIC_SECONDS = 60.0
_SECONDS_PER_TOPIC = 180.0  # at most one automatic topic per three minutes
_CUE_DEPTH_BONUS = 0.5

# Meeting procedure words: frequent in every topic, telling about none.
_KEYWORD_STOP_WORDS = word_set(
    """
    beslutte beslutter besluttet besluttede beslutning godkende godkender godkendt godkendes vedtaget
    enige enighed forventer kigget fået sørger sende sender følger undersøger bemærkninger herfra side
    godmorgen velkommen allesammen møde mødet udvalget dagsordenen spørgsmål tænker pointe fint
    """
)
_STEM_SUFFIXES = ("ernes", "erne", "enes", "ene", "ens", "ets", "er", "en", "et", "e", "s")


def _depth_scores(similarities: Sequence[float]) -> list[float]:
    """TextTiling depth: how far each gap's similarity lies below the peaks on either side."""
    depths = []
    for g, value in enumerate(similarities):
        left = value
        for v in reversed(similarities[:g]):
            if v < left:
                break
            left = v
        right = value
        for v in similarities[g + 1 :]:
            if v < right:
                break
            right = v
        depths.append((left - value) + (right - value))
    return depths


def segment_topics(sentences: Sequence[Sentence], duration: float) -> list[int]:
    """A topic index per sentence (TextTiling: cut where adjacent windows are least alike, or at
    "næste punkt"), with at most one topic per ``_SECONDS_PER_TOPIC`` and none shorter than a minute."""
    n = len(sentences)
    max_topics = max(1, int(duration // _SECONDS_PER_TOPIC))
    vectors = char_vectors([s.text for s in sentences]) if n >= 2 * _MIN_TOPIC_SENTENCES else None
    if vectors is None or max_topics == 1:
        return [0] * n
    gaps = list(range(1, n))
    similarities = [
        cosine(row_sum(vectors, max(0, g - _TOPIC_WINDOW), g), row_sum(vectors, g, g + _TOPIC_WINDOW))
        for g in gaps
    ]
    depths = _depth_scores(similarities)
    for j, g in enumerate(gaps):
        if TRANSITION.search(sentences[g].text) or POINT_NUMBER.search(sentences[g].text):
            depths[j] += _CUE_DEPTH_BONUS
    # Hearst's cut-off, made stricter: a valley must also be at least half as deep as the deepest one.
    threshold = max(float(np.mean(depths) + 0.5 * np.std(depths)), 0.5 * max(depths))
    cuts: list[int] = []
    for j in sorted(range(len(gaps)), key=lambda j: -depths[j]):
        if len(cuts) + 1 >= max_topics or depths[j] <= max(threshold, 0.0):
            break
        trial = sorted([*cuts, gaps[j]])
        bounds = list(zip([0, *trial], [*trial, n], strict=True))
        if all(
            b - a >= _MIN_TOPIC_SENTENCES and sentences[b - 1].end - sentences[a].start >= _MIN_TOPIC_SECONDS
            for a, b in bounds
        ):
            cuts = trial
    labels, topic = [], 0
    for i in range(n):
        if topic < len(cuts) and i >= cuts[topic]:
            topic += 1
        labels.append(topic)
    return labels


def _stem(word: str) -> str:
    """A crude Danish stem, only used to group inflections of one keyword ("skolen", "skolerne")."""
    for suffix in _STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if len(word) >= 5 and word[-1] == word[-2] and word[-1] not in "aeiouyæøå":
        word = word[:-1]  # "budgett(et)" → "budget"
    return word


def topic_keywords(groups: Sequence[Sequence[Sentence]], per_topic: int = 2) -> list[list[str]]:
    """The most distinctive content words of each group (TF-IDF with the groups as documents)."""
    counts, surfaces = [], []
    for group in groups:
        stems: Counter[str] = Counter()
        forms: dict[str, Counter[str]] = {}
        for sentence in group:
            for token in content_tokens(sentence.text):
                if len(token) < 4 or token in FILLER_WORDS or token in _KEYWORD_STOP_WORDS:
                    continue
                stem = _stem(token)
                stems[stem] += 1
                forms.setdefault(stem, Counter())[token] += 1
        counts.append(stems)
        surfaces.append(forms)
    document_frequency = Counter(stem for stems in counts for stem in stems)
    keywords = []
    for stems, forms in zip(counts, surfaces, strict=True):
        idf = {s: math.log((1 + len(groups)) / (1 + document_frequency[s])) + 1 for s in stems}
        ranked = sorted(stems, key=lambda s: (-stems[s] * idf[s], s))
        keywords.append([min(forms[s], key=lambda f: (-forms[s][f], len(f), f)) for s in ranked[:per_topic]])
    return keywords


def topic_title(number: int, keywords: Sequence[str]) -> str:
    label = f"Emne {number} (automatisk)"
    return f"{label}: {', '.join(keywords)}" if keywords else label
