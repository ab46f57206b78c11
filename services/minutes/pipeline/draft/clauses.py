"""Clause checks shared by decisions and action items: whether a sentence is a question."""

from __future__ import annotations

from services.minutes.pipeline.draft.sentences import clean_sentence
from services.minutes.pipeline.draft.words import tokenize, word_set

_QUESTION_OPENERS = word_set("er var har skal kan vil bør må gider kunne")


def is_question(text: str) -> bool:
    """A question: ends in "?", or opens with a finite verb (Danish yes/no questions do)."""
    if text.rstrip().endswith("?"):
        return True
    words = tokenize(clean_sentence(text))
    return bool(words) and words[0] in _QUESTION_OPENERS
