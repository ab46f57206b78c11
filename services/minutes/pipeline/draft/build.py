"""The entry point: a transcript and its meeting's details → a ``MinutesDraft``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.actions import find_actions
from services.minutes.pipeline.draft.agenda import align_turns, parse_agenda
from services.minutes.pipeline.draft.decisions import find_decisions
from services.minutes.pipeline.draft.features import meeting_features
from services.minutes.pipeline.draft.model import DraftModels
from services.minutes.pipeline.draft.proposals import ItemProposer, add_proposals
from services.minutes.pipeline.draft.sentences import Sentence, split_sentences
from services.minutes.pipeline.draft.summary import Summarizer, section_summaries
from services.minutes.pipeline.draft.topics import segment_topics, topic_keywords, topic_title
from services.minutes.pipeline.draft.transitions import POINT_NUMBER, TRANSITION
from services.minutes.pipeline.draft.turns import Meeting, prepare_meeting
from services.minutes.pipeline.draft.words import content_tokens
from services.minutes.pipeline.types import AgendaSection, MinutesDraft, Transcript

MODEL_PATH = Path(__file__).resolve().parent / "data" / "draft_model.json"


@lru_cache(maxsize=1)
def shipped_models() -> DraftModels:
    """The weights trained on the bundled meetings (``python -m services.minutes.pipeline.draft.train``)."""
    return DraftModels.load(MODEL_PATH)


def _duration(transcript: Transcript) -> float:
    ends = [s.end for s in transcript.segments]
    return max([transcript.duration, *ends])


def _topic_states(transcript: Transcript, sentences: Sequence[Sentence], meeting: Meeting) -> list[int]:
    """Without an agenda: each turn's automatic topic (1…n), by the topic most of its sentences got."""
    labels = segment_topics(sentences, _duration(transcript))
    votes: dict[int, Counter[int]] = {}
    for sentence, label in zip(sentences, labels, strict=True):
        votes.setdefault(sentence.segment_id, Counter())[label] += 1
    states, current = [], 1
    for turn in meeting.turns:
        if turn.segment_id in votes:
            current = votes[turn.segment_id].most_common(1)[0][0] + 1
        states.append(current)
    return states


def build_minutes_draft(
    transcript: Transcript,
    *,
    title: str,
    meeting_date: date | None,
    participants: list[str],
    agenda: list[str] | None,
    summarizer: Summarizer | None = None,
    proposer: ItemProposer | None = None,
    models: DraftModels | None = None,
) -> MinutesDraft:
    """A minutes draft: one section per agenda item (talk outside the agenda, such as the small talk before
    the first item, is in none), or per automatically found topic when there is no agenda, each with a short
    summary and the decisions and action items said under it. ``models`` defaults to the shipped weights;
    ``proposer`` is an optional language model whose proposals are kept only when the transcript bears them
    out."""
    models = models or shipped_models()
    meeting = prepare_meeting(transcript, participants, meeting_date)
    sentences = split_sentences(transcript)
    items = parse_agenda(agenda or [])
    states = (
        align_turns(meeting, items, models.alignment)
        if items
        else _topic_states(transcript, sentences, meeting)
    )
    state_of = {t.segment_id: k for t, k in zip(meeting.turns, states, strict=True)}
    state_count = len(items) + 1 if items else max(states, default=0) + 1
    sentence_groups = [[s for s in sentences if state_of.get(s.segment_id) == k] for k in range(state_count)]
    if items:
        headers = [(0, "")] + [(item.number, item.title) for item in items]  # state 0: outside the agenda
    else:
        keywords = topic_keywords(sentence_groups[1:])
        headers = [(0, "")] + [(i + 1, mask_cpr(topic_title(i + 1, kw))) for i, kw in enumerate(keywords)]
    kinds = ("decision", "action")
    by_ngrams = {
        ngrams: meeting_features(meeting, ngrams=ngrams) for ngrams in {models.uses_ngrams(k) for k in kinds}
    }
    rows = {kind: by_ngrams[models.uses_ngrams(kind)] for kind in kinds}
    decisions = find_decisions(
        meeting, models.decision.probabilities(rows["decision"]), models.decision.threshold, states
    )
    actions = find_actions(meeting, models.action.probabilities(rows["action"]), models.action.threshold)
    if proposer is not None:
        decisions, actions = add_proposals(meeting, decisions, actions, proposer)

    position = {t.segment_id: t.index for t in meeting.turns}

    def item_of(segment: int | None) -> int:
        """The section of a decision or action said in ``segment``: a turn that settles something and then
        moves on ("Så er dagsordenen godkendt. Vi går videre til punkt 2") settles it under the item it
        leaves; one said outside the agenda goes with the item before it (else the one after, else the
        first)."""
        i = position.get(segment if segment is not None else -1, 0)
        if i > 0 and states[i] != states[i - 1]:
            text = meeting.turns[i].text
            moves = TRANSITION.search(text) or POINT_NUMBER.search(text)
            if moves and len(content_tokens(text[: moves.start()])) >= 2:
                i -= 1
        around = [*states[i::-1], *states[i + 1 :]]
        return next((k for k in around if k != 0), 1)

    turns_of: list[list[int]] = [[] for _ in headers]
    for turn, state in zip(meeting.turns, states, strict=True):
        turns_of[state].append(turn.index)
    summaries, source = section_summaries([t for _, t in headers[1:]], sentence_groups[1:], summarizer)

    sections = []
    for state, (number, section_title) in enumerate(headers):
        if state == 0:
            continue  # talk outside the agenda is in no section (``draft_json`` lists it as item 0)
        turns = [meeting.turns[i] for i in turns_of[state]]
        start = min((t.start for t in turns), default=_section_start(sections))
        end = max((t.end for t in turns), default=start)
        sections.append(
            AgendaSection(
                number=number,
                title=section_title,
                start=start,
                end=end,
                segment_ids=[t.segment_id for t in turns],
                summary=summaries[state - 1],
                decisions=[d for d in decisions if item_of(d.segment) == state],
                actions=[a for a in actions if item_of(a.segment) == state],
            )
        )
    return MinutesDraft(
        title=mask_cpr(title),
        meeting_date=meeting_date,
        participants=[mask_cpr(p) for p in participants],
        sections=sections,
        summary_source=source,
    )


def _section_start(sections: Sequence[AgendaSection]) -> float:
    """Where an item nobody spoke under sits: where the section before it ended."""
    return sections[-1].end if sections else 0.0
