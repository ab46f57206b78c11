"""Plain data of the chatbot: documents as loaded, and the chunks that are indexed and cited."""

from __future__ import annotations

from dataclasses import dataclass, field


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
