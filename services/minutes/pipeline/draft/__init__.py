"""Minutes draft: a speaker-labelled transcript → agenda sections with summary, decisions and action items.

Decisions and action items are found per turn (segment) by two learned classifiers: logistic regression over
cue phrases of Danish meeting language (closing a discussion, agreeing, voting, committing, asking someone,
rejecting, deferring), who speaks (the chair, the person just named), deadlines, and the words of the turn and
its neighbours. A decision's text is the proposal it settles; an action item says who, what and by when, with
Danish relative dates resolved against the meeting date. Turns are aligned to the agenda by a learned Viterbi
path that follows the chair's transitions, returns to earlier items and the similarity of talk to item titles.
Summaries are the most central sentences of a section unless a ``Summarizer`` is passed; an optional language
model may propose further items, kept only when the cited segment bears them out. Every piece of text in the
draft has passed through ``mask_cpr``; the weights are trained on the bundled meetings (``train``, ``data/``).

Modules, in the order a draft is built: ``words``, ``sentences`` and ``turns`` (splitting and cleaning),
``names`` (participants, the chair), ``deadlines`` (dates said aloud), ``cues`` and ``features`` (what a turn
does), ``model`` (the classifiers), ``agenda`` or ``topics`` (sections), ``decisions`` and ``actions``,
``proposals`` (the optional language model), ``summary``, and ``build`` (the entry point). ``similarity``
and ``transitions`` hold what several of them share; ``source`` reads transcript files and writes the draft's
JSON; ``train`` fits and cross-validates the weights.
"""

from services.minutes.pipeline.draft.agenda import AgendaItem, parse_agenda, read_agenda_lines
from services.minutes.pipeline.draft.build import build_minutes_draft, shipped_models
from services.minutes.pipeline.draft.deadlines import Deadline, find_deadline
from services.minutes.pipeline.draft.proposals import ItemProposer, Proposal, llm_proposer
from services.minutes.pipeline.draft.sentences import Sentence, clean_sentence, split_sentences, split_text
from services.minutes.pipeline.draft.source import draft_json, read_transcript, transcript_from_json
from services.minutes.pipeline.draft.summary import (
    EMPTY_SECTION_SUMMARY,
    ChatClient,
    Summarizer,
    llm_summarizer,
)

__all__ = [
    "EMPTY_SECTION_SUMMARY",
    "AgendaItem",
    "ChatClient",
    "Deadline",
    "ItemProposer",
    "Proposal",
    "Sentence",
    "Summarizer",
    "build_minutes_draft",
    "clean_sentence",
    "draft_json",
    "find_deadline",
    "llm_proposer",
    "llm_summarizer",
    "parse_agenda",
    "read_agenda_lines",
    "read_transcript",
    "shipped_models",
    "split_sentences",
    "split_text",
    "transcript_from_json",
]
