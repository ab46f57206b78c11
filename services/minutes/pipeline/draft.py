"""Minutes draft: a speaker-labelled transcript → agenda sections with summary, decisions and action items.

Everything here is extractive unless a ``Summarizer`` is passed: decisions and action items are sentences that
were actually said (found by Danish cue phrases), and summaries are the most central sentences of a section.
Work is done per sentence, so a segment that holds the end of one agenda item and the start of the next is
listed under both sections. Every piece of text that ends up in the draft has passed through ``mask_cpr``.
"""

from __future__ import annotations

import calendar
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from services.common.privacy import mask_cpr
from services.minutes.pipeline.types import (
    ActionItem,
    AgendaSection,
    Decision,
    MinutesDraft,
    Segment,
    Transcript,
)

log = logging.getLogger(__name__)

Summarizer = Callable[[str, list[str]], list[str]]
"""(item title, the item's sentences in order) → summary sentences."""

EMPTY_SECTION_SUMMARY = "Der blev ikke registreret noget under dette punkt."
SUMMARY_EXTRACTIVE = "extractive"
SUMMARY_LLM = "llm"

# --- Danish word lists -----------------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP_WORDS = _word_set(
    """
    ad af aldrig alle allerede alt altid altså anden andet andre at bare begge blev blevet blive
    bliver bør burde både cirka ca cpr da dag de dem den denne dens der deres derfor dermed derovre
    det dette dig din dine disse dog du efter egentlig eks eller en end endnu eneste er et faktisk
    fem fik fire for fordi fra fx få får gang gerne gik gjort godt gør gøre går gå ham han hans har
    havde have hej hele helt hende hendes her hermed hos hun hvad hvem hver hvert hvilke hvilken
    hvis hvor hvordan hvorfor hvornår i igen ikke ind ingen intet ja jamen jeg jer jo kan kom komme
    kommer kun kunne lad lidt lige man mange med meget men mener mere mig min mine mit mod må måske
    ned nej nemlig netop nogen noget nogle nok nu ny nye når næste nå og også ok okay om op os osv
    over punkt punktet på rigtig rigtigt samme se ser seks sidste sig sige siger sin sine sit skal
    skulle som stadig sådan så tage tager tak ti til to tre tror ud under vi vil ville virkelig var
    ved vel videre været vores vor øh øhm æh hmm mm første ting synes selv sagt sagde blot ligesom
    både kroner procent millioner
    """
)

# Words without content of their own: a sentence of only these is small talk ("Ja.", "Okay, tak.").
_FILLER_WORDS = _word_set(
    """
    ja jo nej nå okay ok godt fint tak super præcis netop klart mm hmm hm aha nemlig selvfølgelig
    jamen altså så det er rigtigt rigtig enig enige helt også for i dag sådan hej goddag godmorgen
    farvel øh øhm æh ehm skønt perfekt fedt vi ses tusind mange allesammen alle sammen
    """
)

_HESITATION = re.compile(r"(?i)(?<![\wæøå])(?:øh+m*|æh+m*|ehm+|hm+|mm+)(?![\wæøå])[,.]?\s*")
_LEADING_MARKERS = re.compile(r"(?i)^(?:(?:ja|jo|nå|okay|ok|godt|altså|jamen|nå\s+men)\s*[,.!]\s*)+")
_TOKEN = re.compile(r"[a-zæøåéü]+(?:-[a-zæøåéü]+)*")

_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_NUMBER_WORDS = {
    "en": 1,
    "et": 1,
    "ét": 1,
    "to": 2,
    "tre": 3,
    "fire": 4,
    "fem": 5,
    "seks": 6,
    "syv": 7,
    "otte": 8,
    "ni": 9,
    "ti": 10,
    "elleve": 11,
    "tolv": 12,
}
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


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def content_tokens(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in _STOP_WORDS and len(t) > 1]


def clean_sentence(text: str) -> str:
    """``text`` without hesitations ("øh") and leading discourse markers ("Ja, okay, ..."), capitalised."""
    cleaned = _HESITATION.sub("", text)
    cleaned = _LEADING_MARKERS.sub("", cleaned.strip())
    cleaned = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s+", " ", cleaned)).strip(" ,")
    return cleaned[:1].upper() + cleaned[1:]


def is_filler(text: str) -> bool:
    """True for small talk without content ("Ja.", "Okay, tak for i dag.")."""
    return all(t in _FILLER_WORDS for t in tokenize(text))


# --- Sentences -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str  # as said, CPR-masked
    segment_id: int
    start: float
    end: float
    speaker: str | None  # the transcript's speaker label ("Taler 1")


_ABBREVIATIONS = _word_set(
    "ca bl f eks fx kl nr jf mht dvs osv evt hhv inkl ekskl pct mio mia stk pkt tlf vedr iflg"
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”»)]*\s+")


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


# --- Similarity ------------------------------------------------------------------------------------------


def _content_text(text: str) -> str:
    return " ".join(content_tokens(text))


def _char_vectors(texts: Sequence[str]) -> csr_matrix | None:
    """Sparse, L2-normalised TF-IDF rows over character n-grams (they match the parts of Danish compounds);
    None when there is nothing to vectorise. Kept sparse: a long meeting has tens of thousands of n-grams."""
    docs = [_content_text(t) for t in texts]
    if not any(docs):
        return None
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    return csr_matrix(vectorizer.fit_transform(docs))


def _row_sum(vectors: csr_matrix, start: int, stop: int) -> np.ndarray:
    return np.asarray(vectors[start:stop].sum(axis=0)).ravel()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0


# --- Agenda alignment ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    number: int
    title: str


_ITEM_NUMBER = re.compile(r"(?i)^\s*(?:(?:punkt|pkt\.?)\s*(\d{1,3})\s*[.):\-–]?|(\d{1,3})\s*[.):\-–])\s*")


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


# A phrase that moves the meeting on ("næste punkt", "vi går videre til", "så kommer vi til").
_TRANSITION = re.compile(
    r"(?i)\b(?:næste\s+punkt|(?:vi|så)\s+går\s+(?:vi\s+)?videre|går\s+vi\s+videre|gå\s+videre\s+til"
    r"|så\s+kommer\s+vi\s+(?:så\s+)?til|kommer\s+vi\s+så\s+til|så\s+er\s+vi\s+(?:nået\s+)?til"
    r"|så\s+er\s+vi\s+ved\s+punkt|vi\s+er\s+nået\s+til|vi\s+tager\s+hul\s+på|så\s+tager\s+vi\s+punkt)\b"
)
_POINT_NUMBER = re.compile(
    r"(?i)\b(?:punkt|pkt\.?)\s+(?:nummer\s+|nr\.?\s+)?(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\b"
)
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
    transition = bool(_TRANSITION.search(text))

    def add(k: int | None, at: int) -> None:
        if k is None:
            return
        opens = not text[:at].strip(" ,.")
        targets[k] = max(targets.get(k, 0.0), _EXPLICIT_STRONG if transition or opens else _EXPLICIT_WEAK)

    for m in _POINT_NUMBER.finditer(text):
        raw = m.group(1).lower()
        add(_item_by_number(items, int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]), m.start())
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
    vectors = _char_vectors([s.text for s in sentences] + [item.title for item in items])
    emission = np.zeros((n, k_count))
    if vectors is not None:
        emission = (vectors[:n] @ vectors[n:].T).toarray()
    targets = [_explicit_targets(s.text, items) for s in sentences]
    generic = [bool(_TRANSITION.search(s.text)) for s in sentences]

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


# --- Topic segmentation (no agenda) ----------------------------------------------------------------------

_TOPIC_WINDOW = 4  # sentences on each side of a candidate boundary
_MIN_TOPIC_SENTENCES = 4
_MIN_TOPIC_SECONDS = 60.0
_SECONDS_PER_TOPIC = 180.0  # at most one automatic topic per three minutes
_CUE_DEPTH_BONUS = 0.5


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
    vectors = _char_vectors([s.text for s in sentences]) if n >= 2 * _MIN_TOPIC_SENTENCES else None
    if vectors is None or max_topics == 1:
        return [0] * n
    gaps = list(range(1, n))
    similarities = [
        _cosine(_row_sum(vectors, max(0, g - _TOPIC_WINDOW), g), _row_sum(vectors, g, g + _TOPIC_WINDOW))
        for g in gaps
    ]
    depths = _depth_scores(similarities)
    for j, g in enumerate(gaps):
        if _TRANSITION.search(sentences[g].text) or _POINT_NUMBER.search(sentences[g].text):
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


# Meeting procedure words: frequent in every topic, telling about none.
_KEYWORD_STOP_WORDS = _word_set(
    """
    beslutte beslutter besluttet besluttede beslutning godkende godkender godkendt godkendes vedtaget
    enige enighed forventer kigget fået sørger sende sender følger undersøger bemærkninger herfra side
    godmorgen velkommen allesammen møde mødet udvalget dagsordenen spørgsmål tænker pointe fint
    """
)
_STEM_SUFFIXES = ("ernes", "erne", "enes", "ene", "ens", "ets", "er", "en", "et", "e", "s")


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
                if len(token) < 4 or token in _FILLER_WORDS or token in _KEYWORD_STOP_WORDS:
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


# --- Clause checks shared by decisions and actions -------------------------------------------------------

_NEGATIONS = frozenset({"ikke", "aldrig", "ingen", "intet"})
_NON_FACTUAL = frozenset(
    {"kan", "kunne", "skal", "skulle", "vil", "ville", "bør", "burde", "må", "måtte", "måske", "muligvis"}
)
_CONDITIONALS = frozenset({"hvis", "såfremt", "medmindre", "ifald"})
_CLAUSE_OPENERS = frozenset({"om", "når", "inden", "før", "hvorvidt"})  # only at the start of a clause
_CONJUNCTIONS = frozenset({"og", "men", "så", "altså", "jamen", "nå"})
_EARLIER_MEETING = re.compile(
    r"(?i)\b(?:sidste\s+gang|sidste\s+møde|forrige\s+møde|tidligere|sidste\s+år|i\s+fjor|i\s+sidste\s+uge)\b"
)


def _clause_before(text: str, position: int) -> str:
    """The part of the clause that precedes ``position`` (clauses end at , ; : and dashes)."""
    head = text[:position]
    cut = max(head.rfind(c) for c in ",;:–")
    return head[cut + 1 :]


_QUESTION_OPENERS = _word_set("er var har skal kan vil bør må gider kunne")


def _is_question(text: str) -> bool:
    """A question: ends in "?", or opens with a finite verb (Danish yes/no questions do)."""
    if text.rstrip().endswith("?"):
        return True
    words = tokenize(clean_sentence(text))
    return bool(words) and words[0] in _QUESTION_OPENERS


def _is_conditional(clause: str) -> bool:
    words = tokenize(clause)
    while words and words[0] in _CONJUNCTIONS:
        words = words[1:]
    return bool(_CONDITIONALS & set(words)) or (bool(words) and words[0] in _CLAUSE_OPENERS)


# --- Decisions -------------------------------------------------------------------------------------------

_DECISION_CUES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bbesluttede\b",
        r"\b(?:er|blev|bliver|har|havde|var)\s+(?:\S+\s+){0,2}?"
        r"(?:besluttet|godkendt|vedtaget|udsat|afvist|forkastet|tiltrådt)\b",
        r"\b(?:vi|udvalget|bestyrelsen|mødet)\s+(?:\S+\s+)?(?:beslutter|godkender|vedtager|udsætter|tiltræder)\b",
        r"\b(?:beslutter|godkender|vedtager|udsætter|tiltræder)\s+(?:vi|udvalget|bestyrelsen)\b",
        r"\bbeslutning\s*:",
        r"\bbeslutningen\s+(?:er|blev)\b",
        r"\b(?:godkendes|vedtages|udsættes|afvises|tiltrædes|besluttes)\b",
        r"\btiltrådte\s+indstillingen\b",
        r"\bvedtog\b",
        r"\b(?:vi|udvalget|bestyrelsen)\s+godkendte\b",
        r"\bgodkendte\s+(?:vi|udvalget|bestyrelsen)\b",
        r"\b(?:der\s+var|der\s+er|var\s+der|er\s+der|der\s+blev)\s+(?:\S+\s+)?enighed\s+om\b",
        r"\b(?:vi\s+er|er\s+vi|vi\s+var|var\s+vi|vi\s+blev|blev\s+vi)\s+(?:\S+\s+)?enige\s+om\b",
        r"\b(?:taget|tages|tager\s+\S+(?:\s+\S+)?)\s+til\s+efterretning\b",
    )
]


def _decision_cue(text: str) -> re.Match[str] | None:
    """The first decision cue in ``text`` that is asserted: not asked, not conditional or modal, not
    negated, not about an earlier meeting ("hvis vi beslutter", "vi kan ikke", "sidste gang besluttede")."""
    if _is_question(text) or _EARLIER_MEETING.search(text):
        return None
    for cue in _DECISION_CUES:
        for m in cue.finditer(text):
            clause = _clause_before(text, m.start())
            words = set(tokenize(clause + " " + m.group(0)))
            following = tokenize(text[m.end() :])[:2]
            negated_after = bool(following) and following[0] == "ikke" and following[1:2] != ["at"]
            if words & (_NEGATIONS | _NON_FACTUAL) or _is_conditional(clause) or negated_after:
                continue
            return m
    return None


def find_decisions(
    sentences: Iterable[Sentence], speaker_name: Callable[[str | None], str | None]
) -> list[Decision]:
    return [
        Decision(text=clean_sentence(s.text), start=s.start, speaker=speaker_name(s.speaker))
        for s in sentences
        if _decision_cue(s.text)
    ]


# --- Deadlines -------------------------------------------------------------------------------------------

_MONTH_ALT = "|".join(_MONTHS)
_WEEKDAY_ALT = "|".join(_WEEKDAYS)
_DEADLINE_PREP = r"(?:(?:senest|inden|før|til|på)\s+)"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"


@dataclass(frozen=True)
class Deadline:
    start: int
    end: int
    phrase: str  # as said
    value: str  # ISO date when resolvable, else the phrase


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _future_date(meeting: date | None, month: int, day: int, year: int | None) -> date | None:
    """A day and month said at a meeting: this year, or next year when that day has passed."""
    if year is not None:
        return _safe_date(year, month, day)
    if meeting is None:
        return None
    candidate = _safe_date(meeting.year, month, day)
    if candidate is not None and candidate < meeting:
        candidate = _safe_date(meeting.year + 1, month, day)
    return candidate


def _resolve_deadline(groups: dict[str, str], meeting: date | None) -> date | None:
    """The date a deadline's named groups denote, when the meeting date (or a said year) pins it down."""
    if "month_name" in groups:
        year = int(groups["year"]) if "year" in groups else None
        month = _MONTHS.index(groups["month_name"].lower()) + 1
        return _future_date(meeting, month, int(groups["day"]), year)
    if "month_num" in groups:
        year = int(groups["year"]) if "year" in groups else None
        if year is not None and year < 100:
            year += 2000
        return _future_date(meeting, int(groups["month_num"]), int(groups["day"]), year)
    if meeting is None:
        return None
    if "tomorrow" in groups:
        return meeting + timedelta(days=2 if groups["tomorrow"].lower().startswith("over") else 1)
    if "today" in groups:
        return meeting
    if "weekday" in groups:
        if "next" in groups:
            return None  # "næste fredag" is this or next week's Friday, depending on who says it
        target = _WEEKDAYS.index(groups["weekday"].lower())
        ahead = (target - meeting.weekday()) % 7 or 7
        if "next_week" in groups:
            ahead = 7 - meeting.weekday() + target
        return meeting + timedelta(days=ahead)
    if "month_end" in groups:
        return meeting.replace(day=calendar.monthrange(meeting.year, meeting.month)[1])
    if "year_end" in groups:
        return date(meeting.year, 12, 31)
    if "weeks" in groups:
        raw = groups["weeks"].lower()
        count = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, 0)
        return meeting + timedelta(weeks=count) if count else None
    return None


_DEADLINE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b" + _DEADLINE_PREP + r"*(?:den\s+|d\.\s*)?(?P<day>" + _DAY + r")\.?\s*"
        r"(?P<month_name>" + _MONTH_ALT + r")(?:\s+(?P<year>\d{4}))?\b",
        r"\b" + _DEADLINE_PREP + r"+(?:den\s+|d\.\s*)?(?P<day>" + _DAY + r")[./](?P<month_num>0?[1-9]|1[0-2])"
        r"(?:[./](?P<year>\d{2,4}))?\b",
        r"(?:(?:senest|inden)\s+)?\bi\s+(?P<tomorrow>(?:over)?morgen)\b",
        r"\b(?:senest|inden|allerede)\s+(?P<today>i\s+dag)\b|\b(?P<today2>senere\s+i\s+dag|i\s+løbet\s+af\s+dagen)\b",
        r"\b" + _DEADLINE_PREP + r"?(?P<next>næste\s+)?(?P<weekday>" + _WEEKDAY_ALT + r")"
        r"(?P<next_week>\s+i\s+næste\s+uge)?\b",
        r"\b(?:(?:senest|inden|til|i)\s+)?uge\s+\d{1,2}\b",
        r"\b(?:inden|før|ved|til|senest\s+ved)\s+(?:udgangen\s+af\s+(?:(?P<month_end>måneden)|(?P<year_end>året))"
        r"|(?P<month_end2>månedens\s+udgang))",
        r"\b(?:(?:til|på|inden|før)\s+)(?:det\s+)?næste\s+møde\b",
        r"\b(?:om|inden\s+for)\s+(?P<weeks>en|to|tre|fire|\d{1,2})\s+uger?\b",
        r"\bi\s+(?:næste|denne)\s+uge\b",
        r"\b(?:inden|før|til)\s+(?:jul(?:en)?|nytår|påske(?:n)?|sommerferien|efterårsferien|vinterferien"
        r"|weekenden)\b",
    )
]


def find_deadline(text: str, meeting_date: date | None) -> Deadline | None:
    """The first deadline expression in ``text``: an ISO date when it can be resolved against the meeting
    date, else the phrase as said ("til næste møde", "i uge 48")."""
    found: list[tuple[int, int, re.Match[str]]] = []
    for pattern in _DEADLINE_PATTERNS:
        for m in pattern.finditer(text):
            found.append((m.start(), -(m.end() - m.start()), m))
    if not found:
        return None
    m = min(found, key=lambda f: (f[0], f[1]))[2]
    # Alternatives of one meaning share a name up to a "2" suffix ("today"/"today2").
    groups = {k.rstrip("2"): v for k, v in m.groupdict().items() if v is not None}
    resolved = _resolve_deadline(groups, meeting_date)
    phrase = m.group(0).strip()
    return Deadline(m.start(), m.end(), phrase, resolved.isoformat() if resolved else phrase)


# --- Action items ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameIndex:
    """Participant names and the variants people say (the full name, a unique first name)."""

    variants: dict[str, str]  # as said → full name

    @classmethod
    def build(cls, names: Iterable[str]) -> NameIndex:
        full_names: list[str] = []
        for raw in names:
            # Drop roles: "Mette Hansen (formand)", "Mette Hansen, formand".
            name = re.sub(r"\s*\(.*?\)", "", raw).split(",")[0].strip()
            real = bool(re.search(r"[A-Za-zÆØÅæøå]", name)) and not re.fullmatch(r"(?i)taler\s*\d+", name)
            if real and name not in full_names:
                full_names.append(name)
        first_names = Counter(name.split()[0] for name in full_names)
        variants = {name: name for name in full_names}
        for name in full_names:
            first = name.split()[0]
            if first_names[first] == 1 and len(first) >= 2:
                variants.setdefault(first, name)
        return cls(variants)

    def alternation(self) -> str | None:
        """A case-sensitive regex alternation of the variants, longest first (None when there are none)."""
        if not self.variants:
            return None
        escaped = (re.escape(v) for v in sorted(self.variants, key=len, reverse=True))
        return "(?-i:" + "|".join(escaped) + ")"

    def first_in(self, text: str) -> str | None:
        """The full name of the first participant mentioned in ``text``."""
        alternation = self.alternation()
        if alternation is None:
            return None
        m = re.search(rf"(?<![\wæøåÆØÅ]){alternation}(?![\wæøåÆØÅ])", text)
        return self.variants[m.group(0)] if m else None


@dataclass(frozen=True)
class _Verb:
    finite: str
    infinitive: str
    particle: str = ""
    any_subject: bool = True  # False: only a named person, "jeg" or "du" (the verb is too common otherwise)
    task_follows: bool = False  # "sørger for (at) X": the task is X itself


_ACTION_VERBS = (
    _Verb("sørger", "sørge", "for", task_follows=True),
    _Verb("følger", "følge", "op"),
    _Verb("tager", "tage", "kontakt"),
    _Verb("kontakter", "kontakte"),
    _Verb("undersøger", "undersøge"),
    _Verb("sender", "sende"),
    _Verb("udarbejder", "udarbejde"),
    _Verb("indkalder", "indkalde"),
    _Verb("giver", "give", "besked"),
    _Verb("vender", "vende", "tilbage"),
    _Verb("melder", "melde", "tilbage"),
    _Verb("afklarer", "afklare"),
    _Verb("laver", "lave", any_subject=False),
    _Verb("skriver", "skrive", any_subject=False),
    _Verb("tjekker", "tjekke", any_subject=False),
    _Verb("ringer", "ringe", any_subject=False),
    _Verb("booker", "booke", any_subject=False),
    _Verb("opdaterer", "opdatere", any_subject=False),
    _Verb("forbereder", "forberede", any_subject=False),
    _Verb("finder", "finde", "ud af", any_subject=False),
)
_ADVERBS = (
    r"(?:\s+(?:skal|vil|kan|nok|godt|lige|så|også|gerne|bare|selv|straks|hurtigt|derefter|efterfølgende))*"
)
_ORGANISATION = r"[\wæøå]*(?:forvaltning|afdeling|sekretariat|administration)(?:en|et)"
_LABEL = re.compile(r"(?i)^\s*(?:opfølgning|handling|opgave|aftale)\s*:\s*(?P<rest>.+)$")
_RESPONSIBLE = re.compile(r"(?i)\bansvarlig\s*:\s*(?P<rest>.*)$")
_ACCEPT = re.compile(
    r"(?i)\b(?:(?:det|den)\s+(?:gør|tager|klarer|ordner)\s+jeg|jeg\s+(?:tager|klarer|ordner)\s+(?:den|det)"
    r"|det\s+kan\s+jeg\s+(?:godt\s+)?(?:gøre|tage|klare|ordne))\b"
)
_WE_NEED = re.compile(r"(?i)\bvi\s+skal(?:\s+(?:lige|også|helst|gerne|altså))*\s+have\s+\S.*$")
_PRONOUN_TASK = frozenset({"", "det", "den", "det her", "den her", "dem"})


@dataclass(frozen=True)
class _ActionContext:
    names: NameIndex
    speaker_name: Callable[[str | None], str | None]
    meeting_date: date | None
    patterns: tuple[tuple[_Verb, re.Pattern[str]], ...]
    requests: tuple[re.Pattern[str], ...]


def _action_context(
    names: NameIndex, speaker_name: Callable[[str | None], str | None], meeting_date: date | None
) -> _ActionContext:
    alternation = names.alternation()
    subject = rf"(?P<subj>{alternation + '|' if alternation else ''}jeg|vi|du|{_ORGANISATION})"
    patterns = []
    for verb in _ACTION_VERBS:
        particle = rf"\s+{verb.particle}" if verb.particle else ""
        forms = rf"(?:{verb.finite}|{verb.infinitive})"
        for shape in (
            rf"\b{subject}(?P<adv>{_ADVERBS})\s+{forms}{particle}\b(?P<rest>.*)$",  # "Lars sørger for"
            rf"\b{verb.finite}\s+{subject}(?P<adv>{_ADVERBS}){particle}\b(?P<rest>.*)$",  # "så sender jeg"
            rf"\b(?:skal|vil|kan)\s+{subject}(?P<adv>{_ADVERBS})\s+{verb.infinitive}{particle}\b(?P<rest>.*)$",
        ):
            patterns.append((verb, re.compile(shape, re.IGNORECASE)))
    addressee = rf"(?:du|nogen|man|{alternation})" if alternation else r"(?:du|nogen|man)"
    requests = (
        # "Anne, kan du (ikke lige) undersøge ...?"
        re.compile(
            rf"(?i)\b(?:kan|vil|gider|kunne)\s+{addressee}"
            r"(?:\s+(?:ikke|lige|også|godt|så|eventuelt|måske))*\s+(?P<what>[^?]+)"
        ),
        # "Er der nogen, der vil booke lokalet?"
        re.compile(
            r"(?i)\bnogen,?\s+(?:der|som)\s+(?:kan|vil|gider)(?:\s+(?:lige|godt|gerne))*\s+(?P<what>[^?]+)"
        ),
    )
    return _ActionContext(names, speaker_name, meeting_date, tuple(patterns), requests)


def _tidy_task(task: str, deadline: Deadline | None) -> str:
    """The task phrase without its deadline and stray punctuation, capitalised."""
    if deadline is not None:
        task = task.replace(deadline.phrase, " ", 1)
    task = re.sub(r"\s+", " ", task).strip(" ,.;:!")
    task = re.sub(r"(?i)(?:,?\s+(?:og|så|men))+$", "", task).strip(" ,.;:")
    task = re.sub(r"\s+([,.])", r"\1", task)
    return task[:1].upper() + task[1:]


def _vocative(text: str, names: NameIndex) -> str | None:
    """The person addressed at the start of a sentence ("Peter, du sender ...")."""
    head = text.split(",", 1)[0].strip()
    return names.variants.get(head) if "," in text else None


def _antecedent_task(
    sentence: Sentence, previous: Sequence[Sentence], previous_was_action: bool, ctx: _ActionContext
) -> str | None:
    """The task that "det tager jeg" takes on: the task asked for in a preceding question ("Anne, kan du
    undersøge ...?"), else the sentence just before from someone else, unless that was an action item itself
    (then "det gør jeg" only acknowledges it)."""
    for earlier in reversed(previous[-3:]):
        if not _is_question(earlier.text):
            continue
        for request in ctx.requests:
            if m := request.search(earlier.text):
                return m.group("what")
    if not previous or previous_was_action:
        return None
    last = previous[-1]
    if last.speaker == sentence.speaker or _is_question(last.text) or not _summary_candidate(last.text):
        return None
    return last.text


def _who(subject: str, sentence: Sentence, ctx: _ActionContext) -> str | None:
    if subject in ctx.names.variants:
        return ctx.names.variants[subject]
    if subject.lower() == "jeg":
        return ctx.speaker_name(sentence.speaker)
    if subject.lower() == "du":
        return _vocative(sentence.text, ctx.names)
    return None


def _verb_action(sentence: Sentence, ctx: _ActionContext) -> tuple[str | None, str] | None:
    """(who, task) from the earliest asserted action-verb phrase ("Lars sørger for at sende ...")."""
    text = sentence.text
    found = []
    for verb, pattern in ctx.patterns:
        m = pattern.search(text)
        if m is None:
            continue
        subject = m.group("subj")
        named = subject in ctx.names.variants or subject.lower() in {"jeg", "du"}
        negated = bool(set(tokenize(m.group("rest"))[:2]) & _NEGATIONS)
        if (
            negated
            or (not verb.any_subject and not named)
            or _is_conditional(_clause_before(text, m.start()))
        ):
            continue
        rest = m.group("rest").strip(" ,")
        if verb.task_follows:
            rest = re.sub(r"(?i)^at\s+", "", rest)
            task = rest
        else:
            task = " ".join(p for p in (verb.infinitive, verb.particle, rest) if p)
        if rest.strip(" .!").lower() in _PRONOUN_TASK:
            task = ""  # "det sørger jeg for": the task was said before
        found.append((m.start(), _who(subject, sentence, ctx), task))
    if not found:
        return None
    _, who, task = min(found, key=lambda f: f[0])
    return who, task


def _action_in(
    sentence: Sentence, previous: Sequence[Sentence], previous_was_action: bool, ctx: _ActionContext
) -> ActionItem | None:
    """The action item a sentence states, if any; its task, owner and deadline all come from what was said."""
    text = sentence.text
    if _is_question(text):
        return None
    deadline = find_deadline(text, ctx.meeting_date)
    who: str | None = None
    task: str | None = None
    if m := _LABEL.match(text):
        # "Opfølgning: Anne indkalder ..." reads like any other action once the label is gone.
        labelled = _verb_action(replace(sentence, text=m.group("rest")), ctx)
        who, task = labelled or (ctx.names.first_in(m.group("rest")), m.group("rest"))
    elif m := _RESPONSIBLE.search(text):
        who = ctx.names.first_in(m.group("rest"))
        before = text[: m.start()].strip(" ,.")
        task = before if len(content_tokens(before)) >= 2 else (previous[-1].text if previous else None)
    elif verb_action := _verb_action(sentence, ctx):
        who, task = verb_action
    elif (m := _ACCEPT.search(text)) and "ikke" not in tokenize(text[m.end() :])[:1]:
        who, task = ctx.speaker_name(sentence.speaker), ""
    elif (m := _WE_NEED.search(text)) and deadline is not None and deadline.start >= m.start():
        task = m.group(0)
    else:
        return None
    if not task:
        task = _antecedent_task(sentence, previous, previous_was_action, ctx)
        if task is None:
            return None
        if deadline is None:
            deadline = find_deadline(task, ctx.meeting_date)
    task = _tidy_task(clean_sentence(task), deadline)
    if not task:
        return None
    return ActionItem(
        what=mask_cpr(task),
        who=mask_cpr(who) if who else None,
        deadline=mask_cpr(deadline.value) if deadline else None,
        start=sentence.start,
        speaker=ctx.speaker_name(sentence.speaker),
    )


def find_actions(sentences: Sequence[Sentence], ctx: _ActionContext) -> list[ActionItem]:
    actions: list[ActionItem] = []
    previous_was_action = False
    for i, sentence in enumerate(sentences):
        action = _action_in(sentence, sentences[max(0, i - 3) : i], previous_was_action, ctx)
        if action is not None:
            actions.append(action)
        previous_was_action = action is not None
    return actions


# --- Summaries -------------------------------------------------------------------------------------------


def _summary_candidate(text: str) -> bool:
    return not is_filler(text) and len(content_tokens(text)) >= 3


def extractive_summary(sentences: Sequence[Sentence], max_sentences: int = 3) -> list[str]:
    """The 1-3 most central sentences (closest to the section's TF-IDF centroid), in the order said.
    Questions and "næste punkt" sentences are only used when nothing else is there."""
    candidates = [s for s in sentences if _summary_candidate(s.text)]
    preferred = [s for s in candidates if not _TRANSITION.search(s.text) and not _is_question(s.text)]
    pool = preferred or candidates
    if not pool:
        return []
    count = min(max_sentences, 1 if len(pool) <= 3 else 2 if len(pool) <= 8 else 3)
    sparse = _char_vectors([s.text for s in pool])
    if sparse is None:
        return [clean_sentence(pool[0].text)]
    vectors = sparse.toarray()  # one section: small
    centroid = vectors.mean(axis=0)
    # Short sentences are rarely a summary, however central their few words are.
    scores = [
        _cosine(v, centroid) * min(1.0, len(content_tokens(s.text)) / 6)
        for v, s in zip(vectors, pool, strict=True)
    ]
    chosen = sorted(sorted(range(len(pool)), key=lambda i: -scores[i])[:count])
    return [clean_sentence(pool[i].text) for i in chosen]


class ChatClient(Protocol):
    def chat(self, messages: list[dict[str, str]]) -> str: ...


_LLM_SYSTEM_PROMPT = (
    "Du skriver udkast til referater for en dansk kommune. Du får ét dagsordenspunkt og de sætninger, "
    "der blev sagt under punktet, i rækkefølge. Skriv et kort, sagligt resumé på dansk på højst tre "
    "sætninger. Brug KUN oplysninger, der står i sætningerne: tilføj intet, gæt ikke, og skriv ikke "
    "beslutninger eller opgaver, som ikke står der. Gengiv aldrig personnumre. Skriv hver sætning på sin "
    "egen linje, uden punkttegn og uden nummerering."
)


def _summary_lines(reply: str, max_sentences: int) -> list[str]:
    """The sentences of an LLM reply, without bullets or numbering."""
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip() for line in reply.splitlines()]
    sentences = [line[a:b].strip() for line in lines if line for a, b in split_text(line)]
    return [s for s in sentences if s][:max_sentences]


def llm_summarizer(client: ChatClient, *, max_sentences: int = 3) -> Summarizer:
    """A ``Summarizer`` that asks an OpenAI-compatible chat model (``services.common.llm.LlmClient``) for a
    short Danish summary built only from the given sentences; raises ``ValueError`` on an empty answer."""

    def summarize(title: str, sentences: list[str]) -> list[str]:
        listing = "\n".join(f"- {s}" for s in sentences)
        messages = [
            {"role": "system", "content": _LLM_SYSTEM_PROMPT},
            {"role": "user", "content": f"Dagsordenspunkt: {title}\n\nSætninger:\n{listing}"},
        ]
        summary = _summary_lines(client.chat(messages), max_sentences)
        if not summary:
            raise ValueError("the language model gave no summary")
        return summary

    return summarize


def _summaries(
    titles: Sequence[str], groups: Sequence[Sequence[Sentence]], summarizer: Summarizer | None
) -> tuple[list[list[str]], str]:
    """Each section's summary and where the summaries came from ("llm" only when every call succeeded)."""
    extractive = [extractive_summary(g) or [EMPTY_SECTION_SUMMARY] for g in groups]
    if summarizer is None:
        return extractive, SUMMARY_EXTRACTIVE
    generated, used = [], False
    try:
        for title, group in zip(titles, groups, strict=True):
            inputs = [clean_sentence(s.text) for s in group if not is_filler(s.text)]
            if not inputs:
                generated.append([EMPTY_SECTION_SUMMARY])
                continue
            summary = [mask_cpr(line.strip()) for line in summarizer(title, inputs) if line.strip()]
            if not summary:
                raise ValueError("empty summary")
            generated.append(summary)
            used = True
    except Exception as exc:  # any failure of the optional LLM path falls back to the extractive summary
        # The type only: messages of arbitrary exceptions may quote the transcript.
        log.warning("LLM summary failed (%s); using the extractive summary", type(exc).__name__)
        return extractive, SUMMARY_EXTRACTIVE
    return (generated, SUMMARY_LLM) if used else (extractive, SUMMARY_EXTRACTIVE)


# --- The draft -------------------------------------------------------------------------------------------


def _segment_ids(transcript: Transcript, groups: Sequence[Sequence[Sentence]]) -> list[list[int]]:
    """The segments of each section in time order; a segment without text goes with the one before it."""
    sections_of: dict[int, list[int]] = {}
    for label, group in enumerate(groups):
        for sentence in group:
            labels = sections_of.setdefault(sentence.segment_id, [])
            if label not in labels:
                labels.append(label)
    ids: list[list[int]] = [[] for _ in groups]
    current = [0]
    for segment in transcript.segments:
        current = sections_of.get(segment.id, current[-1:])
        for label in current:
            ids[label].append(segment.id)
    return ids


def _times(groups: Sequence[Sequence[Sentence]]) -> list[tuple[float, float]]:
    """Start and end of each section. An empty section is zero-length where the previous one ended (or, the
    first, where the next one starts)."""
    times: list[tuple[float, float]] = []
    for i, group in enumerate(groups):
        if group:
            times.append((min(s.start for s in group), max(s.end for s in group)))
        elif times:
            times.append((times[-1][1], times[-1][1]))
        else:
            following = next((g for g in groups[i + 1 :] if g), None)
            at = following[0].start if following else 0.0
            times.append((at, at))
    return times


def _duration(transcript: Transcript) -> float:
    ends = [s.end for s in transcript.segments]
    return max([transcript.duration, *ends])


def build_minutes_draft(
    transcript: Transcript,
    *,
    title: str,
    meeting_date: date | None,
    participants: list[str],
    agenda: list[str] | None,
    summarizer: Summarizer | None = None,
) -> MinutesDraft:
    """A minutes draft: one section per agenda item (or per automatically found topic when there is no
    agenda), each with a short summary and the decisions and action items said under it."""
    sentences = split_sentences(transcript)
    items = parse_agenda(agenda or [])
    if items:
        labels = assign_to_agenda(sentences, items)
        groups: list[list[Sentence]] = [[] for _ in items]
    else:
        labels = segment_topics(sentences, _duration(transcript))
        groups = [[] for _ in range(max(labels, default=0) + 1)]
    for sentence, label in zip(sentences, labels, strict=True):
        groups[label].append(sentence)
    if items:
        headers = [(item.number, item.title) for item in items]
    else:
        keywords = topic_keywords(groups)
        headers = [(i + 1, mask_cpr(topic_title(i + 1, kw))) for i, kw in enumerate(keywords)]

    def speaker_name(label: str | None) -> str | None:
        return mask_cpr(transcript.speaker_name(label)) or None

    names = NameIndex.build([*participants, *transcript.speakers.values()])
    ctx = _action_context(names, speaker_name, meeting_date)
    summaries, source = _summaries([t for _, t in headers], groups, summarizer)
    segment_ids = _segment_ids(transcript, groups)
    sections = [
        AgendaSection(
            number=number,
            title=section_title,
            start=start,
            end=end,
            segment_ids=ids,
            summary=summary,
            decisions=find_decisions(group, speaker_name),
            actions=find_actions(group, ctx),
        )
        for (number, section_title), group, (start, end), ids, summary in zip(
            headers, groups, _times(groups), segment_ids, summaries, strict=True
        )
    ]
    return MinutesDraft(
        title=mask_cpr(title),
        meeting_date=meeting_date,
        participants=[mask_cpr(p) for p in participants],
        sections=sections,
        summary_source=source,
    )
