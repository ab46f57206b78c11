"""Split documents into the chunks that are retrieved and cited, following the documents' own structure.

A law is split by § and stk., so a citation names the exact place; a guide by its headings, with long
sections cut at paragraph boundaries.
"""

from __future__ import annotations

import re

from services.chatbot.types import Chunk, SourceDocument

# Guide chunks: long enough to carry an answer, short enough for the embedder's 512-token window.
MAX_GUIDE_CHARS = 1500
_STK = re.compile(r"(?=\bStk\. \d+\.)")


def split_provision(content: str) -> list[str]:
    """The stk. pieces of one § as Retsinformation flattens it ("§ 47. … Stk. 2. … Stk. 3. …")."""
    return [piece.strip() for piece in _STK.split(content) if piece.strip()]


def law_citation(document: SourceDocument, section: str, stk: int | None) -> str:
    place = f"§ {section}" + (f", stk. {stk}" if stk and stk > 1 else "")
    suffix = f" ({document.citation_suffix})" if document.citation_suffix else ""
    return f"{document.title} {place}{suffix}"


def _law_chunks(document: SourceDocument) -> list[Chunk]:
    chunks = []
    for provision in document.provisions:
        many = len(provision.pieces) > 1
        for number, piece in enumerate(provision.pieces, start=1):
            stk = number if many else None
            chunk_id = f"{document.source}#{provision.section}" + (f"-{number}" if many else "")
            chunks.append(
                Chunk(
                    id=chunk_id,
                    source=document.source,
                    section=provision.section,
                    title=law_citation(document, provision.section, stk),
                    text=piece,
                    url=document.url,
                    stk=stk,
                    # Later stk. rarely repeat the subject of the §; its first words give them context.
                    context=f"{document.title} § {provision.section}. "
                    + ("" if number == 1 else provision.pieces[0][:200]),
                )
            )
    return chunks


def _paragraphs(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut between paragraphs (or sentences)."""
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        parts = [paragraph] if len(paragraph) <= limit else re.split(r"(?<=[.!?])\s+", paragraph)
        for part in parts:
            if current and len(current) + len(part) + 2 > limit:
                pieces.append(current)
                current = ""
            current = f"{current}\n\n{part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _guide_chunks(document: SourceDocument) -> list[Chunk]:
    chunks = []
    for section in document.sections:
        heading = " › ".join(section.heading_path)
        # Without a web address the fragment alone is kept; the service prefixes its own source link.
        url = f"{document.url}#{section.anchor}" if section.anchor else document.url
        for piece in _paragraphs(section.text, MAX_GUIDE_CHARS):
            chunks.append(
                Chunk(
                    id=f"{document.source}#{len(chunks)}",
                    source=document.source,
                    section="",
                    title=f"{document.title} – {heading}"
                    if heading and heading != document.title
                    else document.title,
                    text=piece,
                    url=url,
                    heading=heading,
                    context=f"{document.title}. {heading}",
                )
            )
    return chunks


def chunk_document(document: SourceDocument) -> list[Chunk]:
    return _law_chunks(document) if document.kind == "law" else _guide_chunks(document)
