"""Agenda alignment: parsing the written agenda, and assigning each sentence to the item it was said under."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.sentences import Sentence
from services.minutes.pipeline.draft.similarity import char_vectors
from services.minutes.pipeline.draft.transitions import POINT_NUMBER, TRANSITION
from services.minutes.pipeline.draft.words import NUMBER_WORDS, content_tokens


@dataclass(frozen=True)
class AgendaItem:
    number: int
    title: str


_ITEM_NUMBER = re.compile(r"(?i)^\s*(?:(?:punkt|pkt\.?)\s*(\d{1,3})\s*[.):\-–]?|(\d{1,3})\s*[.):\-–])\s*")

# "anden"/"andet" are left out on purpose: "et andet punkt" means "another point".
_ORDINALS = {
    "første": 1,
    "tredje": 3,
    "fjerde": 4,
    "femte": 5,
    "sjette": 6,
    "syvende": 7,
    "ottende": 8,
    "niende": 9,
    "tiende": 10,
}
_ORDINAL_POINT = re.compile(r"(?i)\b(" + "|".join(_ORDINALS) + r")\s+punkt\b")
_LAST_POINT = re.compile(r"(?i)\bsidste\s+punkt\b")

# Scores of the alignment (similarities are cosines in [0, 1]).
_JUMP_COST = 0.5  # moving on to another item needs evidence
_SKIP_COST = 0.1  # per item passed over without any sentence: allowed, items may not be discussed
_GENERIC_NEXT = 1.0  # "næste punkt" without saying which: the following item
_EXPLICIT_STRONG = 2.0  # "vi går videre til punkt 3" / a sentence opening with "Punkt 3"
_EXPLICIT_WEAK = 0.6  # "punkt 3" mentioned in passing (could be a reference)
_TITLE_STRONG = 1.5  # the item's title with a transition phrase
_TITLE_WEAK = 0.3  # the title alone ("eventuelt" is also an ordinary adverb)


def parse_agenda(agenda: Iterable[str]) -> list[AgendaItem]:
    """Agenda items with leading numbers stripped. The written numbers are kept when every item has one and
    they increase (a meeting may continue another's numbering, and people say "punkt 5"), else 1..n."""
    titles, numbers = [], []
    for raw in agenda:
        m = _ITEM_NUMBER.match(raw)
        title = (raw[m.end() :] if m else raw).strip()
        if not title:
            continue
        titles.append(mask_cpr(title))
        numbers.append(int(m.group(1) or m.group(2)) if m else None)
    written = [n for n in numbers if n is not None]
    usable = len(written) == len(titles) and all(a < b for a, b in itertools.pairwise(written))
    return [AgendaItem(written[i] if usable else i + 1, t) for i, t in enumerate(titles)]


def _word_match(a: str, b: str) -> float:
    """1 for the same word (up to an inflection ending), 0.5 for a shared compound part, else 0."""
    if a == b:
        return 1.0
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and long_.startswith(short) and len(long_) - len(short) <= 4:
        return 1.0
    return 0.5 if len(short) >= 5 and long_[:5] == short[:5] else 0.0


def _title_mention(sentence: str, title: str) -> float:
    """The share of the title's content words that the sentence mentions."""
    title_words = [w for w in content_tokens(title) if len(w) >= 3]
    words = set(content_tokens(sentence))
    if not title_words or not words:
        return 0.0
    return sum(max(_word_match(t, w) for w in words) for t in title_words) / len(title_words)


def _item_by_number(items: Sequence[AgendaItem], number: int) -> int | None:
    return next((k for k, item in enumerate(items) if item.number == number), None)


def _explicit_targets(text: str, items: Sequence[AgendaItem]) -> dict[int, float]:
    """Items a sentence names as the one the meeting moves to, with the strength of the evidence."""
    targets: dict[int, float] = {}
    transition = bool(TRANSITION.search(text))

    def add(k: int | None, at: int) -> None:
        if k is None:
            return
        opens = not text[:at].strip(" ,.")
        targets[k] = max(targets.get(k, 0.0), _EXPLICIT_STRONG if transition or opens else _EXPLICIT_WEAK)

    for m in POINT_NUMBER.finditer(text):
        raw = m.group(1).lower()
        add(_item_by_number(items, int(raw) if raw.isdigit() else NUMBER_WORDS[raw]), m.start())
    for m in _ORDINAL_POINT.finditer(text):
        add(_item_by_number(items, _ORDINALS[m.group(1).lower()]), m.start())
    for m in _LAST_POINT.finditer(text):
        add(len(items) - 1, m.start())
    # A title said together with a transition phrase or an item number is strong evidence, alone it is weak.
    announced = transition or bool(targets)
    for k, item in enumerate(items):
        mention = _title_mention(text, item.title)
        if mention >= 0.5:
            weight = _TITLE_STRONG if announced else _TITLE_WEAK
            targets[k] = targets.get(k, 0.0) + weight * mention
    return targets


def assign_to_agenda(sentences: Sequence[Sentence], items: Sequence[AgendaItem]) -> list[int]:
    """The agenda item (index) of each sentence, non-decreasing in time.

    Dynamic programming (Viterbi) over sentences: each sentence scores its similarity to its item's title, and
    each move to a later item costs a little unless a transition cue backs it.
    """
    n, k_count = len(sentences), len(items)
    if n == 0 or k_count == 0:
        return []
    vectors = char_vectors([s.text for s in sentences] + [item.title for item in items])
    emission = np.zeros((n, k_count))
    if vectors is not None:
        emission = (vectors[:n] @ vectors[n:].T).toarray()
    targets = [_explicit_targets(s.text, items) for s in sentences]
    generic = [bool(TRANSITION.search(s.text)) for s in sentences]

    def enter(i: int, prev: int, k: int) -> float:
        bonus = targets[i].get(k, 0.0)
        if not targets[i] and generic[i] and k == prev + 1:
            bonus = _GENERIC_NEXT
        return bonus - _JUMP_COST - _SKIP_COST * (k - prev - 1)

    score = np.full((n, k_count), -math.inf)
    back = np.zeros((n, k_count), dtype=int)
    for k in range(k_count):
        score[0, k] = emission[0, k] + targets[0].get(k, 0.0) - _SKIP_COST * k
        back[0, k] = k
    for i in range(1, n):
        for k in range(k_count):
            best, arg = score[i - 1, k], k
            for prev in range(k):
                candidate = score[i - 1, prev] + enter(i, prev, k)
                if candidate > best:
                    best, arg = candidate, prev
            score[i, k] = best + emission[i, k]
            back[i, k] = arg
    final = [score[n - 1, k] - _SKIP_COST * (k_count - 1 - k) for k in range(k_count)]
    path = [int(np.argmax(final))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]
