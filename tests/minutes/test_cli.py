"""The `kai minutes transcribe` contract, run as the installed command a user (or an outside check) runs."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from audio_fixtures import SHARED_DATA, conversation, write_audio
from kai_cli import run_kai
from services.common.config import Settings

pytestmark = pytest.mark.slow

JFK = SHARED_DATA / "audio_en" / "jfk.flac"


def test_transcribe_writes_every_export(settings: Settings, tmp_path: Path) -> None:
    audio, _ = conversation(6, seed=5)
    recording = write_audio(tmp_path / "møde.wav", audio)
    agenda = tmp_path / "dagsorden.txt"
    agenda.write_text("Velkomst\nBudget 2027\nEventuelt\n", encoding="utf-8")
    out = tmp_path / "ud"
    result = run_kai(
        settings,
        "minutes",
        "transcribe",
        str(recording),
        "--out",
        str(out),
        "--language",
        "auto",
        "--agenda",
        str(agenda),
        "--participants",
        "Mette Hansen,Ali Khan",
        "--speakers",
        "2",
    )
    assert result.returncode == 0, result.stderr

    transcript = json.loads((out / "transcript.json").read_text(encoding="utf-8"))
    assert transcript["language"] == "da"
    assert transcript["duration"] == pytest.approx(len(audio) / 16000, abs=0.1)
    assert transcript["segments"]
    for segment in transcript["segments"]:
        assert {"start", "end", "speaker", "text", "words"} <= set(segment)
        assert segment["speaker"] in {"Taler 1", "Taler 2"}
    document = docx.Document(str(out / "minutes.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert any("Budget 2027" in h for h in headings)
    assert "Budget 2027" in (out / "minutes.md").read_text(encoding="utf-8")
    assert "-->" in (out / "transcript.srt").read_text(encoding="utf-8")
    assert (out / "transcript.vtt").read_text(encoding="utf-8").startswith("WEBVTT")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["minutes", "transcribe", "findes-ikke.wav", "--out", "ud"], "findes ikke"),
        (["minutes", "transcribe", str(SHARED_DATA / "README.md"), "--out", "ud"], "lyd"),
        (["minutes", "transcribe", str(JFK), "--out", "ud", "--language", "klingon"], "sprogkode"),
        (["minutes", "transcribe", str(JFK), "--out", "ud", "--speakers", "99"], "talere"),
        (["minutes", "transcribe", str(JFK), "--out", "ud", "--agenda", str(JFK)], "Dagsordenen"),
        (["minutes", "transcribe", str(JFK), "--out", "ud", "--date", "i går"], "dato"),
    ],
)
def test_bad_input_gives_one_line_and_non_zero_exit(
    settings: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_kai(settings, *args)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ud").exists()
