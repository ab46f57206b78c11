"""``kai minutes …``: transcribe a recording into minutes and exports from the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from services.common.config import get_settings
from services.common.console import console, exit_on_error, open_cli_database, progress_bar
from services.common.errors import InvalidInput, NotFound
from services.common.llm import LlmClient
from services.minutes import folder, intake
from services.minutes.pipeline.draft import (
    build_minutes_draft,
    draft_json,
    llm_proposer,
    llm_summarizer,
    read_transcript,
)
from services.minutes.pipeline.export import minutes_markdown

app = typer.Typer(no_args_is_help=True)  # its help line is the plugin's (plugin.py)


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
        request = intake.MeetingRequest(
            title=title,
            meeting_date=parsed_date,
            participants=intake.parse_name_list(participants),
            agenda=intake.parse_agenda(agenda.read_bytes()) if agenda else None,
            glossary=intake.parse_name_list(glossary),
            language=language,
            num_speakers=speakers,
            diarize=diarize,
        )
        db, settings = open_cli_database()
        bar = progress_bar()
        task = bar.add_task(f"Behandler {audio.name}", total=100)

        def report(percent: float, message: str) -> None:
            bar.start()  # shown from the first progress on, so a refused input prints only its error line
            status, _, _latest_line = message.partition(": ")  # the bar shows the status, not the text
            bar.update(task, completed=percent, description=status)

        try:
            output = folder.transcribe_to_folder(db, settings, audio, out, request, report)
            bar.update(task, completed=100, description="Færdig")
        finally:
            bar.stop()
    transcript = output.transcript
    console.print(
        f"{len(transcript.segments)} segmenter, {transcript.duration:.0f} s, sprog: {transcript.language}, "
        f"{len(transcript.speakers) or len({s.speaker for s in transcript.segments})} talere → {out}"
    )


def _meeting_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as exc:
        raise InvalidInput(f"Ugyldig dato '{raw}'; brug formatet ÅÅÅÅ-MM-DD.") from exc


@app.command()
def draft(
    transcript: Annotated[
        Path, typer.Argument(help='transcript.json from kai, or {"segments": [{"speaker", "text"}]}.')
    ],
    agenda: Annotated[Path | None, typer.Option(help="Text file with one agenda item per line.")] = None,
    participants: Annotated[
        str | None, typer.Option(help='Participants, the chair first, e.g. "Mette Hansen,Ali Khan".')
    ] = None,
    meeting_date: Annotated[str | None, typer.Option("--date", help="Meeting date, YYYY-MM-DD.")] = None,
    title: Annotated[str, typer.Option(help="Title of the minutes.")] = "Mødereferat",
    as_json: Annotated[bool, typer.Option("--json", help="Print the draft as one JSON object.")] = False,
) -> None:
    """Write a minutes draft (sections, decisions, action items) from a transcript, without audio."""
    with exit_on_error():
        parsed_date = _meeting_date(meeting_date)
        if agenda is not None and not agenda.is_file():
            raise NotFound(f"Dagsordenen {agenda} findes ikke.")
        items = intake.parse_agenda(agenda.read_bytes()) if agenda else None
        source = read_transcript(transcript)
        settings = get_settings()
        client = LlmClient(settings) if settings.llm_url else None
        minutes = build_minutes_draft(
            source,
            title=title,
            meeting_date=parsed_date,
            participants=intake.parse_name_list(participants),
            agenda=items,
            summarizer=llm_summarizer(client) if client else None,
            proposer=llm_proposer(client) if client else None,
        )
    if as_json:
        typer.echo(json.dumps(draft_json(minutes, source), ensure_ascii=False))
    else:
        typer.echo(minutes_markdown(source, minutes))
