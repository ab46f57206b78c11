"""`kai minutes draft`: the JSON contract on a meeting file and on kai's own transcript.json; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kai_cli import run_kai
from services.common.config import Settings
from services.minutes.pipeline.export import transcript_json
from services.minutes.pipeline.types import Transcript

DATA = Path(__file__).resolve().parents[2] / "services" / "minutes" / "pipeline" / "draft" / "data"
FIXTURE = Path(__file__).parent / "fixtures" / "meeting_da.json"
SECTION_KEYS = {"number", "title", "segment_ids", "summary", "decisions", "actions"}
ACTION_KEYS = {"who", "what", "deadline", "deadline_text", "segment"}


def _check_contract(draft: dict, segments: int, items: int) -> None:
    assert set(draft) == {"sections"}
    sections = draft["sections"]
    assert all(set(s) == SECTION_KEYS for s in sections)
    assert {s["number"] for s in sections} <= set(range(items + 1))
    listed = [i for s in sections for i in s["segment_ids"]]
    assert sorted(listed) == list(range(segments))  # every segment once, by position
    for section in sections:
        assert all(isinstance(line, str) for line in section["summary"])
        for decision in section["decisions"]:
            assert set(decision) == {"text", "segment"} and decision["text"]
            assert decision["segment"] in range(segments)
        for action in section["actions"]:
            assert set(action) == ACTION_KEYS and action["what"]
            assert action["segment"] in range(segments)
            assert action["who"] is None or isinstance(action["who"], str)
            assert action["deadline"] is None or len(action["deadline"]) == 10
            assert action["deadline"] is None or action["deadline_text"]


def test_draft_of_a_meeting_file(settings: Settings, tmp_path: Path) -> None:
    meeting = json.loads((DATA / "mtg-b-04.json").read_text(encoding="utf-8"))
    agenda = tmp_path / "dagsorden.txt"
    agenda.write_text("\n".join(meeting["agenda"]), encoding="utf-8")
    participants = ",".join(p["name"] for p in meeting["participants"])

    result = run_kai(
        settings,
        "minutes",
        "draft",
        str(DATA / "mtg-b-04.json"),  # with the gold labels in it: ignored
        "--agenda",
        str(agenda),
        "--participants",
        participants,
        "--date",
        meeting["date"],
        "--json",
    )

    assert result.returncode == 0, result.stderr
    draft = json.loads(result.stdout)
    _check_contract(draft, len(meeting["segments"]), len(meeting["agenda"]))
    assert [s["title"] for s in draft["sections"] if s["number"]] == meeting["agenda"]
    actions = [a for s in draft["sections"] for a in s["actions"]]
    # "Lone vil du sende henvendelsen til visitationen" — "ja jeg sender den i dag" (segments 25-26).
    assert any(a["who"] == "Lone Bjerre" and a["deadline"] == meeting["date"] for a in actions)
    assert "040342-1386" not in result.stdout and "0403421386" not in result.stdout  # said in segment 24


def test_draft_of_kais_own_transcript_json(settings: Settings, tmp_path: Path) -> None:
    transcript = Transcript.from_dict(json.loads(FIXTURE.read_text(encoding="utf-8")))
    source = tmp_path / "transcript.json"
    source.write_text(json.dumps(transcript_json(transcript), ensure_ascii=False), encoding="utf-8")

    result = run_kai(settings, "minutes", "draft", str(source), "--date", "2025-11-18", "--json")

    assert result.returncode == 0, result.stderr
    draft = json.loads(result.stdout)
    _check_contract(draft, len(transcript.segments), len(draft["sections"]))
    assert [s["number"] for s in draft["sections"]] == list(range(1, len(draft["sections"]) + 1))
    owners = {a["who"] for s in draft["sections"] for a in s["actions"]}
    assert "Peter Holm" in owners  # "Peter, du sender referatet ud i morgen." — the speaker names come along


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "findes ikke"),
        ("{ikke json", [], "gyldig JSON"),
        ('{"segments": {"text": "hej"}}', [], "forventede form"),
        ('{"segments": [{"speaker": "A"}]}', [], "forventede form"),
        ('{"segments": []}', ["--date", "2026-02-30"], "Ugyldig dato"),
        ('{"segments": []}', ["--agenda", "mangler.txt"], "Dagsordenen"),
    ],
)
def test_bad_input_gives_one_danish_line_and_a_non_zero_exit(
    settings: Settings, tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    source = tmp_path / "møde.json"
    if content is not None:
        source.write_text(content, encoding="utf-8")

    result = run_kai(settings, "minutes", "draft", str(source), *args, "--json")

    assert result.returncode in (1, 2)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert message in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""
