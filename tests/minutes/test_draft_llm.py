"""The optional language model in the minutes draft: its decisions and action items are kept only when the
cited segment exists and bears them out; a failing model leaves the draft as it was."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fake_llm import FakeLlm, running_fake_llm

from kai_cli import run_kai
from services.common.config import Settings
from services.common.llm import LlmClient
from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft import Proposal, build_minutes_draft, draft_json, llm_proposer
from services.minutes.pipeline.draft.proposals import support
from services.minutes.pipeline.draft.source import transcript_from_json
from services.minutes.pipeline.types import MinutesDraft, Transcript

CPR = "010190-1234"
PARTICIPANTS = ["Mette Hansen", "Lars Nielsen", "Anne Sørensen", "Peter Holm"]
LINES = [
    ("Mette Hansen", "godmorgen alle sammen, lad os komme i gang"),
    (
        "Lars Nielsen",
        "jeg har kigget på kopimaskiner, den billigste leasing er fra Konica til tolv tusind om året",
    ),
    ("Anne Sørensen", "det lyder fornuftigt, den gamle maskine er jo gået i stykker tre gange"),
    ("Mette Hansen", "fint, så tager vi Konica"),
    ("Peter Holm", "og så skal borgeren med sagen " + CPR + " have et svar"),
    ("Lars Nielsen", "jeg sender svaret til borgeren i morgen"),
    ("Anne Sørensen", "og julefrokosten holder vi i kantinen den tolvte december"),
    ("Mette Hansen", "godt. Tak for i dag"),
]


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    with running_fake_llm() as fake:
        yield fake


def _transcript() -> Transcript:
    return transcript_from_json({"segments": [{"speaker": s, "text": t} for s, t in LINES]})


def _draft(proposer: object) -> MinutesDraft:
    return build_minutes_draft(
        _transcript(),
        title="t",
        meeting_date=date(2026, 3, 10),
        participants=PARTICIPANTS,
        agenda=None,
        proposer=proposer,  # type: ignore[arg-type]
    )


def _items(draft: MinutesDraft) -> tuple[list[tuple[int | None, str]], list[tuple[int | None, str | None]]]:
    decisions = [(d.segment, d.text) for s in draft.sections for d in s.decisions]
    actions = [(a.segment, a.who) for s in draft.sections for a in s.actions]
    return decisions, actions


def test_support_is_the_share_of_words_said() -> None:
    assert support(
        "Leasing af kopimaskine fra Konica", "den billigste leasing er fra Konica"
    ) == pytest.approx(2 / 3)
    assert support("Skolen lukkes", "vi taler om budgettet") == 0.0


def test_supported_proposals_are_added_and_unsupported_ones_dropped() -> None:
    # Without the model, the draft holds the decision settled at 3 and Lars's action at 5.
    assert _items(_draft(None)) == (
        [(3, "Jeg har kigget på kopimaskiner, den billigste leasing er fra Konica til tolv tusind om året")],
        [(5, "Lars Nielsen")],
    )
    seen: list[list[tuple[int, str, str]]] = []

    def proposer(turns: list[tuple[int, str, str]]) -> list[Proposal]:
        seen.append(list(turns))
        return [
            Proposal("decision", f"Julefrokosten holdes i kantinen den 12. december ({CPR})", 6),  # said at 6
            Proposal("decision", "Udvalget lukker svømmehallen", 2),  # never said
            Proposal("decision", "Der leases en kopimaskine fra Konica", 2),  # said, but the draft has it (3)
            Proposal("action", "Sende svar til borgeren", 99),  # no such segment
            Proposal("action", "Anne bestiller nye stole til mødelokalet", 2, who="Anne"),  # not said there
            Proposal("action", "Skrive til borgeren i sagen", 4, who="Lars"),  # the draft has it (5)
            Proposal(
                "action", "Sende kantinen besked om julefrokosten", 6, who="Bo Lind"
            ),  # not at the table
        ]

    draft = _draft(proposer)

    # The model sees the turns numbered as in the transcript, CPR numbers masked.
    assert [(i, text) for i, _, text in seen[0]] == [(i, mask_cpr(text)) for i, (_, text) in enumerate(LINES)]
    assert _items(draft) == (
        [
            (
                3,
                "Jeg har kigget på kopimaskiner, den billigste leasing er fra Konica til tolv tusind om året",
            ),
            (6, "Julefrokosten holdes i kantinen den 12. december ([CPR])"),
        ],
        [(5, "Lars Nielsen"), (6, "Anne Sørensen")],  # the model's owner is no participant: the speaker's
    )
    assert CPR not in json.dumps(draft.to_dict(), ensure_ascii=False)


def test_a_failing_model_leaves_the_draft_as_it_was(caplog: pytest.LogCaptureFixture) -> None:
    def proposer(turns: list[tuple[int, str, str]]) -> list[Proposal]:
        raise RuntimeError(f"crashed on {turns[1][2]}")

    with caplog.at_level(logging.WARNING):
        draft = _draft(proposer)

    assert _items(draft) == _items(_draft(None))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and not any("kopimaskiner" in w or "crashed" in w for w in warnings)


def _answer(request: dict) -> str:
    system = request["messages"][0]["content"]
    if "beslutninger" in system and "JSON" in system:
        return "Her er det:\n" + json.dumps(
            {
                "decisions": [
                    {"text": "Kopimaskinen leases fra Konica", "segment": 3},
                    {"text": "Rådhuset males blåt", "segment": 2},
                ],
                "actions": [{"who": "Lars", "what": "Sende svaret til borgeren", "segment": 5}, "forkert"],
            },
            ensure_ascii=False,
        )
    return "Mødet handlede om kopimaskiner."


def test_llm_proposer_reads_the_models_json(fake_llm: FakeLlm) -> None:
    fake_llm.answer = _answer
    settings = Settings(llm_url=f"{fake_llm.url}/v1", llm_model="gemma-3", llm_timeout_seconds=5.0)
    proposer = llm_proposer(LlmClient(settings))

    proposals = proposer([(i, s, t) for i, (s, t) in enumerate(LINES)])

    assert proposals == [
        Proposal("decision", "Kopimaskinen leases fra Konica", 3),
        Proposal("decision", "Rådhuset males blåt", 2),
        Proposal("action", "Sende svaret til borgeren", 5, who="Lars"),
    ]
    user = fake_llm.requests[-1]["json"]["messages"][-1]["content"]
    assert "[1] Lars Nielsen: jeg har kigget på kopimaskiner" in user


def test_the_draft_command_uses_the_configured_model(
    fake_llm: FakeLlm, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_llm.answer = _answer
    monkeypatch.setenv("KAI_LLM_URL", f"{fake_llm.url}/v1")
    source = tmp_path / "møde.json"
    source.write_text(
        json.dumps({"segments": [{"speaker": s, "text": t} for s, t in LINES]}), encoding="utf-8"
    )

    result = run_kai(
        settings, "minutes", "draft", str(source), "--participants", ",".join(PARTICIPANTS), "--json"
    )

    assert result.returncode == 0, result.stderr
    sections = json.loads(result.stdout)["sections"]
    decisions = [d for s in sections for d in s["decisions"]]
    assert not any("Rådhuset" in d["text"] for d in decisions)
    assert all(s["summary"] == ["Mødet handlede om kopimaskiner."] for s in sections)
    assert any("beslutninger" in r["json"]["messages"][0]["content"] for r in fake_llm.requests)
    expected = draft_json(_draft(None), _transcript())
    assert [s["segment_ids"] for s in sections] == [s["segment_ids"] for s in expected["sections"]]
