"""Drafting from files: a transcript JSON in kai's own form (``transcript.json``) or the meetings form
(``{"segments": [{"speaker": …, "text": …}]}``, times optional, other keys ignored), and the draft's JSON as
``kai minutes draft --json`` prints it. Segments are numbered by their position in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.common.errors import InvalidInput, NotFound
from services.minutes.pipeline.types import MinutesDraft, Segment, Transcript

_SECONDS_PER_SEGMENT = 10.0  # the clock given to segments without times
OUTSIDE_AGENDA_TITLE = "Uden for dagsordenen"


def _shape_error(detail: str) -> InvalidInput:
    return InvalidInput(f"Transskriptionen har ikke den forventede form: {detail}.")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _shape_error(f"{what} skal være et tal")
    return float(value)


def transcript_from_json(data: Any) -> Transcript:
    """A ``Transcript`` from either form; raises ``InvalidInput`` (in Danish) when the shape is wrong."""
    if not isinstance(data, dict):
        raise _shape_error("filen skal indeholde et JSON-objekt")
    raw_segments = data.get("segments")
    if not isinstance(raw_segments, list):
        raise _shape_error('der mangler en liste "segments"')
    segments = []
    for position, raw in enumerate(raw_segments):
        if not isinstance(raw, dict):
            raise _shape_error(f"segment {position} er ikke et objekt")
        text = raw.get("text")
        if not isinstance(text, str):
            raise _shape_error(f'segment {position} mangler en tekst ("text")')
        speaker = raw.get("speaker")
        if speaker is not None and not isinstance(speaker, str):
            raise _shape_error(f'segment {position} har en taler ("speaker"), der ikke er tekst')
        start = _number(raw.get("start", position * _SECONDS_PER_SEGMENT), f"start i segment {position}")
        end = _number(raw.get("end", start + _SECONDS_PER_SEGMENT - 1), f"end i segment {position}")
        segments.append(Segment(id=position, start=start, end=max(start, end), text=text, speaker=speaker))
    speakers = data.get("speakers", {})
    if not isinstance(speakers, dict):
        raise _shape_error('"speakers" skal være et objekt')
    duration = data.get("duration")
    ends = [s.end for s in segments]
    return Transcript(
        language=str(data.get("language", "da")),
        language_probability=1.0,
        duration=_number(duration, "duration") if duration is not None else max(ends, default=0.0),
        segments=segments,
        speakers={str(k): str(v) for k, v in speakers.items()},
    )


def read_transcript(path: Path) -> Transcript:
    if not path.is_file():
        raise NotFound(f"Transskriptionen {path} findes ikke.")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Transskriptionen {path.name} er ikke UTF-8-tekst.") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"Transskriptionen {path.name} er ikke gyldig JSON (linje {exc.lineno}).") from exc
    return transcript_from_json(data)


def draft_json(draft: MinutesDraft, transcript: Transcript) -> dict[str, Any]:
    """The draft as ``kai minutes draft --json`` prints it: sections with their segments, summary, decisions
    and action items, each item with the segment it was said in; the segments no section holds (talk outside
    the agenda) come first, as item 0."""
    listed = {i for section in draft.sections for i in section.segment_ids}
    outside = [s.id for s in transcript.segments if s.id not in listed]
    opening = [
        {
            "number": 0,
            "title": OUTSIDE_AGENDA_TITLE,
            "segment_ids": outside,
            "summary": [],
            "decisions": [],
            "actions": [],
        }
    ]
    return {
        "sections": opening * bool(outside)
        + [
            {
                "number": section.number,
                "title": section.title,
                "segment_ids": list(section.segment_ids),
                "summary": list(section.summary),
                "decisions": [{"text": d.text, "segment": d.segment} for d in section.decisions],
                "actions": [
                    {
                        "who": a.who,
                        "what": a.what,
                        "deadline": a.deadline_date,
                        "deadline_text": a.deadline_text,
                        "segment": a.segment,
                    }
                    for a in section.actions
                ],
            }
            for section in draft.sections
        ]
    }
