"""One mail → ``ParsedMail``: RFC 822 bytes, an Outlook .msg file, or the fields of a JSONL/CSV row.

Decoding is left to the standard library's ``email`` package (MIME, quoted-printable, base64, RFC 2047
headers), HTML to lxml (libxml2) and .msg files to extract-msg. What is ours is choosing the body part,
falling back when a charset label is wrong, and ``split_body``: separating what the sender wrote now from
quoted earlier mails and the signature, because the new words are what a mail clerk routes on.

Attachments are listed (name, type, decoded size) but their content is never kept.

Any mail, however malformed, is parsed in time and memory about linear in its size, and what is kept is
bounded (the ``MAX_*`` limits below; a limit reached is noted in ``problems``). A mail whose MIME structure
could not be read (a boundary that is never used, parts nested too deep) is kept with its raw text and
``intact`` False: a person routes it, and urgency is still read from that text.
"""

from __future__ import annotations

import binascii
import codecs
import io
import re
import unicodedata
from collections.abc import Iterator
from email import policy
from email.errors import (
    CloseBoundaryNotFoundDefect,
    MessageDefect,
    MessageError,
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.feedparser import BytesFeedParser
from email.header import decode_header
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from lxml import etree

from services.common.charsets import decode_unknown
from services.common.errors import InvalidInput
from services.mailsort.types import Attachment, ParsedMail


class MailParseError(InvalidInput, ValueError):
    """The bytes are not a mail at all. An ``InvalidInput`` too, so the API answers 422 with the message."""


# What the email package raises on malformed input; its header parser has a few bugs that surface as
# AttributeError or IndexError on garbled headers.
_LIBRARY_ERRORS = (MessageError, ValueError, TypeError, AttributeError, IndexError, LookupError)

# --- bounds: what any mail may cost -------------------------------------------------------------------------

MAX_BODY_CHARS = 100_000  # characters of body text read and kept; a longer text is cut (and noted)
MAX_HTML_CHARS = 4_000_000  # characters of an HTML body read (inline data: images make some bodies megabytes)
# HTML elements open at once. libxml2 looks through its open elements for some tags, so deeper nesting
# would cost time quadratic in the input; 256 is libxml2's own classic limit.
MAX_HTML_DEPTH = 256
MAX_QUOTE_MARKS = 10  # "> " marks on a line at most, however deep a quoted reply chain is nested
# The email package checks every line against every open boundary and recurses once per level.
MAX_MIME_DEPTH = 20  # parts inside parts (an attached mail counts as a level)
MAX_MIME_PARTS = 500  # each costs the email package about a millisecond of header parsing
# It also takes about a microsecond a line, and each header lookup scans all of a part's headers.
MAX_MIME_LINES = 2_000_000  # a 50 MB mail of base64 attachments has some 700,000
MAX_HEADER_LINES = 10_000  # lines in one part's header block (a folded To of hundreds of people fits)
_HEADER_BYTES = 1 << 16  # of a mail whose structure could not be read, the headers are read from this much
_RAW_BYTES = 1 << 20  # and this much of its body is read as raw text


def _danish_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


_TEXT_CUT = f"Teksten er over {_danish_number(MAX_BODY_CHARS)} tegn; kun begyndelsen er læst."


def _note_cut(problems: list[str]) -> None:
    if _TEXT_CUT not in problems:
        problems.append(_TEXT_CUT)


def _bounded(text: str, problems: list[str]) -> str:
    """``text`` cut to ``MAX_BODY_CHARS``, with a note when it was longer."""
    if len(text) <= MAX_BODY_CHARS:
        return text
    _note_cut(problems)
    return text[:MAX_BODY_CHARS]


# --- charsets -----------------------------------------------------------------------------------------------

_SINGLE_BYTE = frozenset({"ascii", "iso8859-1", "cp1252"})


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it
        return None


def decode_text(data: bytes, declared: str | None, problems: list[str]) -> str:
    """``data`` in its declared charset, or decoded by fallback with a note in ``problems`` if that fails."""
    label = declared or "us-ascii"
    codec = _codec_name(label)
    if codec is None:
        text, used = decode_unknown(data)
        problems.append(f"Ukendt tegnsæt '{label}': teksten er læst som {used}.")
        return text
    if codec in _SINGLE_BYTE and not data.isascii():
        # Valid UTF-8 with non-ASCII bytes is almost never latin-1 text: the label is wrong (a common slip).
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if declared:
                problems.append(f"Tegnsættet var angivet som '{label}', men teksten er UTF-8.")
            return text
        if codec == "iso8859-1" and re.search(rb"[\x80-\x9f]", data):
            # Mail programs write windows-1252 (€, “ ”) under the latin-1 label; browsers read it so too.
            codec = "cp1252"
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):  # LookupError: a bytes-to-bytes codec such as "base64"
        text, used = decode_unknown(data, skip=codec)
        problems.append(f"Teksten passede ikke til tegnsættet '{label}': den er læst som {used}.")
        return text


# --- headers ------------------------------------------------------------------------------------------------


def _raw_header(msg: Message, name: str) -> str:
    return next((value for key, value in msg.raw_items() if key.lower() == name.lower()), "")


def _redecode_header(raw: str, problems: list[str]) -> str:
    """A header the email package could only read with U+FFFD in it: 8-bit bytes or an unknown charset."""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):  # undecodable bytes, kept as surrogates by the parser
        text, _ = decode_unknown(raw.encode("ascii", "surrogateescape"))
        return text
    try:
        chunks = decode_header(raw)
    except _LIBRARY_ERRORS:
        return raw
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
        else:
            parts.append(decode_text(chunk, charset, problems))
    return "".join(parts)


def _header(msg: EmailMessage, name: str, problems: list[str]) -> str:
    try:
        value = msg[name]
    except _LIBRARY_ERRORS:
        value = None
        problems.append(f"Brevhovedet '{name}' kunne ikke læses og er gengivet som det står.")
    text = str(value) if value is not None else _raw_header(msg, name)
    if "\ufffd" in text:
        text = _redecode_header(_raw_header(msg, name), problems)
    return " ".join(text.split())


def _iso_date(msg: EmailMessage, problems: list[str]) -> str | None:
    try:
        header = msg["date"]
    except _LIBRARY_ERRORS:
        header = None
    raw = " ".join(_raw_header(msg, "date").split())
    if not raw:
        return None
    when = getattr(header, "datetime", None)
    if when is None:
        problems.append(f"Datoen '{raw}' kunne ikke forstås og er gemt som den står.")
        return raw
    return when.isoformat()


# --- HTML ---------------------------------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"})
_LINE_TAGS = frozenset({"div", "tr", "li", "section", "article", "header", "footer", "address", "dd", "dt"})
_SPACES = re.compile(r"\s+")
_HTML_FEED = 2048  # characters handed to libxml2 at a time: nesting is checked before it can grow far


def _tidy(text: str) -> str:
    """Trailing blanks off every line, at most one empty line in a row, no empty lines at the ends."""
    lines = [line.rstrip() for line in text.replace("\xa0", " ").replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _quote_marked(line: str, level: int) -> str:
    """``line`` at quote ``level`` ("> > text"; an empty line "> >"), with at most ``MAX_QUOTE_MARKS``."""
    marks = min(level, MAX_QUOTE_MARKS)
    if not marks:
        return line
    return "> " * marks + line if line else "> " * (marks - 1) + ">"


class _HtmlText:
    """An lxml parser target: the readable text of an HTML body, gathered in one pass over the tags libxml2
    reports (no tree is built and nothing is walked twice).

    Text goes into segments, one per stretch at the same blockquote level; a paragraph tag adds an empty
    line, a line tag or ``<br>`` a line break, and script, style and head are left out."""

    def __init__(self) -> None:
        self.segments: list[tuple[int, list[str]]] = [(0, [])]
        self.depth = 0  # elements open
        self.quotes = 0  # blockquotes open
        self.skipped = 0  # script, style, head, title open
        self.pre = 0  # <pre> open: its line breaks are kept
        self.chars = 0
        self.after_space = True  # the text so far ends in white space: a leading space is not repeated
        self.too_deep = False

    @property
    def full(self) -> bool:
        """Nothing more is read: the nesting is too deep, or there is more text than is kept."""
        return self.too_deep or self.chars > MAX_BODY_CHARS

    def _write(self, text: str) -> None:
        self.segments[-1][1].append(text)
        self.chars += len(text)

    def _quote_level(self, change: int) -> None:
        self.quotes = max(0, self.quotes + change)
        self.segments.append((self.quotes, []))
        self.after_space = True

    def start(self, tag: str, attrib: object) -> None:
        self.depth += 1
        self.too_deep = self.too_deep or self.depth > MAX_HTML_DEPTH
        if tag in _SKIPPED_TAGS:
            self.skipped += 1
        elif tag == "blockquote":
            self._quote_level(+1)
        elif tag == "pre":
            self.pre += 1
        self._break(tag, opening=True)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag in _SKIPPED_TAGS:
            self.skipped = max(0, self.skipped - 1)
        elif tag == "blockquote":
            self._quote_level(-1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        self._break(tag, opening=False)

    def _break(self, tag: str, *, opening: bool) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._write("\n\n")
        elif tag in _LINE_TAGS or (tag == "br" and opening):
            self._write("\n")
        else:
            return
        self.after_space = True

    def data(self, text: str) -> None:
        if self.skipped or self.full:
            return
        if not self.pre:  # source line breaks are spaces in HTML; only tags make new lines
            text = _SPACES.sub(" ", text)
            if self.after_space:
                text = text.lstrip(" ")
        if text:
            self._write(text)
            self.after_space = text[-1].isspace()

    def close(self) -> str:
        lines: list[str] = []
        previous: int | None = None  # the quote level of the last segment with text
        for level, pieces in self.segments:
            text = _tidy("\n".join(line.strip() for line in "".join(pieces).split("\n")))
            if not text:
                continue
            if previous is not None:  # an empty line between stretches, quoted as the shallower one
                lines.append(_quote_marked("", min(previous, level)))
            lines.extend(_quote_marked(line, level) for line in text.split("\n"))
            previous = level
        return "\n".join(lines)


def html_to_text(html: str, problems: list[str]) -> str:
    """Readable text of an HTML mail body: no style or script, block elements on their own lines, blockquotes
    as "> " lines (so a quoted reply is recognised as such by ``split_body``). Reading stops at
    ``MAX_HTML_DEPTH`` open elements or ``MAX_BODY_CHARS`` of text, with a note in ``problems``."""
    if len(html) > MAX_HTML_CHARS:
        limit = _danish_number(MAX_HTML_CHARS)
        problems.append(f"HTML-teksten er over {limit} tegn; kun begyndelsen er læst.")
        html = html[:MAX_HTML_CHARS]
    if not html:
        return ""
    target = _HtmlText()
    # Fed as UTF-8 bytes: a lone surrogate (from an odd codec such as unicode_escape) becomes "?", where lxml
    # would refuse the string; a <meta charset> cannot override the encoding already decoded.
    data = html.encode("utf-8", "replace")
    parser = etree.HTMLParser(target=target, encoding="utf-8", no_network=True)
    for start in range(0, len(data), _HTML_FEED):
        parser.feed(data[start : start + _HTML_FEED])
        if target.full:
            break
    text: str = parser.close()
    if target.too_deep:
        problems.append(f"HTML-teksten er indlejret mere end {MAX_HTML_DEPTH} niveauer; resten er ikke læst.")
    elif target.full:
        _note_cut(problems)
    return text


# --- splitting a body: new text, quoted mails, signature ----------------------------------------------------

_I = re.IGNORECASE
# Lines where an earlier mail starts (Outlook, Gmail, Apple Mail, Thunderbird; Danish and English).
_SEPARATOR = re.compile(
    r"^-{2,}\s*(oprindelig meddelelse|original message|oprindelig besked"
    r"|videresendt (meddelelse|besked|e-?mail)|forwarded message)\s*-{2,}$",
    _I,
)
_FORWARD_INTRO = re.compile(
    r"^(start på videresendt (meddelelse|besked|e-?mail)|begin forwarded message|videresendt meddelelse"
    r"|forwarded message)\s*:?$",
    _I,
)
_RULE = re.compile(r"^_{10,}$")
_FROM_LINE = re.compile(r"^\*?(fra|from)\s*:\*?\s*\S", _I)
_SENT_LINE = re.compile(r"^\*?(sendt|sent|dato|date)\s*:", _I)
_FROM_SENT_ONE_LINE = re.compile(r"^\*?(fra|from)\s*:.+\b(sendt|sent)\s*:", _I)
# "Den 4. marts 2024 kl. 10.12 skrev Kim Rask <kim@…>:", "On Mon, 4 Mar 2024 at 10:12, Kim wrote:" (a date
# digit is required so that "Den besked, du skrev:" in running text does not count).
_ATTRIBUTION = re.compile(r"^(den|d\.|on)\s.*\d.*\b(skrev|wrote)\b.*:$", _I)
_MAX_MARKER_LENGTH = 1000
_MAX_ATTRIBUTION_LENGTH = 300  # its regex backtracks in cubic time on long lines
_QUOTE_PREFIX = re.compile(r"^(?:[ \t]*>)+[ \t]?")

_STRONG_CLOSING = re.compile(
    r"^(/(?=\w)|på vegne af|on behalf of|med venlig hilsen|m\.?v\.?h\.?|venlig(st)? hilsen|vh|bedste hilsner?"
    r"|de bedste hilsner|mange hilsner"
    r"|kærlig hilsen|kh|glade hilsner|varme hilsner|hilsen|hilsner|best regards|kind regards|warm regards"
    r"|with kind regards|yours sincerely|yours faithfully|sincerely|mit freundlichen grüßen|freundliche grüße"
    r"|viele grüße|beste grüße|liebe grüße)\b[\s,.!]*(?P<rest>.*)$",
    _I,
)
_WEAK_CLOSING = re.compile(
    r"^(thank you very much|thank you in advance|thanks in advance|thank you|thanks|many thanks|mange tak"
    r"|på forhånd tak|tak på forhånd|tak for hjælpen|tak|regards|best|cheers|vielen dank)"
    r"\b[\s,.!]*(?P<rest>.*)$",
    _I,
)
_CONTACT_LINE = re.compile(
    r"^(tlf|tel|telefon|mobil|mob|mobile|phone|direkte|dir|fax|lokal|e-?mail|mail|www\.|web)\b.*\d"
    r"|^(tlf|telefon|mobil|e-?mail|www)\b|^\+?\d[\d \-]{7,}$|\+45[\s\d]{8,}"
    r"|^[^.?!]{1,60},\s*(tlf|telefon|mobil)\.?\s*[+\d]",
    _I,
)
_DISCLAIMER = re.compile(
    r"fortrolig|confidential|tiltænkt|intended (solely )?for|rette modtager"
    r"|modtaget denne (e-?mail|mail) ved en fejl|received this (e-?mail|message) in error|disclaimer"
    r"|behandler (dine )?personoplysninger|persondatapolitik|privatlivspolitik"
    r"|print(e|er)? (denne|this) (e-?mail|mail)",
    _I,
)
_GREETING = re.compile(r"^(hej|hejsa|hi|hello|dear|kære|goddag|god morgen|til)\b.{0,40}$", _I)
# Notes that say nothing besides "read what is below": a forward's routable text is the forwarded mail.
_NO_SUBSTANCE = frozenset(
    {"fyi", "til orientering", "til info", "til din orientering", "se nedenfor", "se nedenstående",
     "se venligst nedenstående", "se mail nedenfor", "se nedenstående mail", "videresendt", "vs", "fw", "fwd",
     "til jer", "til rette vedkommende", "see below", "please see below", "forwarding"}
)  # fmt: skip
_MAX_SIGNATURE_LINES = 12
_MAX_SIGNATURE_LINE_WORDS = 12
_NAME_STOPWORDS = frozenset({"og", "and", "af", "for", "i", "til", "the", "a/s", "aps", "i/s", "gmbh"})


def _fold(word: str) -> str:
    """Case and accents folded, so "René" in a signature matches "Rene" in the From header."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip(".,;:!?()\"'")


def _name_tokens(sender: str) -> frozenset[str]:
    # Not parseaddr: it gives up on unquoted commas ("Mogens Bak, Bak Auto ApS <…>"), common in real headers.
    name = re.sub(r"<[^>]*>|\S+@\S+", " ", sender)
    words = (_fold(w) for w in re.split(r"[\s,/\"]+", name))
    return frozenset(w for w in words if len(w) >= 2 and w not in _NAME_STOPWORDS)


def _quote_start(lines: list[str]) -> int | None:
    """Index of the first line of a quoted or forwarded earlier mail (not counting "> " lines)."""
    for i, line in enumerate(lines):
        text = line.strip()
        if not text or len(text) > _MAX_MARKER_LENGTH:  # markers are short lines; long ones only cost time
            continue
        following = [x.strip() for x in lines[i + 1 : i + 5]]
        if _SEPARATOR.match(text) or _FORWARD_INTRO.match(text) or _FROM_SENT_ONE_LINE.match(text):
            return i
        if _FROM_LINE.match(text) and any(_SENT_LINE.match(x) for x in following[:3]):
            return i
        if _RULE.match(text) and any(_FROM_LINE.match(x) for x in following[:2]):
            return i
        # Gmail wraps a long attribution over two lines.
        for candidate in (text, f"{text} {following[0]}" if following else ""):
            if len(candidate) <= _MAX_ATTRIBUTION_LENGTH and _ATTRIBUTION.match(candidate):
                return i
    return None


def _unquote(lines: list[str]) -> list[str]:
    return [_QUOTE_PREFIX.sub("", line) for line in lines]


def _separate_quotes(lines: list[str]) -> tuple[list[str], list[str]]:
    """New lines and quoted lines: everything from the first marker on, plus "> " lines above it (answers
    written between quoted lines stay new)."""
    start = _quote_start(lines)
    head, tail = (lines, []) if start is None else (lines[:start], lines[start:])
    new: list[str] = []
    quoted_runs: list[list[str]] = []
    previous_quoted = False
    for line in head:
        is_quoted = _QUOTE_PREFIX.match(line) is not None
        if is_quoted:
            if not previous_quoted:
                quoted_runs.append([])
            quoted_runs[-1].append(line)
        else:
            new.append(line)
        previous_quoted = is_quoted
    if tail:
        quoted_runs.append(tail)
    quoted: list[str] = []
    for run in quoted_runs:
        quoted.extend([*_unquote(run), ""])
    return new, quoted


def _is_signature_like(lines: list[str]) -> bool:
    """Short lines without questions: names, titles, workplaces, phone numbers (disclaimers not counted)."""
    content = [line.strip() for line in lines if line.strip()]
    if len(content) > _MAX_SIGNATURE_LINES:
        return False
    return all(len(line.split()) <= _MAX_SIGNATURE_LINE_WORDS and not line.endswith("?") for line in content)


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line index ranges of the blank-line separated paragraphs."""
    spans, start = [], None
    for i, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            spans.append((start, i))
            start = None
    return spans


def _disclaimer_start(lines: list[str]) -> int:
    """Where trailing disclaimer paragraphs begin (``len(lines)`` when there are none)."""
    end = len(lines)
    for start, stop in reversed(_paragraphs(lines)):
        if not _DISCLAIMER.search(" ".join(lines[start:stop])):
            break
        end = start
    return end


def _signs_off(text: str, names: frozenset[str], *, bare_name: bool) -> bool:
    """Whether ``text`` is a sign-off: "Med venlig hilsen Kim", "Thanks, Yuki", "/Lise", or (when
    ``bare_name``) just the sender's name with a few words after it ("Erik Hedegaard, byggesagsbehandler")."""
    if strong := _STRONG_CLOSING.match(text):
        rest = strong["rest"]
        return len(rest.split()) <= 6 and not rest.endswith("?")
    if weak := _WEAK_CLOSING.match(text):
        rest = weak["rest"].split()
        return not rest or (len(rest) <= 6 and _fold(rest[0]) in names)
    words = text.split()
    return (
        bare_name and 0 < len(words) <= 5 and _fold(words[0]) in names and not text.endswith((".", "?", "!"))
    )


def _closing_start(lines: list[str], names: frozenset[str]) -> int | None:
    """First line that opens a sign-off ("Med venlig hilsen", "Thanks," …) with only a signature after it."""
    # Only the last lines can open a signature (at most _MAX_SIGNATURE_LINES follow it): look only there.
    content = [i for i, line in enumerate(lines) if line.strip()]
    first = content[-(_MAX_SIGNATURE_LINES + 1)] if len(content) > _MAX_SIGNATURE_LINES else 0
    for i, line in enumerate(lines[first:], start=first):
        if _signs_off(line.strip(), names, bare_name=False) and _is_signature_like(lines[i + 1 :]):
            return i
    return None


def _trailing_block_start(lines: list[str], names: frozenset[str]) -> int | None:
    """Start of a name card at the end: the last paragraph when it holds the sender's name or a phone or
    mail line, else the last line alone when it is the sender's name ("…virker ikke.\nRasmus")."""
    spans = _paragraphs(lines)
    if not spans:
        return None
    start, stop = spans[-1]
    block = [line.strip() for line in lines[start:stop]]
    card = any(_fold(line.split()[0]) in names or _CONTACT_LINE.search(line) for line in block)
    if card and len(spans) >= 2 and len(block) <= 6 and _is_signature_like(block):  # 1 paragraph: content
        return start
    if len(block) >= 2 and _signs_off(block[-1], names, bare_name=True):
        return stop - 1
    return None


def _inline_signature(line: str, names: frozenset[str]) -> int | None:
    """Where a sign-off written after the last sentence of a line begins ("… i morgen. Mvh Allan")."""
    found = None
    for boundary in reversed(list(re.finditer(r"[.!?)]\s+", line))):
        tail = line[boundary.end() :]
        if len(tail.split()) > 8:
            break
        if _signs_off(tail, names, bare_name=True):
            found = boundary.end()  # keep looking left: "… Mvh. Kim" is all sign-off, not just "Kim"
    return found


def _separate_signature(lines: list[str], names: frozenset[str]) -> tuple[str, str]:
    end = len(lines)
    while end and not lines[end - 1].strip():  # one slice at the end: slicing per blank line was quadratic
        end -= 1
    lines = lines[:end]
    cut = _disclaimer_start(lines)
    body, disclaimer = lines[:cut], lines[cut:]
    start = next((i for i, line in enumerate(body) if line.rstrip() == "--"), None)  # the "-- " convention
    if start is None:
        start = _closing_start(body, names)
    if start is None:
        start = _trailing_block_start(body, names)
    if start is not None:
        return _tidy("\n".join(body[:start])), _tidy("\n".join(body[start:] + disclaimer))
    last = max((i for i, line in enumerate(body) if line.strip()), default=None)
    if last is not None and (col := _inline_signature(body[last], names)) is not None:
        body = [*body[:last], body[last][:col], body[last][col:], *body[last + 1 :]]
        return _tidy("\n".join(body[: last + 1])), _tidy("\n".join(body[last + 1 :] + disclaimer))
    return _tidy("\n".join(body)), _tidy("\n".join(disclaimer))


def _has_substance(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip() and not _GREETING.match(line.strip())]
    words = re.sub(r"[^\w\s]", " ", " ".join(lines).casefold()).split()
    return len(words) > 3 and " ".join(words) not in _NO_SUBSTANCE


def split_body(text: str, *, sender: str = "") -> tuple[str, str, str]:
    """``(new, quoted, signature)`` of a mail body.

    ``quoted`` is every earlier mail from the first reply/forward marker on, plus "> " lines (without the
    "> "). ``signature`` is the sender's sign-off, name card, phone lines and disclaimers; ``sender`` ("Name
    <address>") lets a bare name at the end ("Stine") be recognised too. When the new part has no substance
    (empty, "FYI", "Se nedenfor"), the new text is the note followed by the quoted text, and quoted is empty:
    the forwarded mail is what a clerk reads and routes.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new_lines, quoted_lines = _separate_quotes(lines)
    new, signature = _separate_signature(new_lines, _name_tokens(sender))
    quoted = _tidy("\n".join(quoted_lines))
    if quoted and not _has_substance(new):
        return _tidy(f"{new}\n\n{quoted}"), "", signature
    return new, quoted, signature


# --- RFC 822 ------------------------------------------------------------------------------------------------

_FEED_SIZE = 1 << 16
# At least one of these must be present for bytes to count as a mail (not just any "key: value" text).
_MAIL_HEADERS = ("from", "to", "subject", "date", "message-id", "mime-version", "content-type", "received")


def _is_container(part: Message) -> bool:
    return part.get_content_maintype() == "multipart" and part.is_multipart()


def _mime_parts(msg: Message) -> Iterator[MIMEPart]:
    """Every part in order, containers included, walked without recursion; an attached mail
    (message/rfc822) is one part, not opened."""
    pending: list[Message] = [msg]
    while pending:
        part = pending.pop()
        yield part  # type: ignore[misc]  # policy.default builds MIMEPart
        if _is_container(part):
            pending.extend(reversed(part.get_payload()))


def _decoded_size(part: MIMEPart) -> int:
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        return sum(len(inner.as_bytes()) for inner in part.iter_parts())
    if str(part.get("content-transfer-encoding", "")).strip().lower() == "base64":
        # binascii skips the line breaks itself; get_payload(decode=True) first splits a 30 MB attachment
        # into half a million line objects, which triples the memory a large mail takes.
        encoded = part.get_payload()
        if isinstance(encoded, str) and encoded.isascii():
            try:
                return len(binascii.a2b_base64(encoded))
            except binascii.Error:
                pass
    payload = part.get_payload(decode=True)
    return len(payload) if isinstance(payload, bytes) else 0


def _attachments(msg: EmailMessage, body: MIMEPart | None) -> list[Attachment]:
    found = []
    for part in _mime_parts(msg):
        if part is body or _is_container(part):
            continue
        filename = part.get_filename() or ""
        content_type = part.get_content_type()
        as_attachment = part.get_content_disposition() == "attachment"
        if content_type in ("text/plain", "text/html") and not as_attachment and not filename:
            continue  # the other version of the body, not an attachment
        found.append(Attachment(filename=filename, content_type=content_type, size=_decoded_size(part)))
    return found


def _readable(text: str, *, html: bool, problems: list[str]) -> str:
    """A body's text for routing: HTML as text, tidied, at most ``MAX_BODY_CHARS``."""
    if html:
        return _bounded(html_to_text(text, problems), problems)
    return _tidy(_bounded(text, problems))


def _body_text(part: MIMEPart | None, problems: list[str]) -> str:
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_text(payload, part.get_content_charset(), problems)
    return _readable(text, html=part.get_content_subtype() == "html", problems=problems)


class _TooComplex(Exception):
    """The MIME structure is nested deeper or has more parts than is read; the message says which."""


class _BoundedFeedParser(BytesFeedParser):
    """The email package's parser, stopped at ``MAX_MIME_DEPTH`` levels or ``MAX_MIME_PARTS`` parts: it checks
    every line against every open boundary and recurses once per level, so a mail nested a thousand levels
    deep cost seconds and then a RecursionError."""

    def __init__(self) -> None:
        super().__init__(policy=policy.default)
        self.parts_read = 0

    def _parse_headers(self, lines: list[str]) -> None:
        # FeedParser's hook for each part's header block, before its lines are parsed one by one.
        if len(lines) > MAX_HEADER_LINES:
            limit = _danish_number(MAX_HEADER_LINES)
            raise _TooComplex(f"En af mailens MIME-dele har over {limit} linjer brevhoved.")
        super()._parse_headers(lines)  # type: ignore[misc]

    def _new_message(self) -> None:
        # FeedParser's hook for each new part, with the parts around it on _msgstack: the one place the
        # structure grows. Private, but unchanged since Python 2.4; tests/security/test_mail_bounds.py
        # pins it.
        self.parts_read += 1
        if len(self._msgstack) >= MAX_MIME_DEPTH:  # type: ignore[attr-defined]
            raise _TooComplex(f"Mailens MIME-dele er indlejret mere end {MAX_MIME_DEPTH} niveauer.")
        if self.parts_read > MAX_MIME_PARTS:
            raise _TooComplex(f"Mailen har mere end {_danish_number(MAX_MIME_PARTS)} MIME-dele.")
        super()._new_message()  # type: ignore[misc]


def _read_mime(raw: bytes) -> EmailMessage:
    # Fed in slices rather than message_from_bytes(raw): that decodes the whole mail into one string and
    # copies it into a StringIO (4 bytes a character), some 250 MB extra for a mail with a 30 MB attachment.
    if raw.count(b"\n") > MAX_MIME_LINES:
        raise _TooComplex(f"Mailen har over {_danish_number(MAX_MIME_LINES)} linjer.")
    parser = _BoundedFeedParser()
    for start in range(0, len(raw), _FEED_SIZE):
        parser.feed(raw[start : start + _FEED_SIZE])
    return parser.close()  # type: ignore[return-value]  # policy.default builds EmailMessage


def _headers_only(raw: bytes) -> EmailMessage:
    """The headers of a mail whose structure could not be read, from its first ``_HEADER_BYTES``."""
    head = raw[:_HEADER_BYTES]
    return BytesHeaderParser(policy=policy.default).parsebytes(head)  # type: ignore[return-value]


_BODY_START = re.compile(rb"\r?\n\r?\n")  # the empty line after the headers (RFC 5322, section 2.1)


def _raw_text(raw: bytes, problems: list[str]) -> str:
    """The body of a mail whose structure could not be read, as text: part headers, boundaries and all."""
    start = _BODY_START.search(raw)
    data = raw[start.end() : start.end() + _RAW_BYTES] if start else b""
    if len(data) == _RAW_BYTES:  # cut at a line break, never inside a character
        data = data[: data.rfind(b"\n") + 1]
    text, _ = decode_unknown(data)
    return _tidy(_bounded(text, problems))


_READ_RAW = "Teksten er læst som rå tekst, og en person skal vurdere mailen."
# Defects after which the email package could not tell the parts apart: the text is somewhere in the raw body.
_LOST_STRUCTURE = frozenset(
    {StartBoundaryNotFoundDefect, NoBoundaryInMultipartDefect, MultipartInvariantViolationDefect}
)


def _has_content(part: Message) -> bool:
    payload = part.get_payload()
    return isinstance(payload, str) and bool(payload) and not payload.isspace()


def _read_parts(msg: EmailMessage, problems: list[str]) -> tuple[str, list[Attachment]] | None:
    """The body text and the attachments; None (the reason in ``problems``) when the structure hid them."""
    defects: set[type[MessageDefect]] = {type(d) for part in _mime_parts(msg) for d in part.defects}
    if CloseBoundaryNotFoundDefect in defects:
        problems.append("Mailens afsluttende MIME-grænse mangler; mailen kan være afkortet.")
    if defects & _LOST_STRUCTURE:
        problems.append(f"Mailens MIME-struktur er beskadiget: dens dele kunne ikke skilles ad. {_READ_RAW}")
        return None
    body = msg.get_body(preferencelist=("plain", "html"))
    attachments = _attachments(msg, body)
    if body is None and not any(a.filename for a in attachments) and any(map(_has_content, _mime_parts(msg))):
        problems.append(f"Mailens tekst blev ikke fundet blandt dens MIME-dele. {_READ_RAW}")
        return None
    return _body_text(body, problems), attachments


def parse_message(raw: bytes) -> ParsedMail:
    """A mail from RFC 822 bytes (.eml, one message of an mbox). Raises ``MailParseError`` if it is none."""
    if not raw.strip():
        raise MailParseError("Mailen er tom.")
    try:
        msg, refused = _read_mime(raw), None
    except _TooComplex as exc:
        msg, refused = _headers_only(raw), f"{exc} {_READ_RAW}"
    if not any(name in msg for name in _MAIL_HEADERS):
        raise MailParseError("Det er ikke en e-mail (RFC 822): ingen brevhoveder som From, To eller Subject.")
    try:
        return _parsed(msg, raw, refused)
    except _LIBRARY_ERRORS as err:  # a MIME structure too garbled for the email package
        raise MailParseError("Mailen er beskadiget og kan ikke læses.") from err


def _parsed(msg: EmailMessage, raw: bytes, refused: str | None) -> ParsedMail:
    """``refused``: why the parser gave up on the structure (only the headers were read), or None."""
    problems: list[str] = []
    sender = _header(msg, "from", problems)
    if refused:
        problems.append(refused)
    read = None if refused else _read_parts(msg, problems)
    if read is None:  # a person reads the raw text; urgency is read from it too
        new, quoted, signature, attachments = _raw_text(raw, problems), "", "", []
    else:
        text, attachments = read
        new, quoted, signature = split_body(text, sender=sender)
    return ParsedMail(
        message_id=_header(msg, "message-id", problems),
        sender=sender,
        to=_header(msg, "to", problems),
        subject=_header(msg, "subject", problems),
        new_text=new,
        quoted_text=quoted,
        signature=signature,
        attachments=attachments,
        date=_iso_date(msg, problems),
        problems=problems,
        size=len(raw),
        intact=read is not None,
    )


# --- fields (JSONL/CSV rows) and Outlook .msg ---------------------------------------------------------------


def parse_fields(sender: str, to: str, subject: str, body: str, message_id: str = "") -> ParsedMail:
    """A mail given as fields, as in the JSONL and CSV training files; ``size`` is the body's UTF-8 length."""
    problems: list[str] = []
    new, quoted, signature = split_body(_bounded(body, problems), sender=sender)
    return ParsedMail(
        message_id=message_id,
        sender=" ".join(sender.split()),
        to=" ".join(to.split()),
        subject=" ".join(subject.split()),
        new_text=new,
        quoted_text=quoted,
        signature=signature,
        problems=problems,
        size=len(body.encode("utf-8")),
    )


def _outlook_attachment(attachment: Any) -> Attachment:
    name = getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None) or ""
    data = getattr(attachment, "data", None)
    # An attached mail's data is an opened .msg, not bytes: its size is unknown without writing it out.
    size = len(data) if isinstance(data, bytes) else 0
    content_type = getattr(attachment, "mimetype", None) or "application/octet-stream"
    return Attachment(filename=name, content_type=content_type, size=size)


def _outlook_date(msg: Any, problems: list[str]) -> str | None:
    """Sent time, else received time, else the Date line of the saved transport headers."""
    when = msg.date or msg.receivedTime
    if when is None:
        raw = msg.header.get("Date") if msg.header is not None else None
        if not raw:
            return None
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            problems.append(f"Datoen '{raw}' kunne ikke forstås og er gemt som den står.")
            return str(raw)
    return when.isoformat()


def parse_outlook(source: Path | bytes) -> ParsedMail:
    """A mail from an Outlook .msg file (a path or its bytes). Raises ``MailParseError`` if it is none."""
    import extract_msg  # imported here: it takes a quarter of a second, and only .msg files need it
    from extract_msg.exceptions import ExMsgBaseException
    from extract_msg.msg_classes import MessageBase

    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    try:
        # Bytes go in as a file object: olefile takes short bytes for a file name and would open that path.
        msg = extract_msg.openMsg(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (ExMsgBaseException, OSError, ValueError) as err:
        raise MailParseError("Det er ikke en Outlook-mail (.msg), eller filen er beskadiget.") from err
    if not isinstance(msg, MessageBase):
        msg.close()
        raise MailParseError(
            "Outlook-filen er ikke en mail, men et andet element (fx en kontakt eller opgave)."
        )
    try:
        problems: list[str] = []
        text = _readable(msg.body or "", html=False, problems=problems)
        if not text and msg.htmlBody:
            text = _readable(decode_text(msg.htmlBody, "utf-8", problems), html=True, problems=problems)
        sender = " ".join((msg.sender or "").split())
        new, quoted, signature = split_body(text, sender=sender)
        return ParsedMail(
            message_id=(msg.messageId or "").strip(),
            sender=sender,
            to=" ".join((msg.to or "").split()),
            subject=" ".join((msg.subject or "").split()),
            new_text=new,
            quoted_text=quoted,
            signature=signature,
            attachments=[_outlook_attachment(a) for a in msg.attachments],
            date=_outlook_date(msg, problems),
            problems=problems,
            size=size,
        )
    finally:
        msg.close()
