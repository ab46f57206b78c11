"""Decisions: sentences that assert a decision by a Danish cue ("udvalget godkender", "blev vedtaget")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from services.minutes.pipeline.draft.clauses import NEGATIONS, clause_before, is_conditional, is_question
from services.minutes.pipeline.draft.sentences import Sentence, clean_sentence
from services.minutes.pipeline.draft.words import tokenize
from services.minutes.pipeline.types import Decision

_NON_FACTUAL = frozenset(
    {"kan", "kunne", "skal", "skulle", "vil", "ville", "bør", "burde", "må", "måtte", "måske", "muligvis"}
)
_EARLIER_MEETING = re.compile(
    r"(?i)\b(?:sidste\s+gang|sidste\s+møde|forrige\s+møde|tidligere|sidste\s+år|i\s+fjor|i\s+sidste\s+uge)\b"
)

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
    if is_question(text) or _EARLIER_MEETING.search(text):
        return None
    for cue in _DECISION_CUES:
        for m in cue.finditer(text):
            clause = clause_before(text, m.start())
            words = set(tokenize(clause + " " + m.group(0)))
            following = tokenize(text[m.end() :])[:2]
            negated_after = bool(following) and following[0] == "ikke" and following[1:2] != ["at"]
            if words & (NEGATIONS | _NON_FACTUAL) or is_conditional(clause) or negated_after:
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
