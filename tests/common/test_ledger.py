"""The ledger contract: each typed record reads back as written, old rows read with defaults, and the
simulator writes the same kinds of row as the services."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evaluation.simulate import simulate_year
from services.common import ledger
from services.common.db import Database, open_database
from services.common.ledger import Outcome, Quality, Service, Task, Unit, UsageEvent

REPO = Path(__file__).resolve().parents[2]
COUNTS = ledger.ItemCounts(proposed=4, accepted=2, edited=1, removed=1, added=2, unmarked=1)
# (record function, its arguments besides the session, the task, outcome and volume the row must hold)
CASES: list[tuple[Callable[..., dict[str, Any]], dict[str, Any], Task, Outcome, float]] = [
    (
        ledger.record_transcription,
        dict(
            audio_seconds=3600.5,
            processing_seconds=412.0,
            quality=ledger.TranscriptionQuality("da", 0.98, 310, 5400, 4, "small", 3, "llm"),
        ),
        Task.TRANSCRIBE, Outcome.OK, 3600.5,
    ),
    (ledger.record_failed_transcription, {}, Task.TRANSCRIBE, Outcome.FAILED, 0.0),
    (
        ledger.record_review,
        dict(
            audio_seconds=1800.0,
            quality=ledger.ReviewQuality(120, 4000, 4010, 0.03, 95.0, COUNTS, ledger.ItemCounts(), True),
        ),
        Task.REVIEW, Outcome.OK, 1800.0,
    ),
    (
        ledger.record_answer,
        dict(
            abstained=False,
            processing_seconds=1.25,
            quality=ledger.AnswerQuality(0.8123, 2, "llm", ("barnets_lov", "os2borgerpc_docs")),
        ),
        Task.ASK, Outcome.ANSWERED, 1.0,
    ),
    (
        ledger.record_answer,
        dict(abstained=True, processing_seconds=0.5, quality=ledger.AnswerQuality(0.1, 0, "abstained", ())),
        Task.ASK, Outcome.ABSTAINED, 1.0,
    ),
    (
        ledger.record_feedback,
        dict(quality=ledger.FeedbackQuality(helpful=True, abstained=False, manual_minutes=12.0)),
        Task.FEEDBACK, Outcome.HELPFUL, 1.0,
    ),
    (
        ledger.record_feedback,
        dict(quality=ledger.FeedbackQuality(helpful=False, abstained=True)),
        Task.FEEDBACK, Outcome.UNHELPFUL, 1.0,
    ),
    (
        ledger.record_routing,
        dict(
            auto=True,
            processing_seconds=0.04,
            quality=ledger.RoutingQuality("byggesag", 0.93, "v3", contains_cpr=True, urgent=False),
        ),
        Task.ROUTE, Outcome.AUTO, 1.0,
    ),
    (
        ledger.record_routing,
        dict(auto=False, processing_seconds=0.0, quality=ledger.RoutingQuality(unreadable=True)),
        Task.ROUTE, Outcome.MANUAL, 1.0,
    ),
    (
        ledger.record_correction,
        dict(quality=ledger.QueueChoiceQuality("social", "byggesag", 0.91)),
        Task.CORRECTION, Outcome.MISROUTED, 1.0,
    ),
    (
        ledger.record_decision,
        dict(quality=ledger.QueueChoiceQuality("økonomi", "social", 0.42)),
        Task.DECISION, Outcome.DECIDED, 1.0,
    ),
]  # fmt: skip


def _stored(db: Database) -> list[UsageEvent]:
    with db.session() as session:
        return list(session.scalars(select(UsageEvent).order_by(UsageEvent.id)))


@pytest.mark.parametrize(("record", "arguments", "task", "outcome", "volume"), CASES)
def test_each_record_reads_back_as_written(
    db: Database,
    record: Callable[..., dict[str, Any]],
    arguments: dict[str, Any],
    task: Task,
    outcome: Outcome,
    volume: float,
) -> None:
    with db.session() as session:
        record(session, user="anna", reference="ref-1", **arguments)
    [row] = _stored(db)
    service, unit = ledger.TASKS[task]
    assert (row.service, row.task, row.volume_unit, row.outcome) == (service, task, unit, outcome)
    assert (row.volume, row.user, row.reference, row.simulated) == (volume, "anna", "ref-1", False)
    assert row.processing_seconds == arguments.get("processing_seconds", 0.0)
    quality: Quality | None = arguments.get("quality")
    if quality is None:
        assert row.quality == {}
    else:
        assert type(quality).from_dict(row.quality) == quality


def test_rows_collected_in_bulk_are_stored_like_rows_added_to_a_session(tmp_path: Path) -> None:
    stored = []
    for name in ("session", "bulk"):
        database = open_database(f"sqlite:///{tmp_path}/{name}.db")
        rows = ledger.Rows()
        with database.session() as session:
            for record, arguments, *_ in CASES:
                record(session if name == "session" else rows, user="anna", reference="ref-1", **arguments)
            assert rows.insert(session) == (0 if name == "session" else len(CASES))
        columns = ("service", "task", "volume", "volume_unit", "processing_seconds", "user", "outcome")
        columns += ("quality", "reference", "simulated")
        stored.append([tuple(getattr(r, c) for c in columns) for r in _stored(database)])
        database.dispose()
    assert stored[0] == stored[1] and len(stored[0]) == len(CASES)


def test_the_stored_quality_keeps_the_keys_readers_knew() -> None:
    review = ledger.ReviewQuality(10, 100, 105, 0.1, decisions=COUNTS, actions=COUNTS, item_review=True)
    assert review.to_dict() == {
        "edit_distance_chars": 10,
        "draft_chars": 100,
        "final_chars": 105,
        "edit_ratio": 0.1,
        "decisions": {"proposed": 4, "accepted": 2, "edited": 1, "removed": 1, "added": 2, "unmarked": 1},
        "actions": {"proposed": 4, "accepted": 2, "edited": 1, "removed": 1, "added": 2, "unmarked": 1},
        "item_review": True,
    }  # review_seconds not measured: left out, as before
    assert ledger.FeedbackQuality(False, True).to_dict() == {"helpful": False, "abstained": True}


def test_rows_written_before_read_with_defaults() -> None:
    # A review approved before item review existed, and one with figures of the wrong kind.
    old = ledger.ReviewQuality.from_dict({"edit_distance_chars": 3, "draft_chars": 40, "edit_ratio": 0.075})
    assert old == ledger.ReviewQuality(edit_distance_chars=3, draft_chars=40, edit_ratio=0.075)
    assert (
        old.decisions is None and old.review_seconds is None and old.counts(ledger.ItemKind.ACTIONS) is None
    )
    odd = ledger.ReviewQuality.from_dict(
        {
            "review_seconds": "a while",
            "edit_ratio": None,
            "decisions": {"proposed": True, "removed": -2, "added": 3},
        }
    )
    assert odd.review_seconds is None and odd.edit_ratio == 0.0
    assert odd.decisions == ledger.ItemCounts(added=3)
    assert ledger.FeedbackQuality.from_dict({"manual_minutes": 15}) == ledger.FeedbackQuality(
        manual_minutes=15.0
    )
    assert ledger.TranscriptionQuality.from_dict(None) == ledger.TranscriptionQuality()
    assert ledger.AnswerQuality.from_dict({"collections": ["a", "b"]}).collections == ("a", "b")


def test_enum_values_are_the_stored_strings() -> None:
    assert [s.value for s in Service] == ["minutes", "chatbot", "mailsort"]
    assert set(ledger.TASKS) == set(Task)
    assert {unit for _, unit in ledger.TASKS.values()} == set(Unit)


def _record_calls(*paths: Path) -> set[str]:
    return {name for path in paths for name in re.findall(r"ledger\.(record_\w+)", path.read_text("utf-8"))}


def test_the_simulator_writes_what_the_services_write(db: Database) -> None:
    services = _record_calls(*(REPO / "services").rglob("*.py"))
    simulator = _record_calls(REPO / "evaluation" / "simulate.py")
    assert simulator == services == {name for name in dir(ledger) if name.startswith("record_")}

    simulate_year(db, 2026, seed=2, scale=0.05)
    rows = _stored(db)
    assert rows and all(row.simulated for row in rows)
    written = {(row.service, row.task, row.volume_unit) for row in rows}
    assert written == {(service, task, unit) for task, (service, unit) in ledger.TASKS.items()}
    assert {row.outcome for row in rows} <= set(Outcome)
