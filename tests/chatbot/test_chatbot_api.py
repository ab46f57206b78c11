"""The chatbot over HTTP (tokens, roles, answers, feedback, gaps) and the CLI contract."""

from __future__ import annotations

import json

import pytest
from credentials import bearer
from fastapi.testclient import TestClient
from httpx import Response

from kai_cli import run_kai
from services.common.auth import Role
from services.common.config import Settings, shared_data_dir
from services.common.db import Database

QA = shared_data_dir() / "qa" / "dev.jsonl"
CONTRACT_KEYS = {"answer", "abstained", "citations"}
CITATION_KEYS = {"source", "section", "title", "url", "score"}


@pytest.fixture(scope="module")
def headers(shipped: tuple[Database, Settings]) -> dict[Role, dict[str, str]]:
    db, _ = shipped
    return {role: bearer(db, f"api-{role.value}", role) for role in Role}


def ask(client: TestClient, headers: dict[str, str], question: str, collection: str = "") -> Response:
    """POST /api/chat/ask as the holder of ``headers``, in ``collection`` if one is named."""
    body = {"question": question} | ({"collection": collection} if collection else {})
    return client.post("/api/chat/ask", json=body, headers=headers)


def test_requests_without_a_valid_token_are_refused(shipped_client: TestClient) -> None:
    response = shipped_client.post("/api/chat/ask", json={"question": "Hvad er en BFU?"})
    assert response.status_code == 401 and "token" in response.json()["detail"]
    wrong = {"Authorization": "Bearer kai_forkert"}
    assert shipped_client.post("/api/chat/ask", json={"question": "x"}, headers=wrong).status_code == 401


def test_caseworker_gets_an_answer_with_citations(
    shipped_client: TestClient, headers: dict[Role, dict[str, str]]
) -> None:
    question = "Hvor hurtigt skal vi vurdere en underretning om et barn?"
    response = ask(shipped_client, headers[Role.SAGSBEHANDLER], question, "barnets-lov")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= CONTRACT_KEYS
    assert body["abstained"] is False
    assert body["citations"] and all(set(c) >= CITATION_KEYS for c in body["citations"])
    assert body["passages"][0]["highlights"]
    feedback = shipped_client.post(
        "/api/chat/feedback",
        json={"answer_id": body["answer_id"], "helpful": True, "manual_minutes": 15},
        headers=headers[Role.SAGSBEHANDLER],
    )
    assert feedback.status_code == 204


def test_staff_may_not_read_the_law_collection(
    shipped_client: TestClient, headers: dict[Role, dict[str, str]]
) -> None:
    staff = headers[Role.MEDARBEJDER]
    response = ask(shipped_client, staff, "Hvad er en BFU?", "barnets-lov")
    assert response.status_code == 403
    names = [c["name"] for c in shipped_client.get("/api/chat/collections", headers=staff).json()]
    assert names == ["it-help"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": ""}, 422),
        ({"question": "x" * 2001}, 422),
        ({"question": "Hvad er en BFU?", "collection": "findes-ikke"}, 404),
        ({"collection": "it-help"}, 422),
    ],
)
def test_bad_requests(
    shipped_client: TestClient, headers: dict[Role, dict[str, str]], body: dict, status: int
) -> None:
    response = shipped_client.post("/api/chat/ask", json=body, headers=headers[Role.ADMIN])
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.parametrize("question", ["😀🎉👍", "\x00\x01\x1b\x7f", "\u200b\u200d  \ufeff", "?!… 🙂"])
def test_a_question_without_words_is_refused_and_not_stored(
    shipped_client: TestClient, headers: dict[Role, dict[str, str]], question: str
) -> None:
    admin = headers[Role.ADMIN]
    gaps_before = shipped_client.get("/api/chat/gaps", headers=admin).json()
    response = shipped_client.post("/api/chat/ask", json={"question": question}, headers=admin)
    assert response.status_code == 422
    assert "bogstaver eller tal" in response.json()["detail"]
    assert shipped_client.get("/api/chat/gaps", headers=admin).json() == gaps_before


def test_guide_citations_link_to_a_served_source(
    shipped_client: TestClient, headers: dict[Role, dict[str, str]]
) -> None:
    question = "Hvordan sætter jeg en daglig backup af databasen op på admin-sitet?"
    body = ask(shipped_client, headers[Role.IT], question, "it-help").json()
    link = body["citations"][0]["url"]
    assert link.startswith("/api/chat/sources/it-help/os2borgerpc_docs/")
    document = shipped_client.get(link, headers=headers[Role.IT])
    assert document.status_code == 200 and len(document.text) > 100
    escape = shipped_client.get("/api/chat/sources/it-help/../../kai.db", headers=headers[Role.IT])
    assert escape.status_code == 404


def test_gaps_are_for_editors(shipped_client: TestClient, headers: dict[Role, dict[str, str]]) -> None:
    ask(shipped_client, headers[Role.MEDARBEJDER], "Hvornår tømmes storskrald i Taastrup?")
    assert shipped_client.get("/api/chat/gaps", headers=headers[Role.MEDARBEJDER]).status_code == 403
    gaps = shipped_client.get("/api/chat/gaps", headers=headers[Role.ADMIN]).json()
    assert any("storskrald" in g["question"] for g in gaps)


def test_editors_attach_a_gap_question_to_its_source(
    shipped_client: TestClient, headers: dict[Role, dict[str, str]]
) -> None:
    staff, editor = headers[Role.MEDARBEJDER], headers[Role.LEDELSE]
    question = "Min borgerPC siger ingenting, når jeg afspiller en video. Hvad kan jeg gøre?"
    asked = ask(shipped_client, staff, question).json()
    thumbs_down = {"answer_id": asked["answer_id"], "helpful": False}
    assert shipped_client.post("/api/chat/feedback", json=thumbs_down, headers=staff).status_code == 204
    gaps = shipped_client.get("/api/chat/gaps", headers=editor).json()
    (gap,) = [g for g in gaps if g["answer_id"] == asked["answer_id"]]
    assert gap["attached"] == []
    # A declined question is "ikke fundet"; a thumbs-down answer "ikke hjælpsomt", with what it cited.
    assert gap["reason"] == ("ikke fundet" if asked["abstained"] else "ikke hjælpsomt")
    assert gap["cited"] == [c["title"] for c in asked["citations"]]

    units = shipped_client.get("/api/chat/units", headers=editor).json()
    assert {u["collection"] for u in units} == {"it-help"}  # management reads the guides, not the law
    assert shipped_client.get("/api/chat/units", headers=staff).status_code == 403
    sound = next(u for u in units if u["source"] == "os2borgerpc_docs/scripts_lyd.md")
    body = {"answer_id": asked["answer_id"], "collection": "it-help", "source": sound["source"]}
    assert shipped_client.post("/api/chat/expansions", json=body, headers=staff).status_code == 403
    created = shipped_client.post("/api/chat/expansions", json=body, headers=editor)
    assert created.status_code == 201, created.text
    attached = created.json()
    assert attached["label"] == sound["label"] and attached["question"] == question
    gaps = shipped_client.get("/api/chat/gaps", headers=editor).json()
    (gap,) = [g for g in gaps if g["answer_id"] == asked["answer_id"]]
    assert [a["id"] for a in gap["attached"]] == [attached["id"]]

    undo = f"/api/chat/expansions/{attached['id']}"
    assert shipped_client.delete(undo, headers=staff).status_code == 403
    assert shipped_client.delete(undo, headers=editor).status_code == 204
    assert shipped_client.delete(undo, headers=editor).status_code == 404


def test_cli_ask_and_eval_contracts(shipped: tuple[Database, Settings]) -> None:
    _, settings = shipped
    asked = run_kai(
        settings, "chatbot", "ask", "Hvor lang tid har vi til en børnefaglig undersøgelse?", "--json"
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) == CONTRACT_KEYS
    assert all(set(c) == CITATION_KEYS for c in answer["citations"])
    assert ("retsinformation_2025_282.json", "20") in [
        (c["source"], c["section"]) for c in answer["citations"]
    ]

    scored = run_kai(settings, "chatbot", "eval", str(QA), "--json")
    assert scored.returncode == 0, scored.stderr
    figures = json.loads(scored.stdout)
    assert set(figures) == {
        "n",
        "recall_at_1",
        "recall_at_5",
        "mrr",
        "abstain_rate_unanswerable",
        "false_abstain_rate",
        "p50_ms",
        "p95_ms",
    }
    assert figures["n"] == 38


def test_cli_errors_are_one_line(shipped: tuple[Database, Settings]) -> None:
    _, settings = shipped
    for args in (["chatbot", "ask", "  ", "--json"], ["chatbot", "ask", "Hej", "--collection", "nej"]):
        result = run_kai(settings, *args)
        assert result.returncode != 0
        assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


@pytest.mark.parametrize("expansion_id", [0, -1, 2**31, 2**63, -(2**63) - 1])
def test_an_expansion_id_out_of_the_databases_range_is_refused_not_a_server_error(
    client: TestClient, db: Database, expansion_id: int
) -> None:
    editor = bearer(db, "redaktoer", Role.LEDELSE)
    response = client.delete(f"/api/chat/expansions/{expansion_id}", headers=editor)
    assert response.status_code == 422, response.text
    assert "expansion_id" in response.text
    parameter = client.get("/openapi.json").json()["paths"]["/api/chat/expansions/{expansion_id}"]["delete"]
    schema = parameter["parameters"][0]["schema"]
    assert (schema["type"], schema["minimum"], schema["maximum"]) == ("integer", 1, 2**31 - 1)
