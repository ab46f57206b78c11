"""Exports of a transcript and minutes draft: subtitle timing and splitting, JSON contract, DOCX content,
Danish headings, escaping and CPR masking in every format."""

from __future__ import annotations

import html
import json
import re
import zipfile
from datetime import date
from io import BytesIO
from itertools import pairwise

import pytest
from docx import Document

from services.common.errors import InvalidInput
from services.common.files import MEDIA_TYPES
from services.minutes.pipeline.export import (
    EXPORT_FORMATS,
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    minutes_docx,
    minutes_markdown,
    minutes_text,
    render_export,
    transcript_json,
    transcript_srt,
    transcript_vtt,
)
from services.minutes.pipeline.types import (
    ActionItem,
    AgendaSection,
    Decision,
    MinutesDraft,
    Segment,
    Transcript,
    Word,
)

LONG_TEXT = (
    "Jeg vil gerne præsentere budgettet for næste år, hvor vi skal se på udgifterne til "
    "vejvedligeholdelse, skolernes ombygning og den nye cykelsti langs Åvej, og jeg foreslår at vi "
    "prioriterer de projekter der giver størst værdi for borgerne i Høje-Taastrup, når beløbet er < 5 mio."
)
CPR_TEXT = "Borgerens CPR er 010190-1234, og det andet er 0101901234."

# What the exports must show: masked, whitespace normalised, display names instead of labels.
EXPECTED_CUES = [
    ("Mette Hansen", "Velkommen til mødet i Teknik & Miljø."),
    ("Jens Ødegård", LONG_TEXT),
    ("Mette Hansen", "Borgerens CPR er [CPR], og det andet er [CPR]."),
    ("", "Tak for i dag."),
]


def _words(text: str, start: float, step: float, speaker: str) -> list[Word]:
    """Whisper-style words (leading space) at a fixed pace."""
    return [
        Word(
            start=start + i * step,
            end=start + i * step + step * 0.8,
            word=f" {w}",
            probability=0.9,
            speaker=speaker,
        )
        for i, w in enumerate(text.split())
    ]


@pytest.fixture
def transcript() -> Transcript:
    long_words = _words(LONG_TEXT, 3.2, 0.4, "SPEAKER_01")
    cpr_words = [
        Word(25.0, 25.4, " Borgerens", 0.9, "SPEAKER_00"),
        Word(25.4, 25.8, " CPR", 0.9, "SPEAKER_00"),
        Word(25.8, 26.0, " er", 0.9, "SPEAKER_00"),
        # one CPR number split over two words, as a recognizer may emit it
        Word(26.0, 26.6, " 010190", 0.8, "SPEAKER_00"),
        Word(26.6, 27.1, "-1234,", 0.7, "SPEAKER_00"),
        Word(27.1, 27.3, " og", 0.9, "SPEAKER_00"),
        Word(27.3, 27.5, " det", 0.9, "SPEAKER_00"),
        Word(27.5, 27.8, " andet", 0.9, "SPEAKER_00"),
        Word(27.8, 28.0, " er", 0.9, "SPEAKER_00"),
        Word(28.0, 29.0, " 0101901234.", 0.9, "SPEAKER_00"),
    ]
    return Transcript(
        language="da",
        language_probability=0.98765,
        duration=3730.0,
        model="whisper-base",
        speakers={"SPEAKER_00": "Mette Hansen", "SPEAKER_01": "Jens Ødegård"},
        segments=[
            Segment(
                0,
                0.0,
                2.5,
                " Velkommen til mødet i Teknik & Miljø.",
                _words("Velkommen til mødet i Teknik & Miljø.", 0.123456, 0.3, "SPEAKER_00"),
                "SPEAKER_00",
            ),
            Segment(1, 3.0, 22.0, " " + LONG_TEXT, long_words, "SPEAKER_01"),
            Segment(2, 25.0, 29.0, " " + CPR_TEXT, cpr_words, "SPEAKER_00"),
            # no words and no speaker, over an hour in: times are spread over the segment
            Segment(3, 3725.0, 3728.0, " Tak for i dag.", [], None),
        ],
    )


@pytest.fixture
def draft() -> MinutesDraft:
    return MinutesDraft(
        title="Møde i Teknik- & Miljøudvalget om sag 010190-1234",
        meeting_date=date(2025, 3, 12),
        participants=["SPEAKER_00", "Jens Ødegård", "Borger 0101901234"],
        sections=[
            AgendaSection(
                number=1,
                title="Budget <2026> & anlæg",
                start=0.0,
                end=40.0,
                segment_ids=[0, 1, 2],
                summary=["Budgettet blev gennemgået.", "Borgeren 010190-1234 nævnt i sagen."],
                decisions=[
                    Decision("Cykelstien langs Åvej prioriteres & anlægges i 2026.", 20.0, "SPEAKER_01")
                ],
                actions=[
                    ActionItem(
                        "Send budgetnotatet til udvalget", "SPEAKER_00", "2025-03-14", 21.0, "SPEAKER_00"
                    ),
                    ActionItem(
                        "Ring til borger 0101901234 om sagen", None, "senest fredag", 27.0, "SPEAKER_00"
                    ),
                ],
            ),
            AgendaSection(2, "Eventuelt", 3725.0, 3728.0, [3], ["Intet at bemærke."]),
        ],
    )


# --- tiny subtitle parsers -----------------------------------------------------------------------------

_SRT_TIME = r"(\d{2}):(\d{2}):(\d{2}),(\d{3})"
_VTT_TIME = r"(\d{2}):(\d{2}):(\d{2})\.(\d{3})"


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _parse_cues(text: str, time_pattern: str) -> list[tuple[str, float, float, list[str]]]:
    """(id, start, end, text lines) per cue block."""
    timing = re.compile(rf"^{time_pattern} --> {time_pattern}$")
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        match = timing.match(lines[1])
        assert match, f"bad timing line: {lines[1]!r}"
        g = match.groups()
        cues.append((lines[0], _seconds(*g[:4]), _seconds(*g[4:]), lines[2:]))
    return cues


def _merge_by_speaker(cues: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for speaker, text in cues:
        if merged and merged[-1][0] == speaker:
            merged[-1] = (speaker, f"{merged[-1][1]} {text}")
        else:
            merged.append((speaker, text))
    return merged


def _srt_speaker_texts(srt: str) -> list[tuple[str, str]]:
    names = {name for name, _ in EXPECTED_CUES if name}
    out = []
    for _, _, _, lines in _parse_cues(srt, _SRT_TIME):
        text = " ".join(lines)
        speaker = next((n for n in names if text.startswith(f"{n}: ")), "")
        out.append((speaker, text.removeprefix(f"{speaker}: ") if speaker else text))
    return _merge_by_speaker(out)


def _check_timing(cues: list[tuple[str, float, float, list[str]]]) -> None:
    assert [c[0] for c in cues] == [str(i) for i in range(1, len(cues) + 1)]
    starts = [c[1] for c in cues]
    assert starts == sorted(starts)
    assert all(cue[2] <= following[1] for cue, following in pairwise(cues))
    for _, start, end, lines in cues:
        assert start <= end
        assert end - start <= MAX_CUE_SECONDS + 1e-9
        assert 1 <= len(lines) <= 2


# --- SRT -----------------------------------------------------------------------------------------------


def test_srt_cues_are_timed_split_and_parse_back(transcript: Transcript) -> None:
    srt = transcript_srt(transcript)
    cues = _parse_cues(srt, _SRT_TIME)
    _check_timing(cues)
    for _, _, _, lines in cues:
        assert all(len(line) <= MAX_LINE_CHARS for line in lines), lines

    assert _srt_speaker_texts(srt) == EXPECTED_CUES

    # The long segment is split into several cues, timed by its words (first word at 3.2 s, not 3.0 s).
    long_cues = [c for c in cues if " ".join(c[3]).startswith("Jens Ødegård: ")]
    assert len(long_cues) >= 3
    assert long_cues[0][1] == pytest.approx(3.2)
    assert all(" ".join(c[3]).startswith("Jens Ødegård: ") for c in long_cues)

    # Without words the times are spread over the segment; hours are formatted.
    assert "01:02:05,000 --> " in srt
    assert cues[-1][2] == pytest.approx(3728.0)
    assert "Tak for i dag." in cues[-1][3]


def test_srt_falls_back_to_segment_times_when_text_was_edited(transcript: Transcript) -> None:
    transcript.segments = [transcript.segments[0]]
    transcript.segments[0].text = " Velkommen til det rettede møde."  # the words still spell the old text
    cues = _parse_cues(transcript_srt(transcript), _SRT_TIME)
    assert [" ".join(c[3]) for c in cues] == ["Mette Hansen: Velkommen til det rettede møde."]
    assert (cues[0][1], cues[0][2]) == (0.0, 2.5)


# --- WebVTT --------------------------------------------------------------------------------------------


def test_vtt_header_voice_tags_escaping_and_parse_back(transcript: Transcript) -> None:
    vtt = transcript_vtt(transcript)
    assert vtt.startswith("WEBVTT\n\n")
    cues = _parse_cues(vtt.removeprefix("WEBVTT\n\n"), _VTT_TIME)
    _check_timing(cues)

    payload = "\n".join(line for c in cues for line in c[3])
    assert "&amp;" in payload and "&lt; 5 mio." in payload
    # the only raw "<" are voice tags
    assert re.findall(r"<[^v]", payload) == []
    assert "<v Mette Hansen>" in payload and "<v Jens Ødegård>" in payload

    parsed = []
    for _, _, _, lines in cues:
        text = " ".join(lines)
        voice = re.match(r"<v ([^>]*)>", text)
        speaker = html.unescape(voice[1]) if voice else ""
        parsed.append((speaker, html.unescape(text[voice.end() :] if voice else text)))
    assert _merge_by_speaker(parsed) == EXPECTED_CUES

    # Same timing as the SRT, so switching format does not move the subtitles.
    srt_cues = _parse_cues(transcript_srt(transcript), _SRT_TIME)
    assert [(c[1], c[2]) for c in cues] == [(c[1], c[2]) for c in srt_cues]


def test_vtt_escapes_speaker_names(transcript: Transcript) -> None:
    transcript.speakers["SPEAKER_00"] = "Mette <Formand> & Co"
    vtt = transcript_vtt(transcript)
    assert "<v Mette &lt;Formand&gt; &amp; Co>" in vtt
    assert "<Formand>" not in vtt


# --- JSON ----------------------------------------------------------------------------------------------


def test_json_contract(transcript: Transcript) -> None:
    data = transcript_json(transcript)
    json.dumps(data)  # serialisable as it is
    assert {"language", "duration", "segments", "language_probability", "model", "speakers"} <= set(data)
    assert data["language"] == "da"
    assert data["duration"] == 3730.0
    assert data["speakers"] == {"SPEAKER_00": "Mette Hansen", "SPEAKER_01": "Jens Ødegård"}

    segments = data["segments"]
    assert [s["id"] for s in segments] == [0, 1, 2, 3]
    for seg in segments:
        assert {"id", "start", "end", "speaker", "text", "words"} <= set(seg)
        for word in seg["words"]:
            assert {"start", "end", "word", "probability", "speaker"} <= set(word)
    assert [s["speaker"] for s in segments] == ["Mette Hansen", "Jens Ødegård", "Mette Hansen", None]
    assert segments[1]["words"][0]["speaker"] == "Jens Ødegård"
    assert segments[0]["text"] == "Velkommen til mødet i Teknik & Miljø."
    # times in seconds, rounded to milliseconds
    assert segments[0]["words"][0]["start"] == 0.123
    assert segments[0]["words"][1]["start"] == 0.423

    # The CPR number split over two words is merged into one masked word spanning both.
    cpr_words = [w for w in segments[2]["words"] if "[CPR]" in w["word"]]
    assert [w["word"] for w in cpr_words] == [" [CPR],", " [CPR]."]
    assert (cpr_words[0]["start"], cpr_words[0]["end"]) == (26.0, 27.1)
    assert segments[2]["text"] == "Borgerens CPR er [CPR], og det andet er [CPR]."


# --- minutes -------------------------------------------------------------------------------------------


def test_markdown_minutes(transcript: Transcript, draft: MinutesDraft) -> None:
    md = minutes_markdown(transcript, draft)
    lines = md.splitlines()
    assert lines[0] == r"# Møde i Teknik- & Miljøudvalget om sag \[CPR\]"
    assert "*Udkast genereret automatisk af kai – skal gennemlæses*" in lines
    assert "**Dato:** 12. marts 2025" in lines
    assert r"**Deltagere:** Mette Hansen, Jens Ødegård, Borger \[CPR\]" in lines
    assert r"## Punkt 1: Budget \<2026\> & anlæg" in lines
    assert "## Punkt 2: Eventuelt" in lines
    assert lines.count("### Resumé") == lines.count("### Beslutninger") == lines.count("### Opfølgning") == 2
    assert "- Cykelstien langs Åvej prioriteres & anlægges i 2026." in lines
    assert "- Mette Hansen: Send budgetnotatet til udvalget (frist: 14. marts 2025)" in lines
    assert r"- Ikke angivet: Ring til borger \[CPR\] om sagen (frist: senest fredag)" in lines
    assert "Ingen beslutninger registreret." in lines
    assert "Ingen opfølgningspunkter registreret." in lines
    assert "## Bilag: Transskription" in lines
    assert "[00:00:00] Mette Hansen: Velkommen til mødet i Teknik & Miljø." in lines
    assert "[01:02:05] Tak for i dag." in lines
    assert "Godkendt referat" not in md
    assert "*Godkendt referat*" in minutes_markdown(transcript, draft, final=True)


def test_text_minutes_has_no_markdown(transcript: Transcript, draft: MinutesDraft) -> None:
    txt = minutes_text(transcript, draft)
    lines = txt.splitlines()
    assert lines[:2] == [
        "Møde i Teknik- & Miljøudvalget om sag [CPR]",
        "Udkast genereret automatisk af kai – skal gennemlæses",
    ]
    assert "Dato: 12. marts 2025" in lines
    assert "Deltagere: Mette Hansen, Jens Ødegård, Borger [CPR]" in lines
    assert "Punkt 1: Budget <2026> & anlæg" in lines
    assert "• Mette Hansen: Send budgetnotatet til udvalget (frist: 14. marts 2025)" in lines
    assert "Ingen beslutninger registreret." in lines and "Ingen opfølgningspunkter registreret." in lines
    assert "Bilag: Transskription" in lines
    assert "[00:00:03] Jens Ødegård: " + LONG_TEXT in lines
    for syntax in ("#", "**", "\\", "*Udkast"):
        assert syntax not in txt
    assert "Godkendt referat" in minutes_text(transcript, draft, final=True).splitlines()[1]


def test_docx_minutes_read_back(transcript: Transcript, draft: MinutesDraft) -> None:
    doc = Document(BytesIO(minutes_docx(transcript, draft)))
    headings = [
        (p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))
    ]
    assert headings == [
        ("Title", "Møde i Teknik- & Miljøudvalget om sag [CPR]"),
        ("Heading 1", "Punkt 1: Budget <2026> & anlæg"),
        ("Heading 2", "Resumé"),
        ("Heading 2", "Beslutninger"),
        ("Heading 2", "Opfølgning"),
        ("Heading 1", "Punkt 2: Eventuelt"),
        ("Heading 2", "Resumé"),
        ("Heading 2", "Beslutninger"),
        ("Heading 2", "Opfølgning"),
        ("Heading 1", "Bilag: Transskription"),
    ]
    texts = [p.text for p in doc.paragraphs]
    assert "Udkast genereret automatisk af kai – skal gennemlæses" in texts
    assert "Dato: 12. marts 2025" in texts
    assert "Deltagere: Mette Hansen, Jens Ødegård, Borger [CPR]" in texts
    assert "Ingen beslutninger registreret." in texts and "Ingen opfølgningspunkter registreret." in texts
    assert "[00:00:25] Mette Hansen: Borgerens CPR er [CPR], og det andet er [CPR]." in texts
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert bullets == ["Cykelstien langs Åvej prioriteres & anlægges i 2026."]

    assert len(doc.tables) == 1
    rows = [[cell.text for cell in row.cells] for row in doc.tables[0].rows]
    assert rows == [
        ["Hvem", "Hvad", "Frist"],
        ["Mette Hansen", "Send budgetnotatet til udvalget", "14. marts 2025"],
        ["Ikke angivet", "Ring til borger [CPR] om sagen", "senest fredag"],
    ]

    final = [p.text for p in Document(BytesIO(minutes_docx(transcript, draft, final=True))).paragraphs]
    assert "Godkendt referat" in final
    assert "Udkast genereret automatisk af kai – skal gennemlæses" not in final


# --- every format --------------------------------------------------------------------------------------


def _all_text(content: bytes, fmt: str) -> str:
    if fmt == "md":
        return content.decode("utf-8").replace("\\", "")  # Markdown escapes the brackets of "[CPR]"
    if fmt != "docx":
        return content.decode("utf-8")
    with zipfile.ZipFile(BytesIO(content)) as archive:  # every part, document properties included
        return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_no_cpr_survives_any_format(fmt: str, transcript: Transcript, draft: MinutesDraft) -> None:
    content, _, _ = render_export(fmt, transcript, draft)
    text = _all_text(content, fmt)
    assert "[CPR]" in text
    for leaked in ("010190", "0101901234", "-1234"):
        assert leaked not in text


@pytest.mark.parametrize(
    ("fmt", "media_type", "filename"),
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "referat.docx"),
        ("md", "text/markdown; charset=utf-8", "referat.md"),
        ("txt", "text/plain; charset=utf-8", "referat.txt"),
        ("srt", "application/x-subrip; charset=utf-8", "transcript.srt"),
        ("vtt", "text/vtt; charset=utf-8", "transcript.vtt"),
        ("json", "application/json", "transcript.json"),
    ],
)
def test_render_export_media_types(
    fmt: str, media_type: str, filename: str, transcript: Transcript, draft: MinutesDraft
) -> None:
    content, got_format, got_name = render_export(fmt.upper(), transcript, draft)
    assert (got_format, MEDIA_TYPES[got_format], got_name) == (fmt, media_type, filename)
    assert content


def test_render_export_json_and_final(transcript: Transcript, draft: MinutesDraft) -> None:
    content, _, _ = render_export("json", transcript, draft)
    assert json.loads(content) == transcript_json(transcript)
    assert "Ødegård" in content.decode("utf-8")  # UTF-8, not \u escapes
    md, _, _ = render_export("md", transcript, draft, final=True)
    assert "Godkendt referat" in md.decode("utf-8")


def test_unknown_format_is_rejected(transcript: Transcript, draft: MinutesDraft) -> None:
    with pytest.raises(InvalidInput) as err:
        render_export("pdf", transcript, draft)
    assert "pdf" in err.value.message
    for fmt in EXPORT_FORMATS:
        assert fmt in err.value.message


def test_overlapping_segments_do_not_show_two_cues_at_once() -> None:
    overlapping = Transcript(
        language="da",
        language_probability=1.0,
        duration=6.0,
        segments=[
            Segment(0, 0.0, 5.0, " Første taler.", [], "A"),
            Segment(1, 3.0, 6.0, " Anden taler.", [], "B"),
            Segment(2, 3.0, 6.0, " Samtidig.", [], "C"),
        ],
    )
    cues = _parse_cues(transcript_srt(overlapping), _SRT_TIME)
    assert [(c[1], c[2]) for c in cues] == [(0.0, 3.0), (3.0, 6.0), (3.0, 6.0)]


def test_slow_speech_is_split_by_duration() -> None:
    # Few words over a long time: the line budget alone would keep them in one cue.
    words = _words("Ja. Nej. Måske. Øh. Altså. Godt.", 0.0, 2.0, "A")
    slow = Transcript(
        "da", 1.0, 12.0, [Segment(0, 0.0, 12.0, " Ja. Nej. Måske. Øh. Altså. Godt.", words, "A")]
    )
    cues = _parse_cues(transcript_srt(slow), _SRT_TIME)
    _check_timing(cues)
    assert len(cues) >= 2
    assert " ".join(" ".join(c[3]).removeprefix("A: ") for c in cues) == "Ja. Nej. Måske. Øh. Altså. Godt."
