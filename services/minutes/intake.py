"""What a person sends with a recording: parsed, bounded and checked before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from models.registry import whisper_languages
from services.common.config import Settings
from services.common.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from services.common.privacy import mask_cpr
from services.minutes.pipeline.audio import RECORDING_FORMATS, AudioError, has_sound, probe_audio
from services.minutes.pipeline.draft import read_agenda_lines

MAX_SPEAKERS = 20


@dataclass
class MeetingRequest:
    """What a person asks for with a recording; validated by ``validate_request``."""

    title: str = "Mødereferat"
    meeting_date: date | None = None
    participants: list[str] = field(default_factory=list)
    agenda: list[str] | None = None
    glossary: list[str] = field(default_factory=list)
    language: str = "da"  # a Whisper language code, or "auto"
    num_speakers: int | None = None
    diarize: bool = True


def parse_name_list(raw: str | None) -> list[str]:
    """``"Mette Hansen, Ali Khan"`` → ``["Mette Hansen", "Ali Khan"]`` (commas or new lines)."""
    if not raw:
        return []
    return [name.strip() for name in raw.replace("\n", ",").split(",") if name.strip()]


# A long agenda has a few dozen lines; this bounds what an agenda file can make the API hold in memory.


# A long agenda has a few dozen lines; this bounds what an agenda file can make the API hold in memory.
MAX_AGENDA_BYTES = 256 * 1024


def parse_agenda(raw: bytes) -> list[str]:
    """An agenda file: UTF-8 (or Windows-1252) text, one item per line, at most ``MAX_AGENDA_BYTES``."""
    if len(raw) > MAX_AGENDA_BYTES:
        raise PayloadTooLarge(f"Dagsordenen er større end {MAX_AGENDA_BYTES // 1024} KB.")
    return read_agenda_lines(raw)


def validate_request(settings: Settings, request: MeetingRequest) -> MeetingRequest:
    """The request checked, with CPR numbers masked in every text it holds (they are stored and shown)."""
    language = request.language.strip().lower()
    if language != "auto":
        supported = whisper_languages(settings)
        if language not in supported:
            raise InvalidInput(
                f"Ukendt sprogkode '{request.language}'. "
                f"Brug 'auto' eller en af: {', '.join(sorted(supported))}."
            )
    request.language = language
    if request.num_speakers is not None and not 1 <= request.num_speakers <= MAX_SPEAKERS:
        raise InvalidInput(f"Antal talere skal være mellem 1 og {MAX_SPEAKERS}.")
    if request.agenda is not None and not request.agenda:
        raise InvalidInput("Dagsordenen er tom.")
    request.title = mask_cpr(request.title.strip()) or "Mødereferat"
    request.participants = [mask_cpr(name) for name in request.participants]
    request.agenda = [mask_cpr(item) for item in request.agenda] if request.agenda is not None else None
    request.glossary = [mask_cpr(term) for term in request.glossary]
    return request


def recording_format(filename: str) -> str:
    """kai's name for an uploaded recording's format, from its suffix: only audio and video are accepted."""
    suffix = Path(filename).suffix
    fmt = suffix.lower().lstrip(".")
    if fmt not in RECORDING_FORMATS:
        named = f"«{mask_cpr(suffix)[:20]}»" if suffix else "uden filendelse"
        accepted = ", ".join(f.upper() for f in RECORDING_FORMATS)
        raise UnsupportedMediaType(
            f"En fil {named} kan ikke bruges som optagelse. Upload en lyd- eller videofil: {accepted}."
        )
    return fmt


def check_audio(path: Path) -> None:
    try:
        probe_audio(path)
        if not has_sound(path):
            raise AudioError("Optagelsen indeholder kun stilhed.")
    except AudioError as exc:
        raise UnsupportedMediaType(str(exc)) from exc


def store_upload(source: BinaryIO, target: Path, limit: int) -> int:
    written = 0
    with target.open("wb") as out:
        while block := source.read(1 << 20):
            written += len(block)
            if written > limit:
                raise PayloadTooLarge(f"Filen er større end grænsen på {limit // (1024 * 1024)} MB.")
            out.write(block)
    if written == 0:
        raise UnsupportedMediaType("Filen er tom.")
    return written
