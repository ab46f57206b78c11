"""``kai minutes …``: transcribe a recording into minutes and exports from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from services.common.config import get_settings
from services.common.console import console, exit_on_error, progress_bar
from services.common.db import open_database
from services.common.errors import InvalidInput, NotFound
from services.minutes import service

app = typer.Typer(help="Referater: fra mødeoptagelse til referatudkast.", no_args_is_help=True)


@app.command()
def transcribe(
    audio: Annotated[Path, typer.Argument(help="The recording: WAV, MP3, M4A, OGG, FLAC or MP4.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for transcript.json, minutes.docx/.md, .srt, .vtt.")
    ],
    language: Annotated[str, typer.Option(help="Language code (da, en, …) or 'auto'.")] = "da",
    agenda: Annotated[Path | None, typer.Option(help="Text file with one agenda item per line.")] = None,
    participants: Annotated[
        str | None, typer.Option(help='Participants, e.g. "Mette Hansen,Ali Khan".')
    ] = None,
    speakers: Annotated[int | None, typer.Option(help="Number of speakers, if known.")] = None,
    title: Annotated[str, typer.Option(help="Title of the minutes.")] = "Mødereferat",
    meeting_date: Annotated[str | None, typer.Option("--date", help="Meeting date, YYYY-MM-DD.")] = None,
    glossary: Annotated[str | None, typer.Option(help="Local names and terms, separated by commas.")] = None,
    diarize: Annotated[bool, typer.Option(help="Find who speaks when.")] = True,
) -> None:
    """Transcribe AUDIO and write the minutes draft and transcript exports into --out."""
    with exit_on_error():
        if agenda is not None and not agenda.is_file():
            raise NotFound(f"Dagsordenen {agenda} findes ikke.")
        try:
            parsed_date = date.fromisoformat(meeting_date) if meeting_date else None
        except ValueError as exc:
            raise InvalidInput(f"Ugyldig dato '{meeting_date}'; brug formatet ÅÅÅÅ-MM-DD.") from exc
        request = service.MeetingRequest(
            title=title,
            meeting_date=parsed_date,
            participants=service.parse_name_list(participants),
            agenda=service.parse_agenda(agenda.read_bytes()) if agenda else None,
            glossary=service.parse_name_list(glossary),
            language=language,
            num_speakers=speakers,
            diarize=diarize,
        )
        settings = get_settings()
        settings.prepare_dirs()
        db = open_database(settings.resolved_database_url)
        bar = progress_bar()
        task = bar.add_task(f"Behandler {audio.name}", total=100)

        def report(percent: float, message: str) -> None:
            bar.start()  # shown from the first progress on, so a refused input prints only its error line
            status, _, _latest_line = message.partition(": ")  # the bar shows the status, not the text
            bar.update(task, completed=percent, description=status)

        try:
            output = service.transcribe_to_folder(db, settings, audio, out, request, report)
            bar.update(task, completed=100, description="Færdig")
        finally:
            bar.stop()
    transcript = output.transcript
    console.print(
        f"{len(transcript.segments)} segmenter, {transcript.duration:.0f} s, sprog: {transcript.language}, "
        f"{len(transcript.speakers) or len({s.speaker for s in transcript.segments})} talere → {out}"
    )
