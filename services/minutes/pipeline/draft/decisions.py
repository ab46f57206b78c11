"""Decisions: what the meeting settled, for the turns the decision classifier picked.

A decision is rarely announced as one: a discussion is closed ("så gør vi det", "det er vi enige om",
"vedtaget med tre stemmer mod to"), and what was decided is the proposal said before. The text is therefore
the turn's own content when it states the outcome ("Så udsætter vi punktet til næste møde"), else the latest
proposal in the turns before it under the same item, with a vote's result when one was said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.cues import cues
from services.minutes.pipeline.draft.sentences import clean_sentence, split_text
from services.minutes.pipeline.draft.transitions import POINT_NUMBER, TRANSITION
from services.minutes.pipeline.draft.turns import Meeting
from services.minutes.pipeline.draft.words import content_tokens
from services.minutes.pipeline.types import Decision

_LOOK_BACK = 6  # turns searched for the proposal a closing turn settles
_CLOSING = re.compile(
    r"(?i)^(?:(?:ja|jo|nå|okay|ok|godt|altså|jamen|fint|fint\s+med\s+mig|enig|helt\s+enig)\b[\s,.!]*)*"
    r"(?:så\s+(?:gør|siger)\s+(?:vi|jeg)\s+(?:det(?:\s+sådan)?|sådan|ja(?:\s+til\s+det)?)(?:\s+at)?"
    r"|så\s+er\s+det\s+(?:besluttet|aftalt|vedtaget|godkendt|sådan)|det\s+er\s+vi\s+enige\s+om"
    r"|så\s+er\s+vi\s+enige(?:\s+om)?(?:\s+at)?|lad\s+os\s+gøre\s+det(?:\s+sådan)?|det\s+gør\s+vi)[\s,.!:]*"
)
_VOTE = re.compile(
    r"(?i)\b(?:vedtaget|godkendt|forkastet|afvist)\s+med\s+\S+\s+(?:stemmer\s+)?mod\s+\S+"
    r"|\b\S+\s+stemmer\s+for\b|\benstemmig\w*"
)
_SETTLED_WITHIN = 3  # turns after a proposal in which a decision settles it
_MIN_CONTENT = 3  # content words a closing turn needs to state the decision itself


def _statement(text: str) -> str:
    """The part of a turn that states an outcome: its sentences up to a request or question, without remarks
    before the outcome ("Jamen det er jo perfekt.") and the closing phrase it opens with."""
    text = clean_sentence(text)
    kept: list[str] = []
    for a, b in split_text(text) or [(0, len(text))]:
        sentence = re.sub(r"(?i)^at\s+", "", _CLOSING.sub("", text[a:b].strip()).strip())
        found = cues(sentence)
        moves_on = bool(TRANSITION.search(sentence) or POINT_NUMBER.search(sentence))
        if ({"request", "question_word", "yes_no_question", "greeting"} & found or moves_on) and kept:
            break
        if not kept and len(content_tokens(sentence)) < 2:
            continue
        kept.append(sentence)
    return " ".join(kept).strip()


def _proposal(index: int, meeting: Meeting, states: Sequence[int]) -> str | None:
    """The latest proposal before turn ``index`` under the same agenda item; without a proposal cue, the
    latest substantial turn that shares a word with the settling turn ("så tager vi Konica"), else the latest
    substantial turn."""
    turns = meeting.turns
    settling = set(content_tokens(turns[index].text))
    sharing = None
    fallback = None
    for j in range(index - 1, max(-1, index - 1 - _LOOK_BACK), -1):
        if states and states[j] != states[index]:
            break
        found = cues(turns[j].text)
        if "propose" in found or "consensus_question" in found:
            statement = _statement(turns[j].text)
            if len(content_tokens(statement)) >= _MIN_CONTENT:
                return statement
        asks = {"question_word", "yes_no_question"} & found
        words = content_tokens(turns[j].text)
        if len(words) >= 2 * _MIN_CONTENT and not asks:
            if sharing is None and settling & set(words):
                sharing = _statement(turns[j].text)
            if fallback is None:
                fallback = _statement(turns[j].text)
    return sharing or fallback


def decision_text(index: int, meeting: Meeting, states: Sequence[int] = ()) -> str:
    turn = meeting.turns[index]
    own = _statement(turn.text)
    if len(content_tokens(own)) >= _MIN_CONTENT:
        text = own
    else:
        text = _proposal(index, meeting, states) or own or turn.text
        vote = _VOTE.search(turn.text)
        if vote and vote.group(0).lower() not in text.lower():
            text = f"{text.rstrip(' .')} – {vote.group(0)}"
    return mask_cpr(clean_sentence(text))


def decision_turns(
    probabilities: Sequence[float], threshold: float, proposals: Sequence[bool] = ()
) -> list[int]:
    """The turns whose probability passes ``threshold`` and is the highest of its neighbours (a closing turn
    and the "ja" after it are one decision). A turn that proposes (``proposals``) and is settled by a later
    one within ``_SETTLED_WITHIN`` turns is that later decision, not one of its own."""
    found = []
    n = len(probabilities)
    for i, p in enumerate(probabilities):
        neighbours = [probabilities[j] for j in (i - 1, i + 1) if 0 <= j < n]
        if (
            p >= threshold
            and not any(q > p for q in neighbours)
            and not (i > 0 and probabilities[i - 1] == p)
        ):
            found.append(i)
    return [
        i
        for i in found
        if not (i < len(proposals) and proposals[i] and any(i < j <= i + _SETTLED_WITHIN for j in found))
    ]


def find_decisions(
    meeting: Meeting, probabilities: Sequence[float], threshold: float, states: Sequence[int] = ()
) -> list[Decision]:
    found = []
    proposals = ["propose" in cues(t.text) for t in meeting.turns]
    for i in decision_turns(probabilities, threshold, proposals):
        turn = meeting.turns[i]
        found.append(
            Decision(
                text=decision_text(i, meeting, states),
                start=turn.start,
                speaker=turn.speaker,
                segment=turn.segment_id,
            )
        )
    return found
