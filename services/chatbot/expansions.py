"""Questions indexed with a collection's citation units (question expansion, "doc2query").

They come from three places: a ``questions.jsonl`` beside the documents (the dev-set format: ``question``
and ``relevant``; kai's shipped collections carry one), the configured LLM at ingest for units nobody wrote
questions for (a few Danish questions per unit, cached by the unit's text, never naming the unit's own §), and
editors, who attach an asked question to the unit that answers it on the content-gap page
(``service.add_expansion``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.chatbot.index import DigestCache, Progress, text_digest
from services.chatbot.types import Chunk, Expansion
from services.common.llm import LlmClient, LlmError

log = logging.getLogger(__name__)

QUESTIONS_PER_UNIT = 3
PROMPT_VERSION = "1"  # part of the cache key: a changed prompt writes new questions
MAX_UNIT_CHARS = 4000  # the start of a long unit is enough to ask about it
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def expansions_from_items(items: Iterable[Mapping[str, Any]], origin: str = "file") -> list[Expansion]:
    """One expansion per gold unit of each question in the dev-set format (unanswerable ones have none)."""
    return [
        Expansion(str(gold["source"]), str(gold.get("section", "")), str(item["question"]), origin)
        for item in items
        for gold in item.get("relevant", [])
    ]


@dataclass(frozen=True)
class UnitText:
    """A citation unit as the LLM reads it: its citation title and its text (stk. or sections joined)."""

    source: str
    section: str
    title: str
    text: str


def unit_texts(chunks: Sequence[Chunk]) -> list[UnitText]:
    """The units of ``chunks`` in order; a unit's title is its first chunk's (a law's: the § without stk.)."""
    grouped: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        grouped.setdefault((chunk.source, chunk.section), []).append(chunk)
    return [
        UnitText(source, section, parts[0].title, "\n\n".join(c.text for c in parts)[:MAX_UNIT_CHARS])
        for (source, section), parts in grouped.items()
    ]


def question_messages(unit: UnitText) -> list[dict[str, str]]:
    return [
        {
            "role": "system",
            "content": (
                "Du skriver spørgsmål på dansk, som en medarbejder i en dansk kommune kunne stille, og som "
                "teksten besvarer. Skriv med egne ord, ikke tekstens, og nævn aldrig paragrafnummeret eller "
                f"dokumentets navn. Skriv præcis {QUESTIONS_PER_UNIT} spørgsmål, ét pr. linje, uden "
                "nummerering: et om en konkret sag, et direkte og et i hverdagssprog."
            ),
        },
        {"role": "user", "content": f"Tekst ({unit.title}):\n{unit.text}"},
    ]


def names_section(question: str, section: str) -> bool:
    """Whether ``question`` names § ``section`` ("§ 47", "§47", "paragraf 47")."""
    if not section:
        return False
    return bool(
        re.search(rf"(?:§+|paragraf(?:fen)?)\s*{re.escape(section)}(?![\w])", question, re.IGNORECASE)
    )


def parse_questions(reply: str, section: str) -> list[str]:
    """The questions in an LLM reply: one a line, list marks removed, none that names the unit's own §."""
    found = []
    for line in reply.splitlines():
        question = _LIST_MARK.sub("", line).strip().strip('"“”')
        if len(question) >= 10 and not names_section(question, section):
            found.append(question)
    return list(dict.fromkeys(found))[:QUESTIONS_PER_UNIT]


class QuestionCache(DigestCache):
    """Questions an LLM wrote, by (model, prompt version, sha256 of the unit's title and text)."""

    table = "questions"
    value_column = "questions TEXT"

    def get(self, model: str, digest: str) -> list[str] | None:
        with self.connect() as db:
            row = db.execute(
                "SELECT questions FROM questions WHERE model = ? AND digest = ?", (model, digest)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, model: str, digest: str, questions: list[str]) -> None:
        with self.connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?)",
                (model, digest, json.dumps(questions, ensure_ascii=False)),
            )


def write_expansions(
    units: Sequence[UnitText], client: LlmClient, cache: QuestionCache, progress: Progress | None = None
) -> list[Expansion]:
    """Questions for each of ``units`` from the LLM (or its cache). A unit the LLM fails on gets none this
    time (nothing is cached for it: a later ingest of its document asks again)."""
    model = f"{client.model}#prompt-{PROMPT_VERSION}"
    expansions: list[Expansion] = []
    failed = 0
    for done, unit in enumerate(units, start=1):
        digest = text_digest(f"{unit.title}\n{unit.text}")
        questions = cache.get(model, digest)
        if questions is None:
            try:
                questions = parse_questions(client.chat(question_messages(unit)), unit.section)
            except LlmError:
                failed += 1
                questions = []
            else:
                cache.put(model, digest, questions)
        expansions.extend(Expansion(unit.source, unit.section, q, "llm") for q in questions)
        if progress is not None:
            progress("spørgsmål fra sprogmodellen", done, len(units))
    if failed:
        log.warning(
            "The LLM wrote no questions for %d of %d units (tried again at the next ingest)",
            failed,
            len(units),
        )
    return expansions
