"""Item review of the draft through the API: verdicts, working copy, access, bounds and the ledger counts."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from types import SimpleNamespace

import docx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from stored_meetings import store_meeting

from services.common.auth import Principal, Role
from services.common.config import Settings
from services.common.db import Database
from services.common.errors import Conflict
from services.common.ledger import UsageEvent
from services.minutes import review, service, store
from services.minutes.pipeline.export import render_export
from services.minutes.pipeline.types import ActionItem, AgendaSection, MinutesDraft, Segment, Transcript
from services.minutes.store import ReviewItem

API = "/api/minutes/meetings"
CPR = "010203-1234"


@pytest.fixture
def meeting(db: Database, settings: Settings, client: TestClient) -> str:
    meeting_id, draft = store_meeting(db, settings, owner="referent")
    decisions = sum(len(s.decisions) for s in draft.sections)
    actions = sum(len(s.actions) for s in draft.sections)
    assert decisions >= 2 and actions >= 2, (decisions, actions)  # the scenario below needs two of each
    return meeting_id


def _review(client: TestClient, meeting_id: str) -> dict:
    response = client.get(f"{API}/{meeting_id}/review")
    assert response.status_code == 200, response.text
    return response.json()


def _items(review: dict, kind: str) -> list[dict]:
    return [item for item in review["items"] if item["kind"] == kind]


def _review_rows(db: Database, meeting_id: str) -> list[UsageEvent]:
    with db.session() as session:
        query = select(UsageEvent).where(UsageEvent.task == "review", UsageEvent.reference == meeting_id)
        return list(session.scalars(query))


def _minutes_items(client: TestClient, meeting_id: str) -> tuple[list[str], list[dict]]:
    minutes = client.get(f"{API}/{meeting_id}/result").json()["minutes"]
    decisions = [d["text"] for s in minutes["sections"] for d in s["decisions"]]
    actions = [a for s in minutes["sections"] for a in s["actions"]]
    return decisions, actions


def test_accept_edit_remove_add_then_approve_counts_once(
    client: TestClient, db: Database, meeting: str
) -> None:
    review = _review(client, meeting)
    decisions, actions = _items(review, "decision"), _items(review, "action")
    assert all(item["status"] == "proposed" for item in review["items"])
    assert review["decisions"]["proposed"] == len(decisions) and review["decisions"]["unmarked"] == len(
        decisions
    )
    assert all(item["segment"] is not None for item in review["items"])  # each links to where it was said

    put = lambda key, body: client.put(f"{API}/{meeting}/review/items/{key}", json=body)  # noqa: E731
    assert put(decisions[0]["key"], {"status": "accepted"}).json()["status"] == "accepted"
    edited = put(decisions[1]["key"], {"status": "edited", "text": f"Vedtaget for {CPR}."}).json()
    assert edited["status"] == "edited" and CPR not in edited["text"]
    assert edited["original_text"] == decisions[1]["text"]
    # An "edit" that changes nothing is an acceptance.
    same = {"status": "edited", "text": actions[0]["text"], "who": actions[0]["who"],
            "deadline": actions[0]["deadline"]}  # fmt: skip
    assert put(actions[0]["key"], same).json()["status"] == "accepted"
    action_edit = {
        "status": "edited",
        "text": actions[1]["text"],
        "who": "Mette",
        "deadline": "efter sommerferien",
    }
    assert put(actions[1]["key"], action_edit).json()["status"] == "edited"
    assert (
        put(
            actions[-1]["key"] if len(actions) > 2 else decisions[-1]["key"], {"status": "removed"}
        ).status_code
        == 200
    )
    added = client.post(
        f"{API}/{meeting}/review/items",
        json={"kind": "action", "section": 0, "text": "Sende referatet rundt", "who": "Ali",
              "deadline": "2026-03-20", "segment": 3},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["status"] == "added" and added.json()["start"] > 0

    # The working copy follows: the edit, the added action, the unresolved deadline kept as said.
    texts, minutes_actions = _minutes_items(client, meeting)
    assert f"Vedtaget for {CPR}." not in texts and any(t.startswith("Vedtaget for") for t in texts)
    summer = [a for a in minutes_actions if a["who"] == "Mette"]
    assert summer and summer[0]["deadline"] is None and summer[0]["deadline_text"] == "efter sommerferien"
    assert any(
        a["what"] == "Sende referatet rundt" and a["deadline"] == "2026-03-20" for a in minutes_actions
    )

    # Editing the whole minutes afterwards keeps the reviewed items (item review owns them).
    minutes = client.get(f"{API}/{meeting}/result").json()["minutes"]
    minutes["sections"][0]["summary"] = ["Nyt resumé."]
    for section in minutes["sections"]:
        section["decisions"], section["actions"] = [], []
    assert client.put(f"{API}/{meeting}/minutes", json=minutes).status_code == 200
    assert _minutes_items(client, meeting) == (texts, minutes_actions)

    after = _review(client, meeting)
    removed_decisions = 0 if len(actions) > 2 else 1
    removed_actions = 1 - removed_decisions
    expected_decisions = {
        "proposed": len(decisions), "accepted": len(decisions) - 1 - removed_decisions, "edited": 1,
        "removed": removed_decisions, "added": 0, "unmarked": len(decisions) - 2 - removed_decisions,
    }  # fmt: skip
    expected_actions = {
        "proposed": len(actions), "accepted": len(actions) - 1 - removed_actions, "edited": 1,
        "removed": removed_actions, "added": 1, "unmarked": len(actions) - 2 - removed_actions,
    }  # fmt: skip
    assert after["decisions"] == expected_decisions and after["actions"] == expected_actions

    assert client.post(f"{API}/{meeting}/approve", json={"review_seconds": 95}).status_code == 200
    assert client.post(f"{API}/{meeting}/approve", json={"review_seconds": 95}).status_code == 409
    rows = _review_rows(db, meeting)
    assert len(rows) == 1
    quality = rows[0].quality
    assert quality["decisions"] == expected_decisions and quality["actions"] == expected_actions
    assert quality["item_review"] is True and quality["review_seconds"] == 95
    # The exports show the reviewed minutes: marks on edited and added items, the removed one gone, and a
    # deadline that is not a date as it was said.
    text = client.get(f"{API}/{meeting}/export/txt").content.decode()
    assert "Vedtaget for" in text and "(rettet ved gennemsyn)" in text
    assert "Sende referatet rundt (tilføjet ved gennemsyn)" in text
    assert "frist: efter sommerferien" in text
    removed = actions[-1]["text"] if len(actions) > 2 else decisions[-1]["text"]
    assert removed not in text
    # Approved: no more verdicts.
    assert put(decisions[0]["key"], {"status": "removed"}).status_code == 409


def test_undo_and_removing_an_added_item(client: TestClient, meeting: str) -> None:
    key = _items(_review(client, meeting), "decision")[0]["key"]
    client.put(f"{API}/{meeting}/review/items/{key}", json={"status": "removed"})
    assert (
        client.put(f"{API}/{meeting}/review/items/{key}", json={"status": "proposed"}).json()["status"]
        == "proposed"
    )
    added = client.post(
        f"{API}/{meeting}/review/items", json={"kind": "decision", "section": 0, "text": "Ekstra"}
    )
    accepted = client.put(f"{API}/{meeting}/review/items/{added.json()['key']}", json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "added"
    gone = client.put(f"{API}/{meeting}/review/items/{added.json()['key']}", json={"status": "removed"})
    assert gone.status_code == 200
    review = _review(client, meeting)
    assert review["decisions"]["added"] == 0 and review["decisions"]["removed"] == 0
    assert all(item["status"] == "proposed" for item in review["items"])


@pytest.mark.parametrize(
    ("make_body", "status"),
    [
        (lambda key: {"status": "edited", "text": "x" * 2001}, 422),
        (lambda key: {"status": "edited", "text": "   "}, 422),
        (lambda key: {"status": "edited", "text": "Ok", "who": "Mette"}, 422),  # a decision has no owner
        (lambda key: {"status": "maybe"}, 422),
    ],
)
def test_bad_verdicts_are_refused_and_change_nothing(
    client: TestClient, db: Database, meeting: str, make_body: Callable[[str], dict], status: int
) -> None:
    before = client.get(f"{API}/{meeting}/result").json()
    key = _items(_review(client, meeting), "decision")[0]["key"]
    response = client.put(f"{API}/{meeting}/review/items/{key}", json=make_body(key))
    assert response.status_code == status and response.json()["detail"]
    assert client.get(f"{API}/{meeting}/result").json() == before
    with db.session() as session:
        assert session.scalars(select(ReviewItem)).all() == []


def test_bad_additions_and_unknown_items(client: TestClient, meeting: str) -> None:
    post = lambda body: client.post(f"{API}/{meeting}/review/items", json=body)  # noqa: E731
    assert post({"kind": "decision", "section": 999, "text": "x"}).status_code == 422
    assert post({"kind": "action", "section": 0, "text": "x", "segment": 99_999}).status_code == 422
    assert post({"kind": "vote", "section": 0, "text": "x"}).status_code == 422
    assert client.put(f"{API}/{meeting}/review/items/d99.0", json={"status": "accepted"}).status_code == 404
    assert _review(client, meeting)["decisions"]["added"] == 0


def test_a_second_user_gets_404_on_the_review(
    client: TestClient, headers_for: Callable[[str], dict[str, str]], meeting: str
) -> None:
    other = headers_for("nabo")
    key = _items(_review(client, meeting), "decision")[0]["key"]
    calls = [
        ("GET", f"{API}/{meeting}/review", None),
        ("PUT", f"{API}/{meeting}/review/items/{key}", {"status": "removed"}),
        ("POST", f"{API}/{meeting}/review/items", {"kind": "decision", "section": 0, "text": "Overtaget"}),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=other)
        assert response.status_code == 404, (method, path, response.text)
    review = _review(client, meeting)
    assert all(item["status"] == "proposed" for item in review["items"])


def test_approve_without_item_review_counts_by_comparison(
    client: TestClient, db: Database, meeting: str
) -> None:
    minutes = client.get(f"{API}/{meeting}/result").json()["minutes"]
    decisions = [(s, d) for s in minutes["sections"] for d in s["decisions"]]
    actions = [(s, a) for s in minutes["sections"] for a in s["actions"]]
    decisions[0][1]["text"] = "Omskrevet beslutning."  # edited
    decisions[1][0]["decisions"].remove(decisions[1][1])  # removed
    actions[0][1]["who"] = "En anden"  # edited
    minutes["sections"][0]["actions"].append(
        {"what": "Ny opgave", "who": None, "deadline": None, "start": 0.0, "speaker": None}
    )  # added
    assert client.put(f"{API}/{meeting}/minutes", json=minutes).status_code == 200
    assert client.post(f"{API}/{meeting}/approve").status_code == 200
    quality = _review_rows(db, meeting)[0].quality
    assert quality["item_review"] is False
    assert quality["decisions"] == {
        "proposed": len(decisions), "accepted": len(decisions) - 2, "edited": 1, "removed": 1, "added": 0,
        "unmarked": 0,
    }  # fmt: skip
    assert quality["actions"] == {
        "proposed": len(actions), "accepted": len(actions) - 1, "edited": 1, "removed": 0, "added": 1,
        "unmarked": 0,
    }  # fmt: skip


def test_an_unresolved_deadline_is_exported_as_said() -> None:
    transcript = Transcript(
        "da", 1.0, 4.0, [Segment(0, 0.0, 4.0, "jeg ser på det efter sommerferien", speaker="A")]
    )
    action = ActionItem("Se på det", "A", None, 0.0, deadline_text="efter sommerferien", segment=0)
    resolved = ActionItem("Sende det", "A", "2026-06-05", 0.0, deadline_text="på fredag", segment=0)
    section = AgendaSection(1, "Punkt", 0.0, 4.0, [0], [], [], [action, resolved])
    draft = MinutesDraft("Møde", None, [], [section])
    for fmt in ("txt", "md"):
        content = render_export(fmt, transcript, draft)[0].decode()
        assert "frist: efter sommerferien" in content and "frist: 5. juni 2026" in content, content
    document = docx.Document(io.BytesIO(render_export("docx", transcript, draft)[0]))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "efter sommerferien" in cells


@pytest.mark.parametrize("same_item", [True, False], ids=["same-item", "different-items"])
def test_reviewers_saving_at_once_all_succeed_and_the_working_copy_has_every_verdict(
    client: TestClient, db: Database, meeting: str, same_item: bool
) -> None:
    """Reviewers saving at the same moment: each gets an answer (the last writer wins an item) and the
    working copy shows exactly the stored verdicts, none lost and none half-written."""
    keys = [item["key"] for item in _review(client, meeting)["items"]]
    writers = 6
    targets = [keys[0]] * writers if same_item else keys[:writers]
    assert len(targets) == writers
    reviewer = Principal("referent", Role.MEDARBEJDER)
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def save(n: int) -> None:
        start.wait()
        try:
            change = service.ItemChange("edited", f"Udgave {n}.")
            service.review_item(db, meeting, reviewer, targets[n], change)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as session:
        stored = {row.key: row.text for row in session.scalars(select(ReviewItem))}
    assert set(stored) == set(targets)
    assert all(text.startswith("Udgave ") for text in stored.values())
    review = {item["key"]: item["text"] for item in _review(client, meeting)["items"]}
    assert {key: review[key] for key in stored} == stored
    decisions, actions = _minutes_items(client, meeting)
    in_minutes = {text for text in decisions + [a["what"] for a in actions] if text.startswith("Udgave ")}
    assert in_minutes == set(stored.values())


def test_approvals_at_once_count_the_meeting_once(db: Database, meeting: str) -> None:
    """Approvals racing each other wait for the meeting's lock: one approves, the others get 409."""
    approvers = 6
    start = threading.Barrier(approvers)
    outcomes: list[str] = []

    def approve() -> None:
        start.wait()
        try:
            service.approve_meeting(db, meeting, Principal("referent", Role.MEDARBEJDER))
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=approve) for _ in range(approvers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved"] + ["conflict"] * (approvers - 1)
    assert len(_review_rows(db, meeting)) == 1


def test_an_added_item_without_a_segment_plays_from_its_section_every_time_the_review_is_rebuilt() -> None:
    sections = [AgendaSection(1, "Første", 0.0, 60.0, [0], []), AgendaSection(2, "To", 60.0, 99.0, [1], [])]
    draft = MinutesDraft("Møde", None, [], sections)
    verdicts = [
        review.Verdict("d+aaa", review.DECISION, 1, None, review.ADDED, "Uden segment"),
        review.Verdict("d+bbb", review.DECISION, 1, 7, review.ADDED, "Segment findes ikke"),
        review.Verdict("a+ccc", review.ACTION, 0, 1, review.ADDED, "Med segment"),
    ]
    items = {item.key: item for item in review.reviewed_items(draft, verdicts, [0.0, 75.0])}
    assert (items["d+aaa"].start, items["d+bbb"].start, items["a+ccc"].start) == (60.0, 60.0, 75.0)


def test_items_added_to_one_section_keep_the_order_they_were_added_in(
    client: TestClient, meeting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hexes = iter(["f" * 32, "0" * 32, "8" * 32])  # keys that sort against the order they are added in
    keys = SimpleNamespace(uuid4=lambda: SimpleNamespace(hex=next(hexes)))
    monkeypatch.setattr(service, "uuid", keys)  # only the service's own uuid4: the added items' keys
    for text in ("Første tilføjede", "Anden tilføjede", "Tredje tilføjede"):
        body = {"kind": "decision", "section": 0, "text": text}
        assert client.post(f"{API}/{meeting}/review/items", json=body).status_code == 201
    decisions = _items(_review(client, meeting), "decision")
    added = [item["text"] for item in decisions if item["status"] == "added"]
    assert added == ["Første tilføjede", "Anden tilføjede", "Tredje tilføjede"]
    in_minutes, _ = _minutes_items(client, meeting)
    assert [text for text in in_minutes if "tilføjede" in text] == added


def test_a_meeting_without_a_machine_draft_has_no_review(
    client: TestClient, db: Database, meeting: str
) -> None:
    with db.session() as session:  # the job always stores both; the working copy is no stand-in for the draft
        session.get(store.Meeting, meeting).draft_minutes = None
    response = client.get(f"{API}/{meeting}/review")
    assert response.status_code == 409 and "udkast" in response.json()["detail"]
    body = {"kind": "decision", "section": 0, "text": "Ekstra"}
    assert client.post(f"{API}/{meeting}/review/items", json=body).status_code == 409
    with db.session() as session:
        assert session.scalars(select(ReviewItem)).all() == []


def test_proposed_on_an_added_item_is_refused_and_keeps_the_reviewers_text(
    client: TestClient, meeting: str
) -> None:
    body = {"kind": "action", "section": 0, "text": "Ring til kommunen", "who": "Mette"}
    key = client.post(f"{API}/{meeting}/review/items", json=body).json()["key"]
    response = client.put(f"{API}/{meeting}/review/items/{key}", json={"status": "proposed"})
    assert response.status_code == 422 and "removed" in response.json()["detail"]
    added = [item for item in _review(client, meeting)["items"] if item["key"] == key]
    assert [(item["status"], item["text"], item["who"]) for item in added] == [
        ("added", "Ring til kommunen", "Mette")
    ]
