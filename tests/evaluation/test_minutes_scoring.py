"""Scoring a minutes draft against gold minutes: every figure computed by hand on one small meeting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluation.minutes_scoring import first_name, score_meeting, score_meetings
from kai_cli import run_kai
from services.common.config import Settings

DATA = Path(__file__).resolve().parents[2] / "services" / "minutes" / "pipeline" / "draft" / "data"

# Twelve segments: small talk, item 1 (segments 1-4), item 2 (5-8), closing.
GOLD = {
    "id": "mtg-test",
    "segments": [
        {"speaker": "X", "text": "…", "item": item} for item in [0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0]
    ],
    "decisions": [{"item": 1, "text": "…", "segment": 2}, {"item": 2, "text": "…", "segment": 6}],
    "actions": [
        {"item": 1, "who": "Mette Hansen", "what": "…", "deadline": "2026-03-13", "segment": 3},
        {"item": 1, "who": "Lars Nielsen", "what": "…", "deadline": None, "segment": 3},
        {
            "item": 2,
            "who": "Anne Sørensen",
            "what": "…",
            "deadline": "2026-04-01",
            "deadline_alternatives": ["2026-03-31"],
            "segment": 7,
        },
    ],
    "not_decisions": [{"segment": 1, "why": "…"}, {"segment": 5, "why": "…"}],
    "ambiguous_segments": [11],
}
DRAFT = {
    "sections": [
        {
            "number": 0,
            "segment_ids": [0, 9],
            "decisions": [],
            "actions": [{"who": "Peter", "what": "…", "deadline": None, "segment": 0}],  # nothing near: wrong
        },
        {
            "number": 1,
            "segment_ids": [1, 2, 3, 4, 8],  # 8 belongs to item 2; listed here first, so wrong
            "decisions": [{"text": "…", "segment": 1}, {"text": "…", "segment": 3}],  # both near gold 2
            "actions": [{"who": "mette hansen", "what": "…", "deadline": "2026-03-13", "segment": 3}],
        },
        {
            "number": 2,
            "segment_ids": [4, 5, 6, 7, 8],
            # 9 is near nothing: wrong; 10 is near the ambiguous 11: neither right nor wrong.
            "decisions": [{"text": "…", "segment": 9}, {"text": "…", "segment": 10}],
            "actions": [{"who": "Lars", "what": "…", "deadline": "2026-03-31", "segment": 8}],
        },
    ]
}


def test_one_meeting_scored_by_hand() -> None:
    scores = score_meeting(GOLD, DRAFT).scores()

    # Decisions: 1 and 3 are right, 9 wrong, 10 not counted → P 2/3; gold 2 found, gold 6 not → R 1/2.
    assert scores["decisions"] == {
        "precision": 0.6667,
        "recall": 0.5,
        "f1": 0.5714,  # 2 · (2/3 · 1/2) / (2/3 + 1/2) = 4/7
        "reported": 3,
        "right": 2,
        "gold": 2,
        "found": 1,
        "duplicates": 1,  # two reports near gold 2
    }
    # Actions: 3 and 8 are right, 0 wrong → P 2/3; all three gold actions have a report within ±1 → R 1.
    assert scores["actions"] == {
        "precision": 0.6667,
        "recall": 1.0,
        "f1": 0.8,
        "reported": 3,
        "right": 2,
        "gold": 3,
        "found": 3,
        "duplicates": 0,
    }
    # Nearest reports: Mette's → 3 (right owner, right date); Lars's → 3 (Mette, 2026-03-13: both wrong);
    # Anne's → 8 (Lars: wrong owner; 2026-03-31 is one of her deadline's alternatives: right).
    assert scores["owner_accuracy"] == 0.3333
    assert scores["deadline_accuracy"] == 0.6667
    # Segments 1-7 right, 8 under item 1 → 7 of the 8 said under an item; with 0 and 9 right and 10, 11 in
    # no section: 9 of 12.
    assert scores["agenda_item_accuracy"] == 0.875
    assert scores["agenda_item_accuracy_all"] == 0.75
    # Not-decision 1 has a decision reported on it; 5 has none on it and no wrong report within ±1.
    assert scores["not_decisions"] == {"total": 2, "reported": 1, "share": 0.5}


def test_counts_add_up_over_meetings() -> None:
    empty = {"sections": []}
    total = score_meetings([(GOLD, DRAFT), (GOLD, empty)]).scores()

    assert total["meetings"] == 2
    assert total["decisions"]["recall"] == 0.25  # 1 of 4 found
    assert total["decisions"]["precision"] == 0.6667  # the empty draft reports nothing
    assert total["agenda_item_accuracy"] == round(7 / 16, 4)
    assert total["not_decisions"] == {"total": 4, "reported": 1, "share": 0.25}
    assert [m["id"] for m in score_meetings([(GOLD, DRAFT), (GOLD, empty)]).per_meeting] == ["mtg-test"] * 2


def test_owners_compare_by_first_name() -> None:
    assert first_name("Jens Peter Holm") == first_name("jens") == "jens"
    assert first_name(None) == first_name("  ") == ""


def test_kai_evaluate_minutes_scores_a_folder(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "møder"
    folder.mkdir()
    shutil.copy(DATA / "mtg-a-02.json", folder)

    result = run_kai(settings, "evaluate", "minutes", str(folder), "--json")

    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["meetings"] == 1 and scores["weights"] == "shipped"
    assert scores["trained_on_these"] == ["mtg-a-02"]  # the shipped weights have seen it: said, not hidden
    for key in ("decisions", "actions"):
        assert set(scores[key]) >= {"precision", "recall", "f1"}
    for key in ("owner_accuracy", "deadline_accuracy", "agenda_item_accuracy", "agenda_item_accuracy_all"):
        assert 0.0 <= scores[key] <= 1.0
    assert scores["not_decisions"]["total"] == 4


@pytest.mark.parametrize("folder", ["findes-ikke", "tom"])
def test_kai_evaluate_minutes_refuses_a_folder_without_meetings(
    settings: Settings, tmp_path: Path, folder: str
) -> None:
    (tmp_path / "tom").mkdir()

    result = run_kai(settings, "evaluate", "minutes", str(tmp_path / folder), "--json")

    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
