"""Exports of a transcript and a minutes draft: DOCX, Markdown, plain text, SRT, WebVTT and JSON.

Every function here is pure (data in, text or bytes out); the API and the CLI call them as they are.
All user text (transcript, words, speaker names, titles, summaries, decisions, actions, participants) is
passed through ``mask_cpr`` before it is formatted, so no CPR number can leave the service in an export.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from dataclasses import dataclass, replace
from datetime import date
from io import BytesIO
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from services.common.danish import danish_date
from services.common.errors import InvalidInput
from services.common.privacy import CPR_MASK, find_cpr_numbers, mask_cpr
from services.minutes.pipeline.types import (
    ActionItem,
    AgendaSection,
    Decision,
    MinutesDraft,
    Segment,
    Transcript,
    Word,
)

# In the order a person is offered them (Word first: what most meetings are shared as).
EXPORT_FORMATS = ("docx", "txt", "md", "srt", "vtt", "json")

# Subtitle limits (common broadcast practice): two lines of at most 42 characters, at most 7 seconds.
MAX_LINE_CHARS = 42
MAX_CUE_LINES = 2
MAX_CUE_SECONDS = 7.0

DRAFT_NOTE = "Udkast genereret automatisk af kai – skal gennemlæses"
FINAL_NOTE = "Godkendt referat"
NO_DECISIONS = "Ingen beslutninger registreret."
NO_ACTIONS = "Ingen opfølgningspunkter registreret."
NO_SUMMARY = "Intet resumé registreret."
NO_SECTIONS = "Ingen dagsordenspunkter registreret."
NOT_GIVEN = "Ikke angivet"
APPENDIX_TITLE = "Bilag: Transskription"

_FILENAMES = {
    "docx": "referat.docx",
    "md": "referat.md",
    "txt": "referat.txt",
    "srt": "transcript.srt",
    "vtt": "transcript.vtt",
    "json": "transcript.json",
}

# Characters XML 1.0 forbids; python-docx refuses text holding them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Characters with meaning in Markdown inline text.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
# A paragraph that starts like a list item ("1. ", "- ") would turn into a list.
_MD_LIST_START = re.compile(r"^(\d+)([.)])|^([-+])")


# --- masking -------------------------------------------------------------------------------------------


def _mask_words(words: list[Word]) -> list[Word]:
    """Words with CPR numbers masked, also when one number is spread over several words.

    Words are masked in their joined text, so "010190" + "-1234" is caught too; the words a number touches
    are merged into one "[CPR]" word spanning their time.
    """
    joined = "".join(w.word for w in words)
    matches = find_cpr_numbers(joined)
    bounds: list[tuple[int, int]] = []
    offset = 0
    for w in words:
        bounds.append((offset, offset + len(w.word)))
        offset += len(w.word)

    groups: list[list[int]] = []
    for i, (start, _) in enumerate(bounds):
        crosses = any(m.start < start < m.end for m in matches)
        if groups and crosses:
            groups[-1].append(i)
        else:
            groups.append([i])

    masked = []
    for group in groups:
        first = words[group[0]]
        lo, hi = bounds[group[0]][0], bounds[group[-1]][1]
        parts, pos = [], lo
        for m in matches:
            if lo <= m.start and m.end <= hi:
                parts += [joined[pos : m.start], CPR_MASK]
                pos = m.end
        parts.append(joined[pos:hi])
        masked.append(
            Word(
                start=first.start,
                end=max(words[i].end for i in group),
                word=mask_cpr("".join(parts)),
                probability=min(words[i].probability for i in group),
                speaker=_mask_name(first.speaker),
            )
        )
    return masked


def _mask_name(name: str | None) -> str | None:
    # Names end up on one line (cue prefixes, voice tags, table cells), so whitespace is collapsed too.
    return None if name is None else " ".join(mask_cpr(name).split())


def masked_transcript(transcript: Transcript) -> Transcript:
    """``transcript`` with CPR numbers masked in its text, words and speakers (stored and exported so)."""
    segments = [
        replace(
            s,
            text=mask_cpr(s.text),
            words=_mask_words(s.words),
            speaker=_mask_name(s.speaker),
        )
        for s in transcript.segments
    ]
    speakers = {_mask_name(k) or "": _mask_name(v) or "" for k, v in transcript.speakers.items()}
    return replace(transcript, segments=segments, speakers=speakers, model=mask_cpr(transcript.model))


def masked_draft(draft: MinutesDraft) -> MinutesDraft:
    """``draft`` with CPR numbers masked in all its text (the service stores edited minutes this way)."""

    def section(s: AgendaSection) -> AgendaSection:
        return replace(
            s,
            title=mask_cpr(s.title),
            summary=[mask_cpr(x) for x in s.summary],
            decisions=[replace(d, text=mask_cpr(d.text), speaker=_mask_name(d.speaker)) for d in s.decisions],
            actions=[
                replace(
                    a,
                    what=mask_cpr(a.what),
                    who=_mask_name(a.who),
                    deadline=None if a.deadline is None else mask_cpr(a.deadline),
                    deadline_text=None if a.deadline_text is None else mask_cpr(a.deadline_text),
                    speaker=_mask_name(a.speaker),
                )
                for a in s.actions
            ],
        )

    return replace(
        draft,
        title=mask_cpr(draft.title),
        participants=[_mask_name(p) or "" for p in draft.participants],
        sections=[section(s) for s in draft.sections],
    )


# --- small formatting helpers --------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _millis(seconds: float) -> int:
    return max(0, round(seconds * 1000)) if math.isfinite(seconds) else 0


def _timestamp(seconds: float, separator: str) -> str:
    """``HH:MM:SS<sep>mmm``: SRT uses a comma, WebVTT a full stop."""
    hours, rest = divmod(_millis(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _clock(seconds: float) -> str:
    """``HH:MM:SS`` (rounded down) for the timestamped transcript in the minutes."""
    return _timestamp(seconds, ",")[:8]


def _danish_date(value: date | None) -> str:
    return NOT_GIVEN if value is None else danish_date(value)


def _deadline_text(action: ActionItem) -> str:
    """A resolved deadline (an ISO date) the Danish way; one that could not be resolved as it was said
    ("efter sommerferien"); else "ikke angivet"."""
    if action.deadline_date is not None:
        return _danish_date(date.fromisoformat(action.deadline_date))
    said = action.deadline_text or action.deadline
    return _one_line(said) if said and said.strip() else NOT_GIVEN.lower()


REVIEW_MARKS = {"edited": "rettet ved gennemsyn", "added": "tilføjet ved gennemsyn"}


def _marked(text: str, item: Decision | ActionItem) -> str:
    """``text`` with the review's mark when the reviewer edited or added the item."""
    mark = REVIEW_MARKS.get(item.review or "")
    return f"{text} ({mark})" if mark else text


def _action_fields(transcript: Transcript, action: ActionItem) -> tuple[str, str, str]:
    """(who, what, deadline) as shown; ``who`` may be a speaker label, so it gets its display name."""
    who = transcript.speaker_name(action.who) if action.who else NOT_GIVEN
    return who or NOT_GIVEN, _marked(_one_line(action.what), action), _deadline_text(action)


def _action_line(transcript: Transcript, action: ActionItem) -> str:
    who, what, deadline = _action_fields(transcript, action)
    return f"{who}: {what} (frist: {deadline})"


def _participants(transcript: Transcript, draft: MinutesDraft) -> str:
    names = [transcript.speaker_name(p) for p in draft.participants if p]
    return ", ".join(names) if names else NOT_GIVEN


def _summary(section: AgendaSection) -> str:
    text = _one_line(" ".join(section.summary))
    return text or NO_SUMMARY


def _transcript_lines(transcript: Transcript) -> list[tuple[str, str, str]]:
    """(``[HH:MM:SS]``, speaker display name or "", text) for each non-empty segment, in time order."""
    lines = []
    for s in sorted(transcript.segments, key=lambda s: s.start):
        text = _one_line(s.text)
        if text:
            lines.append((f"[{_clock(s.start)}]", transcript.speaker_name(s.speaker), text))
    return lines


def _transcript_line(stamp: str, speaker: str, text: str) -> str:
    return f"{stamp} {speaker}: {text}" if speaker else f"{stamp} {text}"


# --- JSON ----------------------------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return _millis(seconds) / 1000


def _word_json(transcript: Transcript, word: Word, segment: Segment) -> dict[str, Any]:
    label = word.speaker if word.speaker is not None else segment.speaker
    return {
        "start": _ms(word.start),
        "end": _ms(word.end),
        "word": word.word,
        "probability": float(word.probability),
        "speaker": transcript.speaker_name(label) if label is not None else None,
    }


def transcript_json(transcript: Transcript) -> dict[str, Any]:
    """The transcript as the JSON outside tools read (whisper-style segments; speaker = display name)."""
    t = masked_transcript(transcript)
    return {
        "language": t.language,
        "language_probability": float(t.language_probability),
        "duration": _ms(t.duration),
        "model": t.model,
        "speakers": dict(t.speakers),
        "segments": [
            {
                "id": s.id,
                "start": _ms(s.start),
                "end": _ms(s.end),
                "speaker": t.speaker_name(s.speaker) if s.speaker is not None else None,
                "text": s.text.strip(),
                "words": [_word_json(t, w, s) for w in s.words],
            }
            for s in t.segments
        ],
    }


# --- subtitles -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Timed:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class _Cue:
    start: float
    end: float
    speaker: str  # display name, "" when unknown
    text: str


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, MAX_LINE_CHARS, break_long_words=False, break_on_hyphens=False)


def _spread(tokens: list[str], start: float, end: float) -> list[_Timed]:
    """Tokens with times spread over the segment by their length (when there are no usable word times)."""
    weights = [len(tok) + 1 for tok in tokens]
    total, span = sum(weights), max(end - start, 0.0)
    timed, at = [], start
    for tok, weight in zip(tokens, weights, strict=True):
        duration = span * weight / total
        timed.append(_Timed(at, at + duration, tok))
        at += duration
    return timed


def _segment_tokens(segment: Segment) -> list[_Timed]:
    text = _one_line(segment.text)
    words = [_Timed(w.start, w.end, _one_line(w.word)) for w in segment.words if w.word.strip()]
    # Word times are only trusted while the words still spell the segment text (it may have been edited).
    if words and " ".join(w.text for w in words) == text:
        return words
    return _spread(text.split(), segment.start, segment.end) if text else []


def _fits(prefix: str, tokens: list[_Timed]) -> bool:
    lines = _wrap(prefix + " ".join(t.text for t in tokens))
    return len(lines) <= MAX_CUE_LINES and tokens[-1].end - tokens[0].start <= MAX_CUE_SECONDS


def _group(prefix: str, tokens: list[_Timed]) -> list[list[_Timed]]:
    """Greedy split into cues that fit; a single over-long word still gets a cue of its own."""
    groups: list[list[_Timed]] = []
    current: list[_Timed] = []
    for token in tokens:
        if current and not _fits(prefix, [*current, token]):
            groups.append(current)
            current = []
        current.append(token)
    if current:
        groups.append(current)
    return groups


def _cues(transcript: Transcript) -> list[_Cue]:
    """Subtitle cues shared by SRT and WebVTT, so both formats have the same timing."""
    cues: list[_Cue] = []
    previous_start = 0.0
    for segment in sorted(transcript.segments, key=lambda s: s.start):
        speaker = transcript.speaker_name(segment.speaker)
        # The SRT prefix "Navn: " takes room on the first line, so it counts in both formats.
        prefix = f"{speaker}: " if speaker else ""
        for group in _group(prefix, _segment_tokens(segment)):
            # Players expect cues in time order; overlapping word times must not move a cue backwards.
            start = max(group[0].start, previous_start)
            end = max(max(t.end for t in group), start)
            cues.append(_Cue(start, end, speaker, " ".join(t.text for t in group)))
            previous_start = start
    return _without_overlap(cues)


def _without_overlap(cues: list[_Cue]) -> list[_Cue]:
    """Cues ending when the next one starts, so two cues are not on screen at once.

    Only where the next cue starts later: a cue is never shortened to nothing.
    """
    out = []
    for cue, following in zip(cues, [*cues[1:], None], strict=True):
        if following is not None and cue.start < following.start < cue.end:
            cue = replace(cue, end=following.start)
        out.append(cue)
    return out


def transcript_srt(transcript: Transcript) -> str:
    """SubRip subtitles, each cue's text starting with the speaker's display name."""
    blocks = []
    for number, cue in enumerate(_cues(masked_transcript(transcript)), start=1):
        prefix = f"{cue.speaker}: " if cue.speaker else ""
        # "-->" inside the text would read as a timing line to some parsers.
        lines = [line.replace("-->", "->") for line in _wrap(prefix + cue.text)]
        timing = f"{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}"
        blocks.append("\n".join([str(number), timing, *lines]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def transcript_vtt(transcript: Transcript) -> str:
    """WebVTT subtitles with the speaker as a voice tag (``<v Mette Hansen>``)."""
    blocks = ["WEBVTT"]
    for number, cue in enumerate(_cues(masked_transcript(transcript)), start=1):
        lines = [_vtt_escape(line) for line in _wrap(cue.text)]
        if cue.speaker:
            lines[0] = f"<v {_vtt_escape(cue.speaker)}>{lines[0]}"
        timing = f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}"
        blocks.append("\n".join([str(number), timing, *lines]))
    return "\n\n".join(blocks) + "\n"


# --- minutes: Markdown and plain text ------------------------------------------------------------------


def _md_inline(text: str) -> str:
    """User text as literal Markdown inside a line (no accidental emphasis, links or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))


def _md(text: str) -> str:
    """User text that starts a paragraph or list item: also kept from turning into a (nested) list."""
    escaped = _md_inline(text)
    return _MD_LIST_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)


def minutes_markdown(transcript: Transcript, draft: MinutesDraft, *, final: bool = False) -> str:
    """The minutes in Markdown, following the municipality's form, with the transcript as an appendix."""
    t, d = masked_transcript(transcript), masked_draft(draft)
    out = [
        f"# {_md_inline(d.title)}",
        f"*{FINAL_NOTE if final else DRAFT_NOTE}*",
        f"**Dato:** {_danish_date(d.meeting_date)}",
        f"**Deltagere:** {_md_inline(_participants(t, d))}",
    ]
    if not d.sections:
        out.append(NO_SECTIONS)
    for section in d.sections:
        out.append(f"## Punkt {section.number}: {_md_inline(section.title)}")
        out += ["### Resumé", _md(_summary(section)), "### Beslutninger"]
        out.append("\n".join(f"- {_md(_marked(x.text, x))}" for x in section.decisions) or NO_DECISIONS)
        out.append("### Opfølgning")
        out.append("\n".join(f"- {_md(_action_line(t, a))}" for a in section.actions) or NO_ACTIONS)
    out.append(f"## {APPENDIX_TITLE}")
    for stamp, speaker, text in _transcript_lines(t):
        out.append(_transcript_line(stamp, _md_inline(speaker), _md_inline(text)))
    return mask_cpr("\n\n".join(out) + "\n")  # second net; masking is idempotent


def minutes_text(transcript: Transcript, draft: MinutesDraft, *, final: bool = False) -> str:
    """The minutes as plain text (no Markdown), for mail bodies and journal systems."""
    t, d = masked_transcript(transcript), masked_draft(draft)
    out = [
        f"{_one_line(d.title)}\n{FINAL_NOTE if final else DRAFT_NOTE}",
        f"Dato: {_danish_date(d.meeting_date)}\nDeltagere: {_participants(t, d)}",
    ]
    if not d.sections:
        out.append(NO_SECTIONS)
    for section in d.sections:
        decisions = "\n".join(f"• {_marked(_one_line(x.text), x)}" for x in section.decisions) or NO_DECISIONS
        actions = "\n".join(f"• {_action_line(t, a)}" for a in section.actions) or NO_ACTIONS
        out += [
            f"Punkt {section.number}: {_one_line(section.title)}",
            f"Resumé\n{_summary(section)}",
            f"Beslutninger\n{decisions}",
            f"Opfølgning\n{actions}",
        ]
    lines = [_transcript_line(*line) for line in _transcript_lines(t)]
    out.append("\n".join([APPENDIX_TITLE, "", *lines]))
    return mask_cpr("\n\n".join(out) + "\n")


# --- minutes: DOCX -------------------------------------------------------------------------------------


def _x(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _set_danish_proofing(doc: DocxDocument) -> None:
    # Word then spell-checks the draft in Danish instead of the template's English.
    r_pr = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "da-DK")
    r_pr.append(lang)


def _labelled(doc: DocxDocument, label: str, value: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(label).bold = True
    paragraph.add_run(f" {_x(value)}")


def _docx_section(doc: DocxDocument, t: Transcript, section: AgendaSection) -> None:
    doc.add_heading(_x(f"Punkt {section.number}: {_one_line(section.title)}"), level=1)
    doc.add_heading("Resumé", level=2)
    doc.add_paragraph(_x(_summary(section)))

    doc.add_heading("Beslutninger", level=2)
    _docx_decisions(doc, section.decisions)

    doc.add_heading("Opfølgning", level=2)
    if not section.actions:
        doc.add_paragraph(NO_ACTIONS)
        return
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, ("Hvem", "Hvad", "Frist"), strict=True):
        cell.paragraphs[0].add_run(heading).bold = True
    for action in section.actions:
        for cell, value in zip(table.add_row().cells, _action_fields(t, action), strict=True):
            cell.text = _x(value)


def _docx_decisions(doc: DocxDocument, decisions: list[Decision]) -> None:
    if not decisions:
        doc.add_paragraph(NO_DECISIONS)
    for decision in decisions:
        doc.add_paragraph(_x(_marked(_one_line(decision.text), decision)), style="List Bullet")


def minutes_docx(transcript: Transcript, draft: MinutesDraft, *, final: bool = False) -> bytes:
    """The minutes as a Word document (.docx), with the action items in a Hvem/Hvad/Frist table."""
    t, d = masked_transcript(transcript), masked_draft(draft)
    doc = Document()
    _set_danish_proofing(doc)
    doc.core_properties.title = _x(_one_line(d.title))
    doc.core_properties.language = "da-DK"

    doc.add_heading(_x(_one_line(d.title)), level=0)
    doc.add_paragraph().add_run(FINAL_NOTE if final else DRAFT_NOTE).italic = True
    _labelled(doc, "Dato:", _danish_date(d.meeting_date))
    _labelled(doc, "Deltagere:", _participants(t, d))
    if not d.sections:
        doc.add_paragraph(NO_SECTIONS)
    for section in d.sections:
        _docx_section(doc, t, section)

    doc.add_heading(APPENDIX_TITLE, level=1)
    for stamp, speaker, text in _transcript_lines(t):
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{stamp} ")
        if speaker:
            paragraph.add_run(_x(f"{speaker}:")).bold = True
        paragraph.add_run(_x(f" {text}"))

    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --- dispatch ------------------------------------------------------------------------------------------


def render_export(
    fmt: str, transcript: Transcript, draft: MinutesDraft, *, final: bool = False
) -> tuple[bytes, str, str]:
    """(content, format, file name) for one of ``EXPORT_FORMATS``; ``final`` only affects the minutes.

    The format is the ``EXPORT_FORMATS`` key ``fmt`` names (``"DOCX"`` → ``"docx"``), which is also the file's
    key in ``services.common.files.MEDIA_TYPES``.
    """
    key = fmt.strip().lower().lstrip(".")
    if key not in EXPORT_FORMATS:
        valid = ", ".join(EXPORT_FORMATS)
        raise InvalidInput(f"Ukendt eksportformat '{fmt}'. Gyldige formater: {valid}.")
    if key == "docx":
        content = minutes_docx(transcript, draft, final=final)
    elif key == "md":
        content = minutes_markdown(transcript, draft, final=final).encode("utf-8")
    elif key == "txt":
        content = minutes_text(transcript, draft, final=final).encode("utf-8")
    elif key == "srt":
        content = transcript_srt(transcript).encode("utf-8")
    elif key == "vtt":
        content = transcript_vtt(transcript).encode("utf-8")
    else:
        content = json.dumps(transcript_json(transcript), ensure_ascii=False, indent=2).encode("utf-8")
    return content, key, _FILENAMES[key]
