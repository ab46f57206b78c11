"""Agenda alignment: reading the written agenda, and assigning each turn to the item it was said under.

Meetings do not follow their agenda in order: items are taken early or late, and people go back to an earlier
item ("må jeg lige gå tilbage til punkt to"). The alignment is a Viterbi path over the states "outside the
agenda" (0: opening, small talk, closing) and each item, scored by a linear model of

- emission features of a turn and an item: its similarity to the item's title (alone and in windows of turns),
  the item named by number ("punkt tre", "næste punkt", "sidste punkt") or by its title, and, for state 0,
  greetings and small talk and the turn's place in the meeting;
- transition features of a move: staying, the next item, back to an earlier one, skipping ahead, into or out
  of state 0, each also when the turn holds a transition phrase, is said by the chair, or names the item.

The weights are learned with an averaged structured perceptron from labelled meetings (``train``) and shipped
with the draft's other weights.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from services.common.charsets import decode_unknown
from services.common.errors import InvalidInput
from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.cues import cues
from services.minutes.pipeline.draft.names import NameIndex
from services.minutes.pipeline.draft.similarity import char_vectors
from services.minutes.pipeline.draft.transitions import POINT_NUMBER, TRANSITION
from services.minutes.pipeline.draft.turns import Meeting
from services.minutes.pipeline.draft.words import NUMBER_WORDS, ORDINALS, content_tokens, is_filler


@dataclass(frozen=True)
class AgendaItem:
    number: int
    title: str


_ITEM_NUMBER = re.compile(r"(?i)^\s*(?:(?:punkt|pkt\.?)\s*(\d{1,3})\s*[.):\-–]?|(\d{1,3})\s*[.):\-–])\s*")

# "anden"/"andet" are left out on purpose: "et andet punkt" means "another point".
_ORDINALS = {word: value for word, value in ORDINALS.items() if value <= 10 and value != 2}
_ORDINAL_POINT = re.compile(r"(?i)\b(" + "|".join(_ORDINALS) + r")\s+punkt\b")
_LAST_POINT = re.compile(r"(?i)\bsidste\s+punkt\b")
_AHEAD = 8  # turns in the windows ahead of and behind a turn
_RECENT = 3  # turns after an item was announced in which the announcement still counts
_RETURN = re.compile(r"(?i)\b(?:tilbage\s+til|vende\s+tilbage|gå\s+tilbage|går\s+tilbage|apropos)\b")


def read_agenda_lines(raw: bytes) -> list[str]:
    """An agenda file: UTF-8 (or Windows-1252) text, one item per line; blank lines are skipped."""
    if b"\x00" in raw:
        raise InvalidInput("Dagsordenen skal være en tekstfil med ét punkt pr. linje (filen er binær).")
    text, _ = decode_unknown(raw)
    items = [line.strip() for line in text.splitlines() if line.strip()]
    if not items:
        raise InvalidInput("Dagsordenen er tom.")
    return items


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


@lru_cache(maxsize=65536)
def _word_match(a: str, b: str) -> float:
    """1 for the same word (up to an inflection ending), 0.5 for a shared compound part, else 0."""
    if a == b:
        return 1.0
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and long_.startswith(short) and len(long_) - len(short) <= 4:
        return 1.0
    return 0.5 if len(short) >= 5 and long_[:5] == short[:5] else 0.0


def _title_words(title: str) -> list[str]:
    return [w for w in content_tokens(title) if len(w) >= 3]


def title_mention(text: str, title: str) -> float:
    """The share of the title's content words that ``text`` mentions."""
    title_words = _title_words(title)
    words = set(content_tokens(text))
    if not title_words or not words:
        return 0.0
    return sum(max(_word_match(t, w) for w in words) for t in title_words) / len(title_words)


class _TitleMentions:
    """``title_mention`` for many turns and a few titles: each title word is matched once against the
    meeting's vocabulary, then a turn only needs set intersections."""

    def __init__(self, titles: Sequence[str], texts: Sequence[str]) -> None:
        self.titles = [_title_words(t) for t in titles]
        vocabulary = {w for text in texts for w in content_tokens(text)}
        wanted = {t for words in self.titles for t in words}
        self.full: dict[str, set[str]] = {t: set() for t in wanted}
        self.half: dict[str, set[str]] = {t: set() for t in wanted}
        for t in wanted:
            for w in vocabulary:
                score = _word_match(t, w)
                if score == 1.0:
                    self.full[t].add(w)
                elif score > 0:
                    self.half[t].add(w)

    def shares(self, text: str) -> list[float]:
        words = set(content_tokens(text))
        shares = []
        for title_words in self.titles:
            if not title_words or not words:
                shares.append(0.0)
                continue
            got = sum(
                1.0 if words & self.full[t] else 0.5 if words & self.half[t] else 0.0 for t in title_words
            )
            shares.append(got / len(title_words))
        return shares


_MARKERS = re.compile(r"(?i)^(?:(?:godt|okay|ok|så|og|ja|jo|nå|men|mm|andet|tak|fint|videre)\b[\s,.]*)+")


def _opening(text: str, names: NameIndex) -> str:
    """The first content word of a turn, names and discourse markers aside ("Godt. Så budgettet" →
    "budgettet", "Kasper, bilerne og nøglerne" → "bilerne")."""
    said = {w.lower() for v in names.variants for w in v.split()}
    words = [w for w in content_tokens(_MARKERS.sub("", text.strip())) if w not in said]
    return " ".join(words[:1])


def _item_by_number(items: Sequence[AgendaItem], number: int) -> int | None:
    return next((k for k, item in enumerate(items) if item.number == number), None)


def named_items(text: str, items: Sequence[AgendaItem]) -> dict[int, bool]:
    """Items ``text`` names by number ("punkt 3", "punkt tre", "tredje punkt", "sidste punkt"), each with
    whether it is announced (a transition phrase, or the sentence opens with it) rather than mentioned."""
    named: dict[int, bool] = {}
    transition = bool(TRANSITION.search(text))

    def add(k: int | None, at: int) -> None:
        if k is not None:
            opens = not re.sub(r"(?i)\b(?:godt|okay|ok|så|og|ja|nå|men)\b", "", text[:at]).strip(" ,.")
            named[k] = named.get(k, False) or transition or opens

    for m in POINT_NUMBER.finditer(text):
        raw = m.group(1).lower()
        add(_item_by_number(items, int(raw) if raw.isdigit() else NUMBER_WORDS[raw]), m.start())
    for m in _ORDINAL_POINT.finditer(text):
        add(_item_by_number(items, _ORDINALS[m.group(1).lower()]), m.start())
    for m in _LAST_POINT.finditer(text):
        add(len(items) - 1, m.start())
    return named


# --- the linear model ------------------------------------------------------------------------------------

EMISSION = (
    # state k ≥ 1 (an item)
    "item_bias",
    "sim_turn",
    "sim_window",
    "sim_relative",
    "sim_best",
    "sim_ahead",
    "sim_ahead_relative",
    "sim_behind",
    "named_announced",
    "named_recently",
    "named_mentioned",
    "title_mention",
    "title_announced",
    "order_distance",
    # state 0 (outside the agenda)
    "outside_bias",
    "outside_greeting",
    "outside_filler",
    "outside_overview",
    "outside_start",
    "outside_end",
    "outside_no_content",
    "outside_substantive",
)
MOVES = ("stay", "next", "first", "from_outside", "to_outside", "back", "skip")
TURN_FLAGS = ("always", "transition", "chair", "return", "greeting", "named_any")
TARGET = ("to_named_announced", "to_named_mentioned", "to_title_announced")
TRANSITION_FEATURES = tuple(f"{m}|{f}" for m in MOVES for f in TURN_FLAGS) + TARGET


@dataclass(frozen=True)
class AlignmentWeights:
    emission: tuple[float, ...]
    transition: tuple[float, ...]

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            "emission": {n: round(w, 6) for n, w in zip(EMISSION, self.emission, strict=True)},
            "transition": {n: round(w, 6) for n, w in zip(TRANSITION_FEATURES, self.transition, strict=True)},
        }

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, float]]) -> AlignmentWeights:
        return cls(
            tuple(float(data["emission"].get(n, 0.0)) for n in EMISSION),
            tuple(float(data["transition"].get(n, 0.0)) for n in TRANSITION_FEATURES),
        )


@dataclass(frozen=True)
class AlignmentFeatures:
    """Features of one meeting against one agenda: emission[i, k, f] and the turn flags and targets the
    transition features are built from (state 0 is "outside the agenda", state k the k-th item)."""

    emission: np.ndarray  # (n, K + 1, len(EMISSION))
    flags: np.ndarray  # (n, len(TURN_FLAGS))
    targets: np.ndarray  # (n, K + 1, len(TARGET))

    @property
    def states(self) -> int:
        return int(self.emission.shape[1])


def _moves(states: int) -> np.ndarray:
    """moves[prev, k, m]: which of ``MOVES`` going from state ``prev`` to ``k`` is."""
    moves = np.zeros((states, states, len(MOVES)))
    for prev in range(states):
        for k in range(states):
            if prev == k:
                name = "stay"
            elif prev == 0:
                name = "first" if k == 1 else "from_outside"
            elif k == 0:
                name = "to_outside"
            elif k == prev + 1:
                name = "next"
            elif k < prev:
                name = "back"
            else:
                name = "skip"
            moves[prev, k, MOVES.index(name)] = 1.0
    return moves


def alignment_features(meeting: Meeting, items: Sequence[AgendaItem]) -> AlignmentFeatures:
    turns = meeting.turns
    n, k_count = len(turns), len(items)
    states = k_count + 1
    emission = np.zeros((n, states, len(EMISSION)))
    flags = np.zeros((n, len(TURN_FLAGS)))
    targets = np.zeros((n, states, len(TARGET)))
    if n == 0:
        return AlignmentFeatures(emission, flags, targets)
    texts = [t.text for t in turns]
    vectors = char_vectors(texts + [item.title for item in items])
    if vectors is not None:
        turn_vectors, title_vectors = vectors[:n], vectors[n:]
        sim_turn = (turn_vectors @ title_vectors.T).toarray()
        # Windows of turns, so a short turn borrows its neighbours' subject: around it, ahead and behind.
        windows = _Windows(turn_vectors, title_vectors)
        window = windows.cosines(2, 3)
        ahead = windows.cosines(0, _AHEAD)
        behind = windows.cosines(_AHEAD - 1, 1)
    else:
        sim_turn = window = ahead = behind = np.zeros((n, k_count))
    announced_at: dict[int, int] = {}
    titles = _TitleMentions([item.title for item in items], texts)
    index = {name: j for j, name in enumerate(EMISSION)}
    for i, turn in enumerate(turns):
        text = turn.text
        found = cues(text)
        named = named_items(text, items)
        transition = bool(TRANSITION.search(text))
        mentions = titles.shares(text)
        opening = titles.shares(_opening(text, meeting.names))
        best = float(window[i].max()) if k_count else 0.0
        best_ahead = float(ahead[i].max()) if k_count else 0.0
        position = i / max(1, n - 1)
        for k, announced in named.items():
            if announced:
                announced_at[k] = i
        for k in range(k_count):
            row = emission[i, k + 1]
            row[index["item_bias"]] = 1.0
            row[index["sim_turn"]] = sim_turn[i, k]
            row[index["sim_window"]] = window[i, k]
            row[index["sim_relative"]] = window[i, k] - best
            row[index["sim_best"]] = 1.0 if best > 0 and window[i, k] == best else 0.0
            row[index["sim_ahead"]] = ahead[i, k]
            row[index["sim_ahead_relative"]] = ahead[i, k] - best_ahead
            row[index["sim_behind"]] = behind[i, k]
            if k in announced_at and 0 < i - announced_at[k] <= _RECENT:
                row[index["named_recently"]] = 1.0
            if k in named:
                row[index["named_announced" if named[k] else "named_mentioned"]] = 1.0
            row[index["title_mention"]] = mentions[k] if mentions[k] >= 0.5 else 0.0
            announced = transition or bool(named) or opening[k] >= 0.5
            if mentions[k] >= 0.5 and announced:
                row[index["title_announced"]] = mentions[k]
            row[index["order_distance"]] = -abs(position - (k + 0.5) / k_count)
            if k in named:
                targets[
                    i, k + 1, TARGET.index("to_named_announced" if named[k] else "to_named_mentioned")
                ] = 1.0
            if mentions[k] >= 0.5 and announced:
                targets[i, k + 1, TARGET.index("to_title_announced")] = mentions[k]
        outside = emission[i, 0]
        outside[index["outside_bias"]] = 1.0
        outside[index["outside_greeting"]] = 1.0 if "greeting" in found or "thanks" in found else 0.0
        outside[index["outside_filler"]] = 1.0 if is_filler(text) else 0.0
        outside[index["outside_overview"]] = (
            1.0 if sum(m >= 0.5 for m in mentions) >= 3 or len(named) >= 3 else 0.0
        )
        outside[index["outside_start"]] = max(0.0, 1.0 - position / 0.1)
        outside[index["outside_end"]] = max(0.0, 1.0 - (1.0 - position) / 0.05)
        outside[index["outside_no_content"]] = 1.0 if len(content_tokens(text)) < 3 else 0.0
        outside[index["outside_substantive"]] = (
            1.0 if len(content_tokens(text)) >= 6 and not found & {"greeting", "thanks"} else 0.0
        )
        flags[i] = [
            1.0,
            1.0 if transition else 0.0,
            1.0 if meeting.chair and turn.speaker == meeting.chair else 0.0,
            1.0 if _RETURN.search(text) else 0.0,
            1.0 if "greeting" in found else 0.0,
            1.0 if named else 0.0,
        ]
    return AlignmentFeatures(emission, flags, targets)


class _Windows:
    """Cosines of the agenda titles with sums of consecutive turns, from prefix sums of the turns' dot
    products with the titles and with each other (the turn vectors stay sparse)."""

    def __init__(self, turn_vectors: Any, title_vectors: Any) -> None:
        dots = (turn_vectors @ title_vectors.T).toarray()
        gram = (turn_vectors @ turn_vectors.T).toarray()
        self.n = dots.shape[0]
        self.dots = np.vstack([np.zeros((1, dots.shape[1])), np.cumsum(dots, axis=0)])
        self.gram = np.zeros((self.n + 1, self.n + 1))
        self.gram[1:, 1:] = gram.cumsum(axis=0).cumsum(axis=1)

    def cosines(self, before: int, after: int) -> np.ndarray:
        """Row i: each title's cosine with the sum of turns ``i - before`` … ``i + after - 1``."""
        result = np.zeros((self.n, self.dots.shape[1]))
        for i in range(self.n):
            a, b = max(0, i - before), min(self.n, i + after)
            squared = self.gram[b, b] - self.gram[a, b] - self.gram[b, a] + self.gram[a, a]
            if squared > 1e-12:
                result[i] = (self.dots[b] - self.dots[a]) / np.sqrt(squared)
        return result


def _transition_scores(features: AlignmentFeatures, weights: AlignmentWeights) -> np.ndarray:
    """scores[i, prev, k] of moving from ``prev`` to ``k`` at turn i."""
    states = features.states
    moves = _moves(states)
    w = np.asarray(weights.transition)
    per_flag = w[: len(MOVES) * len(TURN_FLAGS)].reshape(len(MOVES), len(TURN_FLAGS))
    move_weight = features.flags @ per_flag.T  # (n, moves)
    scores = np.einsum("pkm,nm->npk", moves, move_weight)
    target = features.targets @ w[len(MOVES) * len(TURN_FLAGS) :]  # (n, K + 1)
    moving = 1.0 - np.eye(states)
    return scores + target[:, None, :] * moving[None, :, :]


def viterbi(features: AlignmentFeatures, weights: AlignmentWeights) -> list[int]:
    """The best state path (0 = outside the agenda, k = item k) under ``weights``."""
    n, states = features.emission.shape[0], features.states
    if n == 0:
        return []
    emit = features.emission @ np.asarray(weights.emission)  # (n, states)
    trans = _transition_scores(features, weights)
    score = emit[0].copy()
    back = np.zeros((n, states), dtype=int)
    for i in range(1, n):
        candidates = score[:, None] + trans[i]  # (prev, k)
        back[i] = np.argmax(candidates, axis=0)
        score = candidates[back[i], np.arange(states)] + emit[i]
    path = [int(np.argmax(score))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]


def path_features(features: AlignmentFeatures, path: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The summed (emission, transition) feature vectors of a state path."""
    moves = _moves(features.states)
    emission = np.zeros(len(EMISSION))
    transition = np.zeros(len(TRANSITION_FEATURES))
    flag_count = len(MOVES) * len(TURN_FLAGS)
    for i, k in enumerate(path):
        emission += features.emission[i, k]
        if i == 0:
            continue
        prev = path[i - 1]
        transition[:flag_count] += np.outer(moves[prev, k], features.flags[i]).ravel()
        if prev != k:
            transition[flag_count:] += features.targets[i, k]
    return emission, transition


def train_alignment(
    examples: Sequence[tuple[AlignmentFeatures, Sequence[int]]], *, epochs: int = 100
) -> AlignmentWeights:
    """An averaged structured perceptron over (features, gold path) examples, visited in the given order
    (deterministic). Averaging keeps the weights from chasing the last meeting seen."""
    w_e = np.zeros(len(EMISSION))
    w_t = np.zeros(len(TRANSITION_FEATURES))
    sum_e, sum_t = np.zeros_like(w_e), np.zeros_like(w_t)
    steps = 0
    for _ in range(epochs):
        for features, gold in examples:
            predicted = viterbi(features, AlignmentWeights(tuple(w_e), tuple(w_t)))
            if list(predicted) != list(gold):
                gold_e, gold_t = path_features(features, gold)
                pred_e, pred_t = path_features(features, predicted)
                w_e += gold_e - pred_e
                w_t += gold_t - pred_t
            sum_e += w_e
            sum_t += w_t
            steps += 1
    steps = max(steps, 1)
    return AlignmentWeights(tuple(float(v) for v in sum_e / steps), tuple(float(v) for v in sum_t / steps))


def align_turns(meeting: Meeting, items: Sequence[AgendaItem], weights: AlignmentWeights) -> list[int]:
    """The state of each turn: 0 outside the agenda, k for ``items[k - 1]``."""
    if not items:
        return [0] * len(meeting.turns)
    return viterbi(alignment_features(meeting, items), weights)
