"""Turn retrieved passages into an answer: extractive by default (the sentences that answer, highlighted, each
with its citation), an LLM-written answer when one is configured and every citation checks out, and a clear
"not in the guidance" when retrieval says the collections do not answer the question."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.chatbot.types import Chunk

log = logging.getLogger(__name__)

# Terms of a text as the index sees them (folded, stemmed, without stop words).
Analyzer = Callable[[str], list[str]]

_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=(?:Stk\. \d|\d+\)|[A-ZÆØÅ§\"“]))")
# "§ 20." and "Stk. 3." open the sentence after them; they are not sentences of their own.
_MARKER = re.compile(r"(?:§+\s*\d+\s*[a-z]?|Stk\.\s*\d+)\.")


@dataclass
class Passage:
    chunk: Chunk
    score: float
    highlights: list[tuple[int, int]] = field(default_factory=list)  # character spans in chunk.text

    @property
    def highlighted_text(self) -> str:
        return " … ".join(self.chunk.text[a:b].strip() for a, b in self.highlights)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (law items "1) …" count as sentences)."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        sentence = text[start : match.start()].strip()
        if _MARKER.fullmatch(sentence):
            continue
        if sentence:
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def highlight(
    text: str, query_terms: set[str], analyze: Analyzer, max_sentences: int = 2
) -> list[tuple[int, int]]:
    """The sentences of ``text`` that share most terms with the question, in text order; when none shares a
    term (the text was found by its meaning or by its questions), its first sentence — a stk. states its rule
    first — so an answer never shows a cited text without its answering sentence."""
    spans = sentence_spans(text)
    scored = []
    for span in spans:
        terms = set(analyze(text[span[0] : span[1]]))
        overlap = len(terms & query_terms)
        if overlap:
            # Prefer dense matches over long sentences that mention everything once.
            scored.append((overlap / (1 + len(terms)) ** 0.5, span))
    best = sorted(scored, key=lambda item: item[0], reverse=True)[:max_sentences]
    return sorted(span for _, span in best) or spans[:1]


def extractive_answer(passages: Sequence[Passage]) -> str:
    """'<sentences> [1]' lines for the best passages, each ending with its citation number."""
    lines = []
    for number, passage in enumerate(passages, start=1):
        text = passage.highlighted_text or passage.chunk.text[:400].strip()
        lines.append(f"{passage.chunk.title}: {text} [{number}]")
    return "\n\n".join(lines)


def _danish_list(items: Sequence[str]) -> str:
    """«a», «b» og «c»."""
    quoted = [f"«{item}»" for item in dict.fromkeys(i for i in items if i)]
    return ", ".join(quoted[:-1]) + " og " + quoted[-1] if len(quoted) > 1 else "".join(quoted)


def abstention_answer(scope: Sequence[str], contacts: Sequence[str]) -> str:
    """The reply when the searched collections (``scope``: their titles) do not answer: what they cover, so
    the question is out of it, and whom to ask instead."""
    covered = (
        f" Den dækker {_danish_list(scope)}, og dit spørgsmål ligger uden for det." if any(scope) else ""
    )
    who = " eller ".join(dict.fromkeys(c for c in contacts if c)) or "en fagspecialist"
    return (
        f"Det kan jeg ikke finde i vejledningen, så jeg vil ikke gætte.{covered} "
        f"Spørg {who}, og meld gerne spørgsmålet som et hul i vejledningen."
    )


_CITATION_MARK = re.compile(r"\[(\d+)\]")


def validated_llm_answer(text: str, n_passages: int) -> str | None:
    """The LLM's answer if it cites at least one passage and only passages it was given, else None."""
    cited = {int(m) for m in _CITATION_MARK.findall(text)}
    if not text.strip() or not cited or not cited <= set(range(1, n_passages + 1)):
        return None
    return text.strip()


def llm_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    sources = "\n\n".join(f"[{n}] {p.chunk.title}\n{p.chunk.text}" for n, p in enumerate(passages, start=1))
    return [
        {
            "role": "system",
            "content": (
                "Du er en hjælpsom assistent for kommunale medarbejdere. Svar kort på dansk og KUN ud fra "
                "de nummererede kilder. Henvis til kilderne med [nummer] efter hver påstand. Står svaret "
                "ikke i kilderne, så skriv præcis: IKKE I KILDERNE."
            ),
        },
        {"role": "user", "content": f"Kilder:\n{sources}\n\nSpørgsmål: {question}"},
    ]
