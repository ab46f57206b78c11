"""Turns: a transcript's segments as the utterances decisions, actions and agenda items are found in.

A turn is one segment: what one speaker said without interruption, CPR-masked, with its speaker's name.
Decisions and action items are reported per turn (the ``segment`` a reviewer jumps to), and every segment
belongs to exactly one section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.deadlines import next_meeting_date
from services.minutes.pipeline.draft.names import NameIndex, find_chair
from services.minutes.pipeline.draft.transitions import POINT_NUMBER, TRANSITION
from services.minutes.pipeline.draft.words import tokenize
from services.minutes.pipeline.types import Transcript


@dataclass(frozen=True)
class Turn:
    index: int  # position in the transcript's segments
    segment_id: int
    speaker: str | None  # display name, CPR-masked; None when unknown
    text: str  # as said, CPR-masked
    start: float
    end: float

    @property
    def words(self) -> list[str]:
        return tokenize(self.text)


@dataclass(frozen=True)
class Meeting:
    """One meeting as the draft sees it: its turns and what is known about it beforehand."""

    turns: Sequence[Turn]
    names: NameIndex
    chair: str | None
    meeting_date: date | None
    next_meeting: date | None = None  # the next meeting's date, when it was said


def transcript_turns(transcript: Transcript) -> list[Turn]:
    turns = []
    for position, segment in enumerate(transcript.segments):
        speaker = mask_cpr(transcript.speaker_name(segment.speaker)).strip() or None
        turns.append(
            Turn(
                index=position,
                segment_id=segment.id,
                speaker=speaker,
                text=mask_cpr(segment.text.strip()),
                start=segment.start,
                end=segment.end,
            )
        )
    return turns


def prepare_meeting(
    transcript: Transcript, participants: Sequence[str], meeting_date: date | None
) -> Meeting:
    """The turns of ``transcript`` with the meeting's names, chair and (when it was said) next date."""
    turns = transcript_turns(transcript)
    speakers = [t.speaker for t in turns]
    names = NameIndex.build([*participants, *(s for s in speakers if s)])
    moves = [bool(TRANSITION.search(t.text) or POINT_NUMBER.search(t.text)) for t in turns]
    return Meeting(
        turns=turns,
        names=names,
        chair=find_chair([mask_cpr(p) for p in participants], speakers, moves),
        meeting_date=meeting_date,
        next_meeting=next_meeting_date([t.text for t in turns], meeting_date),
    )
