"""Loaders: one per source format, each turning a file into a ``SourceDocument``.

Formats: Retsinformation JSON (one entry per §), Markdown, HTML, PDF, DOCX and plain text. A loader raises
``IngestError`` with a message a person can act on; it never returns half a document, and errors from the
parsing libraries are wrapped so that no other exception type leaves ``load_document``.

Guides (everything but law) become sections by their headings: Markdown is rendered to HTML by markdown-it-py
and then read by the same BeautifulSoup walker as HTML files, so both formats split and flatten text alike.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import docx
import pypdf
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table, _Row
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt

from services.chatbot.chunking import split_provision
from services.chatbot.types import Provision, Section, SourceDocument
from services.common.charsets import decode_unknown


class IngestError(ValueError):
    """The file cannot be ingested; the message says why."""


class EmptyDocument(IngestError):
    """The file is readable but holds no text (a folder ingest skips it, a single-file ingest refuses it)."""


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _empty(source: str) -> EmptyDocument:
    return EmptyDocument(f"{source}: dokumentet indeholder ingen tekst.")


# --- text files: encoding and binary detection --------------------------------------------------------

# Control bytes that text files do not contain (tab, newlines, form feed and ESC are allowed).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    sample = data[:8192]
    # A stray control character or two happens in real text (a DOS end-of-file mark); many do not.
    return len(_CONTROL_BYTES.findall(sample)) > max(2, len(sample) // 100)


def _decode(data: bytes, name: str) -> str:
    """Text of a file: UTF-8 (with or without BOM), UTF-16 with BOM (Notepad's "Unicode"), else cp1252."""
    binary = IngestError(f"{name}: filen er binær, ikke tekst.")
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise binary from None
    if _looks_binary(data):
        raise binary
    return decode_unknown(data)[0]


def _squash(text: str) -> str:
    """Runs of whitespace as single spaces."""
    return " ".join(text.split())


# --- guide outline: sections by heading, shared by the guide loaders ----------------------------------


@dataclass
class _Outline:
    """Text collected under the current heading path, in document order."""

    sections: list[Section] = field(default_factory=list)
    first_heading: str = ""
    _path: list[tuple[int, str]] = field(default_factory=list)
    _anchor: str = ""
    _blocks: list[str] = field(default_factory=list)
    _group: str = ""

    def heading(self, level: int, name: str, anchor: str = "") -> None:
        if not name:
            return
        self.flush()
        self._path = [(lvl, h) for lvl, h in self._path if lvl < level] + [(level, name)]
        self._anchor = anchor
        self.first_heading = self.first_heading or name

    def add(self, text: str, group: str = "") -> None:
        """A block of text; lines of one ``group`` (a list's items, a table's rows) stay together without a
        blank line between them, so the chunker keeps them in one paragraph."""
        text = text.strip("\n")
        if not text.strip():
            return
        if group and group == self._group and self._blocks:
            self._blocks[-1] += "\n" + text
        else:
            self._blocks.append(text)
        self._group = group

    def flush(self) -> None:
        body = "\n\n".join(self._blocks).strip()
        if body:
            self.sections.append(Section([h for _, h in self._path], body, self._anchor))
        self._blocks.clear()
        self._group = ""

    def finish(self, title: str) -> list[Section]:
        """The sections; text before the first heading is filed under the document's title."""
        self.flush()
        for section in self.sections:
            section.heading_path = section.heading_path or [title]
        return self.sections


def _guide(source: str, title: str, sections: list[Section], data: bytes) -> SourceDocument:
    if not sections:
        raise _empty(source)
    return SourceDocument(
        source=source, title=title, url="", kind="guide", sections=sections, checksum=_checksum(data)
    )


# --- Retsinformation JSON ----------------------------------------------------------------------------

_DOC_KINDS = ("LBK", "BEK", "LOV", "VEJ", "CIR")


def _law_title(title: str) -> str:
    """'Bekendtgørelse af barnets lov' → 'Barnets lov'; a BEK keeps its own title."""
    name = re.sub(r"^Bekendtgørelse af\s+", "", title.strip())
    return name[:1].upper() + name[1:]


def _citation_suffix(data: dict) -> str:
    """'LBK nr. 282 af 17/03/2025' from the document's id, kind and date."""
    kind = next((k for k in _DOC_KINDS if str(data.get("short_name", "")).startswith(k)), "")
    number = str(data.get("id", "")).partition(":")[2]
    issued = str(data.get("issued_date", ""))
    try:
        when = date.fromisoformat(issued).strftime("%d/%m/%Y")
    except ValueError:
        when = ""
    if not (kind and number):
        return ""
    return f"{kind} nr. {number}" + (f" af {when}" if when else "")


def load_retsinformation_json(path: Path, source: str) -> SourceDocument:
    data_bytes = path.read_bytes()
    try:
        data = json.loads(data_bytes)
    except json.JSONDecodeError as exc:
        raise IngestError(f"{source}: ugyldig JSON ({exc.msg}, linje {exc.lineno}).") from exc
    except UnicodeDecodeError as exc:  # binary data, or text in neither UTF-8 nor UTF-16/32
        raise IngestError(f"{source}: ugyldig JSON (filen er ikke UTF-8-tekst).") from exc
    if not isinstance(data, dict) or not isinstance(data.get("provisions"), list) or not data["provisions"]:
        raise IngestError(f"{source}: ikke en Retsinformation-lov (mangler 'provisions' med §§).")
    provisions = []
    for entry in data["provisions"]:
        if not isinstance(entry, dict):
            continue
        section, content = str(entry.get("section", "")).strip(), str(entry.get("content", "")).strip()
        if section and content:
            provisions.append(
                Provision(
                    section=section, pieces=split_provision(content), chapter=str(entry.get("chapter", ""))
                )
            )
    if not provisions:
        raise IngestError(f"{source}: ingen §§ med tekst.")
    return SourceDocument(
        source=source,
        title=_law_title(str(data.get("title", source))),
        url=re.sub(r"/xml$", "", str(data.get("url", ""))),
        kind="law",
        citation_suffix=_citation_suffix(data),
        provisions=provisions,
        checksum=_checksum(data_bytes),
    )


# --- HTML --------------------------------------------------------------------------------------------

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Page furniture and non-text; nav/header/footer repeat on every page of a site and would drown the content.
_DROPPED = ("script", "style", "noscript", "template", "head", "title", "nav", "header", "footer")
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "form",
        "hr",
        "main",
        "ol",
        "p",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "ul",
    ]
)

AnchorOf = Callable[[Tag, str], str]


def _html_id_anchor(tag: Tag, _text: str) -> str:
    """The heading's own id, or that of an anchor inside it (``<h2><a id="x">``/``<a name="x">``)."""
    inner = tag.find(id=True) or tag.find("a", attrs={"name": True})
    for candidate in (tag, inner):
        if isinstance(candidate, Tag):
            value = candidate.get("id") or candidate.get("name")
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _inline_text(tag: Tag) -> str:
    """Text of a heading or table cell on one line: inline markup joins its words ("<b>Print</b>ere" is
    "Printere"), block elements and line breaks inside separate them."""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag) and (node.name in _BLOCKS or node.name in ("br", "td", "th", "li")):
            parts.append(" ")
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(str(node))
    return _squash("".join(parts))


def _list_marker(item: Tag) -> str:
    """'- ' for a bullet, '3. ' for the third item of an ordered list (numbered steps matter in guides)."""
    parent = item.parent
    if parent is None or parent.name != "ol":
        return "- "
    try:
        start = int(str(parent.get("start") or 1))
    except ValueError:
        start = 1
    return f"{start + len(item.find_previous_siblings('li'))}. "


class _HtmlText:
    """Walks parsed HTML in document order, feeding headings and lines of text to an ``_Outline``."""

    def __init__(self, outline: _Outline, anchor_of: AnchorOf) -> None:
        self.outline = outline
        self.anchor_of = anchor_of
        self.line: list[str] = []
        self.prefix = ""  # list marker waiting for the item's first text
        self.group = ""  # inside a list: its lines are kept together

    def end_line(self) -> None:
        raw = "".join(self.line)
        self.line.clear()
        text = "\n".join(_squash(part) for part in raw.split("\n") if part.strip())
        if text:
            self.outline.add(self.prefix + text, self.group)
            self.prefix = ""

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                self.visit(child)
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                self.line.append(str(child).replace("\n", " "))  # comments/doctype are PreformattedString

    def visit(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            self.end_line()
            text = _inline_text(tag)
            self.outline.heading(_HEADINGS[name], text, self.anchor_of(tag, text))
        elif name == "br":
            self.line.append("\n")
        elif name == "pre":  # code and command output: keep the lines as they are
            self.end_line()
            self.outline.add(tag.get_text().rstrip())
        elif name == "tr":
            self.end_line()
            cells = [_inline_text(cell) for cell in tag.find_all(["td", "th"], recursive=False)]
            self.outline.add(
                " | ".join(cell for cell in cells if cell), f"table-{id(tag.find_parent('table'))}"
            )
        elif name == "li":
            self.end_line()
            outer_group = self.group
            lists = tag.find_parents(["ul", "ol"])
            self.group = f"list-{id(lists[-1])}" if lists else "list"  # nested lists join their outermost
            self.prefix = _list_marker(tag)
            self.walk(tag)
            self.end_line()
            self.prefix = ""
            self.group = outer_group
        elif name in _BLOCKS:
            self.end_line()
            self.walk(tag)
            self.end_line()
        else:
            self.walk(tag)


def _drop_furniture(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_DROPPED):
        # An <article>'s own header holds its title; only the page-wide banner and footer are furniture.
        if tag.name in ("header", "footer") and tag.find_parent(["article", "main"]):
            continue
        tag.decompose()


def _html_outline(html: str, anchor_of: AnchorOf) -> tuple[str, _Outline]:
    """The page's <title> and its text sectioned by h1–h6."""
    soup = BeautifulSoup(html, "html.parser")
    title_tag = soup.find("title")
    title = _squash(title_tag.get_text(" ")) if isinstance(title_tag, Tag) else ""
    _drop_furniture(soup)
    outline = _Outline()
    walker = _HtmlText(outline, anchor_of)
    root = soup.body if isinstance(soup.body, Tag) else soup
    walker.walk(root)
    walker.end_line()
    return title, outline


def load_html(path: Path, source: str) -> SourceDocument:
    data = path.read_bytes()
    title, outline = _html_outline(_decode(data, source), _html_id_anchor)
    title = title or outline.first_heading or path.stem
    return _guide(source, title, outline.finish(title), data)


# --- Markdown ----------------------------------------------------------------------------------------

# Jekyll front matter; the closing line may end the file without a newline.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)
_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)
# Kramdown attribute lists ("{: .note }") style the page and are not words.
_KRAMDOWN_IAL = re.compile(r"\{:[^}\n]*\}")
_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _anchor(heading: str) -> str:
    """GitHub/Jekyll-style anchor of a heading."""
    slug = re.sub(r"[^\w\s-]", "", heading.lower()).strip()
    return re.sub(r"\s+", "-", slug)


def load_markdown(path: Path, source: str) -> SourceDocument:
    data = path.read_bytes()
    text = _decode(data, source).replace("\r\n", "\n")
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        found = _FRONT_TITLE.search(front.group(1) or "")
        title = found.group(1).strip() if found else ""
        text = text[front.end() :]
    html = _MARKDOWN.render(_KRAMDOWN_IAL.sub("", text))
    _, outline = _html_outline(html, lambda _tag, heading: _anchor(heading))
    title = title or outline.first_heading or path.stem
    return _guide(source, title, outline.finish(title), data)


# --- DOCX --------------------------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"^(?:heading|overskrift)\s*([1-9])$", re.I)
_DOCX_TITLE = ("title", "titel")


def _docx_blocks(document: DocxDocument, element: BaseOxmlElement) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables of the body in order, including those inside content controls (w:sdt),
    which municipal Word templates use a lot and ``Document.iter_inner_content`` skips."""
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == qn("w:tbl"):
            yield Table(child, document)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_blocks(document, content)


def _docx_row(row: _Row) -> str:
    """One table row as 'cell | cell'; a merged cell appears once, not once per grid column it spans."""
    cells: list[str] = []
    seen: set[int] = set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        text = _squash(cell.text)
        if text:
            cells.append(text)
    return " | ".join(cells)


def _docx_outline(document: DocxDocument) -> tuple[str, _Outline]:
    outline = _Outline()
    title = ""
    for number, block in enumerate(_docx_blocks(document, document.element.body)):
        if isinstance(block, Table):
            for row in block.rows:
                outline.add(_docx_row(row), f"table-{number}")
            continue
        text = block.text.strip()
        style = (block.style.name or "").strip() if block.style is not None else ""
        heading = _DOCX_HEADING.match(style)
        if style.lower() in _DOCX_TITLE and text and not title:
            title = _squash(text)
        elif heading:
            outline.heading(int(heading.group(1)), _squash(text))
        elif style.lower().startswith("list"):
            outline.add(f"- {text}", "list")
        else:
            outline.add(text)
    return title, outline


def load_docx(path: Path, source: str) -> SourceDocument:
    data = path.read_bytes()
    try:
        document = docx.Document(io.BytesIO(data))
        title, outline = _docx_outline(document)
        core_title = _squash(document.core_properties.title or "")
    except Exception as exc:  # python-docx raises zip, XML, KeyError, ... on a damaged or foreign file
        raise IngestError(
            f"{source}: filen kan ikke læses som Word-dokument (.docx); den er beskadiget eller i et andet "
            "format (gem den som .docx i Word)."
        ) from exc
    title = title or outline.first_heading or core_title or path.stem
    return _guide(source, title, outline.finish(title), data)


# --- PDF ---------------------------------------------------------------------------------------------

# Metadata titles that name a file or a program are worse than the first line of the text.
_FILE_LIKE_TITLE = re.compile(r"(^Microsoft Word - )|(\.(docx?|pdf|odt|rtf|txt)$)", re.I)
_MAX_TITLE = 120


def _clean_page(text: str) -> str:
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _first_line(text: str) -> str:
    line = next((_squash(line) for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= _MAX_TITLE else ""


def _unlock(reader: pypdf.PdfReader, source: str) -> None:
    """Open a PDF encrypted without a user password (common: "no editing"); refuse one that needs it."""
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("")
    except Exception as exc:  # e.g. AES without the optional crypto library
        raise IngestError(f"{source}: PDF-filen er krypteret og kan ikke åbnes.") from exc
    if not opened:
        raise IngestError(f"{source}: PDF-filen er beskyttet med adgangskode.")


def load_pdf(path: Path, source: str) -> SourceDocument:
    data = path.read_bytes()
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        _unlock(reader, source)
        if len(reader.pages) == 0:  # parsed, but no page tree: damaged rather than merely empty
            raise IngestError(f"{source}: PDF-filen har ingen sider; den er beskadiget.")
        pages = [_clean_page(page.extract_text() or "") for page in reader.pages]
        meta_title = _squash(str((reader.metadata or {}).get("/Title") or ""))
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises its own errors and plain ones on damaged files
        raise IngestError(
            f"{source}: filen kan ikke læses som PDF; den er beskadiget eller ikke en PDF."
        ) from exc
    if not any(pages):
        raise EmptyDocument(
            f"{source}: PDF-filen har intet tekstlag (fx en skannet side), og tekstgenkendelse (OCR) "
            "understøttes ikke; gem den som søgbar PDF."
        )
    first_text = next(page for page in pages if page)
    useful_meta = meta_title if meta_title and not _FILE_LIKE_TITLE.search(meta_title) else ""
    title = useful_meta or _first_line(first_text) or path.stem
    # One section per page: pages are what a reader of the PDF navigates by, and '#page=N' opens them.
    sections = [
        Section([f"Side {number}"], text, f"page={number}")
        for number, text in enumerate(pages, start=1)
        if text
    ]
    return _guide(source, title, sections, data)


# --- plain text --------------------------------------------------------------------------------------


def load_text(path: Path, source: str) -> SourceDocument:
    """The first non-empty line is the title (when it is short enough to be one); the rest is the text."""
    data = path.read_bytes()
    lines = [line.rstrip() for line in _decode(data, source).splitlines()]
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise _empty(source)
    title = _first_line(lines[start])
    rest = lines[start + 1 :] if title else lines[start:]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(rest)).strip() or _squash(lines[start])
    title = title or path.stem
    return _guide(source, title, [Section([title], body)], data)


# --- dispatch ----------------------------------------------------------------------------------------

Loader = Callable[[Path, str], SourceDocument]

LOADERS: dict[str, Loader] = {
    ".json": load_retsinformation_json,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
    ".pdf": load_pdf,
    ".txt": load_text,
}

# Formats people will try; the message tells them what to do instead.
_CONVERT_HINTS = {".doc": ".docx", ".odt": ".docx", ".rtf": ".docx", ".xhtml": ".html"}


def load_document(path: Path, source: str | None = None) -> SourceDocument:
    """Load one file with the loader for its format; ``source`` defaults to the file name."""
    source = source or path.name
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        formats = ", ".join(sorted(LOADERS))
        hint = f"; gem den som {_CONVERT_HINTS[suffix]}" if suffix in _CONVERT_HINTS else ""
        raise IngestError(
            f"{source}: formatet '{path.suffix or 'uden endelse'}' understøttes ikke ({formats}){hint}."
        )
    try:
        if not path.is_file():
            raise IngestError(f"{source}: filen findes ikke.")
        if path.stat().st_size == 0:
            raise IngestError(f"{source}: filen er tom.")
        return loader(path, source)
    except PermissionError as exc:
        raise IngestError(f"{source}: filen kan ikke læses (ingen adgang).") from exc
    except OSError as exc:
        raise IngestError(f"{source}: filen kan ikke læses.") from exc


# Files in a corpus folder that are about the corpus, not part of it.
_NOT_CONTENT = re.compile(r"^(LICENSE|LICENCE|COPYING|README|SOURCE)", re.IGNORECASE)
# Questions that the folder's documents answer, indexed with them (see expansions.py); not a document.
QUESTIONS_FILE = "questions.jsonl"


def load_folder(folder: Path) -> tuple[list[tuple[SourceDocument, Path]], list[str]]:
    """Every document under ``folder`` (its source: the path relative to ``folder``), and the files skipped
    (licences, files of other formats, documents without text; not the folder's questions file). An
    unreadable document raises."""
    documents, skipped = [], []
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and p != folder / QUESTIONS_FILE):
        source = file.relative_to(folder).as_posix()
        if file.name.startswith(".") or _NOT_CONTENT.match(file.name) or file.suffix.lower() not in LOADERS:
            skipped.append(source)
            continue
        try:
            documents.append((load_document(file, source), file))
        except EmptyDocument:
            skipped.append(source)
    return documents, skipped
