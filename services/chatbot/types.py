"""Plain data of the chatbot: documents as loaded, the chunks that are indexed and cited, the questions
indexed with them, and the abstention model that ships with an index."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Provision:
    """One § of a law, with its stk. texts (stk. 1 first)."""

    section: str  # the § number as Retsinformation writes it: "47", "172a"
    pieces: list[str]  # stk. 1, stk. 2, ...
    chapter: str = ""


@dataclass
class Section:
    """A titled part of a guide (Markdown/HTML/DOCX heading, or a PDF page range)."""

    heading_path: list[str]  # ["Computere", "Administration af computere"]
    text: str
    anchor: str = ""  # URL fragment of the heading, when the format has one


@dataclass
class SourceDocument:
    """A document as ingested: either a law (provisions) or a guide (sections)."""

    source: str  # stable id used in citations: "retsinformation_2025_282.json", "os2borgerpc_docs/x.md"
    title: str  # "Barnets lov" / the guide's title
    url: str  # where a person reads the original (ELI address for law)
    kind: str  # "law" | "guide"
    citation_suffix: str = ""  # law: "LBK nr. 282 af 17/03/2025"
    provisions: list[Provision] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    checksum: str = ""  # sha256 of the source bytes: re-ingesting unchanged content is a no-op


@dataclass
class Chunk:
    """The unit that is retrieved and cited."""

    id: str  # unique within a collection: "<source>#<section>[-<stk>]" or "<source>#<n>"
    source: str
    section: str  # law: the § ("47"); guides: "" (a guide is cited by its file)
    title: str  # what a citation shows: "Barnets lov § 47, stk. 4 (LBK nr. 282 af 17/03/2025)"
    text: str
    url: str
    stk: int | None = None
    heading: str = ""  # guides: "Computere › Administration af computere"
    context: str = ""  # words indexed with the text but not shown (law name, headings)

    @property
    def searchable(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Expansion:
    """A question that a citation unit (a § or a guide file) answers, indexed with the unit ("doc2query"): the
    unit is found by its text and by the questions written for it."""

    source: str
    section: str  # the unit's § ("" for a guide file)
    text: str
    origin: str = "file"  # "file": questions.jsonl beside the documents; "llm": written at ingest; "editor"

    @property
    def unit(self) -> tuple[str, str]:
        return (self.source, self.section)


@dataclass(frozen=True)
class AbstentionModel:
    """A logistic regression over the search's evidence (``features``, standardised): the probability that a
    collection answers a question. Trained with the index; its ``threshold`` chosen by cross-validation."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    # How it was trained and what cross-validation measured (for the record; not used to decide).
    summary: dict[str, float] = field(default_factory=dict)

    def probability(self, evidence: dict[str, float]) -> float:
        z = self.intercept + sum(
            c * (evidence[name] - m) / s
            for name, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class RankerModel:
    """A logistic regression over a candidate unit's ranking features (``features``, standardised): how
    likely the unit is the one that answers the question. Trained with the index (``ranker.py``)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    summary: dict[str, float] = field(default_factory=dict)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Log-odds per row of ``rows`` (columns in ``features``' order)."""
        mean, scale, coef = (np.asarray(v, dtype=np.float64) for v in (self.mean, self.scale, self.coef))
        return ((rows - mean) / scale) @ coef + self.intercept
