"""Clause checks shared by decisions and action items: questions, conditionals and negations."""

from __future__ import annotations

from services.minutes.pipeline.draft.sentences import clean_sentence
from services.minutes.pipeline.draft.words import tokenize, word_set

NEGATIONS = frozenset({"ikke", "aldrig", "ingen", "intet"})
_CONDITIONALS = frozenset({"hvis", "såfremt", "medmindre", "ifald"})
_CLAUSE_OPENERS = frozenset({"om", "når", "inden", "før", "hvorvidt"})  # only at the start of a clause
_CONJUNCTIONS = frozenset({"og", "men", "så", "altså", "jamen", "nå"})
_QUESTION_OPENERS = word_set("er var har skal kan vil bør må gider kunne")


def clause_before(text: str, position: int) -> str:
    """The part of the clause that precedes ``position`` (clauses end at , ; : and dashes)."""
    head = text[:position]
    cut = max(head.rfind(c) for c in ",;:–")
    return head[cut + 1 :]


def is_question(text: str) -> bool:
    """A question: ends in "?", or opens with a finite verb (Danish yes/no questions do)."""
    if text.rstrip().endswith("?"):
        return True
    words = tokenize(clean_sentence(text))
    return bool(words) and words[0] in _QUESTION_OPENERS


def is_conditional(clause: str) -> bool:
    words = tokenize(clause)
    while words and words[0] in _CONJUNCTIONS:
        words = words[1:]
    return bool(_CONDITIONALS & set(words)) or (bool(words) and words[0] in _CLAUSE_OPENERS)
