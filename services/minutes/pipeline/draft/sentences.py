"""Sentences: splitting a transcript into timed, CPR-masked sentences, and cleaning one up for the draft."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.words import word_set
from services.minutes.pipeline.types import Segment, Transcript


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str  # as said, CPR-masked
    segment_id: int
    start: float
    end: float
    speaker: str | None  # the transcript's speaker label ("Taler 1")


_HESITATION = re.compile(r"(?i)(?<![\wæøå])(?:øh+m*|æh+m*|ehm+|hm+|mm+)(?![\wæøå])[,.]?\s*")
_LEADING_MARKERS = re.compile(r"(?i)^(?:(?:ja|jo|nå|okay|ok|godt|altså|jamen|nå\s+men)\s*[,.!]\s*)+")
_ABBREVIATIONS = word_set(
    "ca bl f eks fx kl nr jf mht dvs osv evt hhv inkl ekskl pct mio mia stk pkt tlf vedr iflg"
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”»)]*\s+")


def clean_sentence(text: str) -> str:
    """``text`` without hesitations ("øh") and leading discourse markers ("Ja, okay, ..."), capitalised."""
    cleaned = _HESITATION.sub("", text)
    cleaned = _LEADING_MARKERS.sub("", cleaned.strip())
    cleaned = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s+", " ", cleaned)).strip(" ,")
    return cleaned[:1].upper() + cleaned[1:]


def split_text(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text`` (a new sentence must start upper-case or with a digit)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        following = text[m.end() : m.end() + 1]
        if not following or not (following.isupper() or following.isdigit() or following in "\"'“«"):
            continue
        before = re.search(r"([\wæøå]+)[.!?…]*$", text[start : m.start() + 1])
        word = before.group(1) if before else ""
        if text[m.start()] == "." and (word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in ((a, a + len(text[a:b].rstrip())) for a, b in spans) if text[a:b].strip()]


def _span_times(segment: Segment, start_char: int, end_char: int, length: int) -> tuple[float, float]:
    """Start and end of a sentence inside a segment: from word timings when there are any (by character
    proportion, since word texts do not line up exactly with the masked segment text), else the segment's."""
    if not segment.words or length == 0:
        return segment.start, segment.end
    cumulative = np.cumsum([len(w.word) for w in segment.words])
    total = float(cumulative[-1]) or 1.0
    first = int(np.searchsorted(cumulative, start_char / length * total, side="right"))
    last = int(np.searchsorted(cumulative, max(end_char - 1, 0) / length * total, side="right"))
    first, last = min(first, len(segment.words) - 1), min(last, len(segment.words) - 1)
    return segment.words[first].start, max(segment.words[last].end, segment.words[first].start)


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """The transcript's sentences in time order, CPR-masked, each with its segment and speaker label."""
    sentences: list[Sentence] = []
    for segment in transcript.segments:
        text = mask_cpr(segment.text.strip())
        for a, b in split_text(text):
            start, end = _span_times(segment, a, b, len(text))
            sentences.append(Sentence(len(sentences), text[a:b], segment.id, start, end, segment.speaker))
    return sentences
