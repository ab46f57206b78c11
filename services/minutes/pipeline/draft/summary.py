"""Section summaries: extractive (the most central sentences), or from an optional LLM ``Summarizer`` with the
extractive summary as the fallback."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.clauses import is_question
from services.minutes.pipeline.draft.sentences import Sentence, clean_sentence, split_text
from services.minutes.pipeline.draft.similarity import char_vectors
from services.minutes.pipeline.draft.transitions import TRANSITION
from services.minutes.pipeline.draft.words import content_tokens, is_filler, is_substantive

log = logging.getLogger(__name__)

Summarizer = Callable[[str, list[str]], list[str]]
"""(item title, the item's sentences in order) → summary sentences."""

EMPTY_SECTION_SUMMARY = "Der blev ikke registreret noget under dette punkt."
SUMMARY_EXTRACTIVE = "extractive"
SUMMARY_LLM = "llm"


def extractive_summary(sentences: Sequence[Sentence], max_sentences: int = 3) -> list[str]:
    """The 1-3 most central sentences (closest to the section's TF-IDF centroid), in the order said.
    Questions and "næste punkt" sentences are only used when nothing else is there, short sentences only when
    no sentence has three content words."""
    candidates = [s for s in sentences if is_substantive(s.text)] or [
        s for s in sentences if not is_filler(s.text) and len(content_tokens(s.text)) >= 2
    ]
    preferred = [s for s in candidates if not TRANSITION.search(s.text) and not is_question(s.text)]
    pool = preferred or candidates
    if not pool:
        return []
    count = min(max_sentences, 1 if len(pool) <= 3 else 2 if len(pool) <= 8 else 3)
    sparse = char_vectors([s.text for s in pool])
    if sparse is None:
        return [clean_sentence(pool[0].text)]
    # Rows are L2-normalised, so a row's cosine with the centroid is its dot product over the centroid's
    # norm; kept sparse, since a long section has thousands of sentences and n-grams.
    centroid = np.asarray(sparse.mean(axis=0)).ravel()
    norm = float(np.linalg.norm(centroid)) or 1.0
    similarity = np.asarray(sparse @ centroid).ravel() / norm
    # Short sentences are rarely a summary, however central their few words are.
    scores = [float(similarity[i]) * min(1.0, len(content_tokens(s.text)) / 6) for i, s in enumerate(pool)]
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


def section_summaries(
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
