"""Minutes draft: a speaker-labelled transcript → agenda sections with summary, decisions and action items.

Everything here is extractive unless a ``Summarizer`` is passed: decisions and action items are sentences that
were actually said (found by Danish cue phrases), and summaries are the most central sentences of a section.
Work is done per sentence, so a segment that holds the end of one agenda item and the start of the next is
listed under both sections. Every piece of text that ends up in the draft has passed through ``mask_cpr``.

Modules, in the order a draft is built: ``words`` and ``sentences`` (splitting and cleaning), ``agenda`` or
``topics`` (sections), ``decisions``, ``deadlines`` and ``actions`` (per sentence), ``summary``, and ``build``
(the entry point). ``similarity``, ``transitions`` and ``clauses`` hold what several of them share.
"""

from services.minutes.pipeline.draft.agenda import AgendaItem, parse_agenda
from services.minutes.pipeline.draft.build import build_minutes_draft
from services.minutes.pipeline.draft.deadlines import Deadline, find_deadline
from services.minutes.pipeline.draft.decisions import find_decisions
from services.minutes.pipeline.draft.sentences import Sentence, clean_sentence, split_sentences, split_text
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
    "Sentence",
    "Summarizer",
    "build_minutes_draft",
    "clean_sentence",
    "find_deadline",
    "find_decisions",
    "llm_summarizer",
    "parse_agenda",
    "split_sentences",
    "split_text",
]
