"""Questions indexed with a collection's units: the questions file beside the documents, and questions an LLM
writes at ingest (against a fake OpenAI-compatible endpoint on 127.0.0.1), cached and never naming their §."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm import FakeLlm, running_fake_llm

from chat_fixtures import write
from services.chatbot import service
from services.chatbot.expansions import expansions_from_items, names_section, parse_questions
from services.chatbot.types import Expansion
from services.common.auth import LOCAL_OPERATOR
from services.common.config import Settings
from services.common.db import Database

LAW = {
    "id": "2024:7",
    "title": "Bekendtgørelse af lov om prøver",
    "short_name": "LBK H#X",
    "issued_date": "2024-01-02",
    "url": "https://www.retsinformation.dk/eli/lta/2024/7/xml",
    "provisions": [
        {"section": "1", "content": "§ 1. Kommunen tilbyder prøver til alle borgere over 18 år."},
        {"section": "2", "content": "§ 2. En prøve koster 200 kr. Stk. 2. Pensionister betaler halv pris."},
    ],
}
GUIDE = "# Printere\n\nÅbn Indstillinger og vælg Printere. Klik på Tilføj.\n"
REPLY = (
    "1. Hvem kan få tilbudt en prøve?\n- Hvad står der i § 2 om prisen?\n• Hvad koster det for pensionister?"
)


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    with running_fake_llm() as fake:
        fake.reply_with(REPLY)
        yield fake


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "docs" / "lov.json", json.dumps(LAW, ensure_ascii=False))
    write(tmp_path / "docs" / "printere.md", GUIDE)
    return tmp_path / "docs"


def _llm_settings(settings: Settings, url: str) -> Settings:
    # The questions an LLM wrote are cached per machine by model name: a new name per test starts empty.
    return settings.model_copy(update={"llm_url": url, "llm_model": f"test-{uuid.uuid4().hex}"})


def test_questions_in_the_dev_set_format() -> None:
    items = [
        {"question": "Hvad koster en prøve?", "relevant": [{"source": "lov.json", "section": "2"}]},
        {"question": "Hvordan tilføjer jeg en printer?", "relevant": [{"source": "printere.md"}]},
        {"question": "Hvornår er der storskrald?", "relevant": []},
    ]
    assert expansions_from_items(items) == [
        Expansion("lov.json", "2", "Hvad koster en prøve?", "file"),
        Expansion("printere.md", "", "Hvordan tilføjer jeg en printer?", "file"),
    ]


def test_parsed_questions_never_name_their_own_section() -> None:
    assert parse_questions(REPLY, "2") == [
        "Hvem kan få tilbudt en prøve?",
        "Hvad koster det for pensionister?",
    ]
    assert len(parse_questions(REPLY, "1")) == 3  # another § may be named
    assert all(names_section(q, "47") for q in ("jf. § 47", "efter §47, stk. 2", "Paragraf 47", "§§ 47"))
    assert not any(names_section(q, "47") for q in ("§ 470", "§ 47a", "47 dage", "§ 4"))
    assert not names_section("§ 47", "")
    assert parse_questions('"Hvad koster en prøve?"\n\nkort', "9") == ["Hvad koster en prøve?"]


def test_an_llm_writes_cached_questions_for_each_unit_at_ingest(
    db: Database, settings: Settings, folder: Path, fake_llm: FakeLlm
) -> None:
    llm = _llm_settings(settings, fake_llm.url)
    report = service.ingest(db, llm, folder, "proever")
    index = service.load_index(llm, "proever")
    assert index is not None
    by_unit: dict[tuple[str, str], list[str]] = {}
    for expansion in index.questions.expansions:
        assert expansion.origin == "llm"
        by_unit.setdefault(expansion.unit, []).append(expansion.text)
    assert set(by_unit) == {("lov.json", "1"), ("lov.json", "2"), ("printere.md", "")}
    assert not any(names_section(q, "2") for q in by_unit[("lov.json", "2")])
    assert len(by_unit[("lov.json", "1")]) == 3 and report.questions == len(index.questions.expansions)
    prompts = [r["json"]["messages"][-1]["content"] for r in fake_llm.requests]
    assert len(prompts) == 3 and any("Pensionister betaler halv pris" in p for p in prompts)

    # A changed guide is asked about again; the unchanged law's units come from the cache.
    write(folder / "printere.md", GUIDE.replace("Tilføj", "Tilføj printer"))
    service.ingest(db, llm, folder, "proever")
    assert len(fake_llm.requests) == 4


def test_a_failing_llm_leaves_units_on_their_text(
    db: Database, settings: Settings, folder: Path, fake_llm: FakeLlm
) -> None:
    fake_llm.status = 500
    llm = _llm_settings(settings, fake_llm.url)
    service.ingest(db, llm, folder, "proever")
    index = service.load_index(llm, "proever")
    assert index is not None and index.questions.expansions == []
    # (Asked without the LLM, which would otherwise also write the answer.)
    reply = service.ask(db, settings, LOCAL_OPERATOR, "Hvad koster en prøve for en pensionist?", "proever")
    assert reply.answer.citations[0].section == "2"
    # Nothing was cached for the failed units: the next ingest asks again, and the index gets the questions.
    fake_llm.reply_with(REPLY)
    service.ingest(db, llm, folder, "proever")
    assert len(fake_llm.requests) == 6
    rebuilt = service.load_index(llm, "proever")
    assert rebuilt is not None and len(rebuilt.questions.expansions) == 8


def test_a_questions_file_beside_the_documents_is_indexed(
    db: Database, settings: Settings, folder: Path
) -> None:
    questions = folder / "questions.jsonl"
    first = {"question": "Hvad skal jeg betale?", "relevant": [{"source": "lov.json", "section": "2"}]}
    write(questions, json.dumps(first, ensure_ascii=False) + "\n")
    report = service.ingest(db, settings, folder, "proever")
    assert report.questions == 1 and "questions.jsonl" not in report.skipped
    index = service.load_index(settings, "proever")
    assert index is not None and index.questions.expansions == [
        Expansion("lov.json", "2", "Hvad skal jeg betale?", "file")
    ]

    # Nothing changed: nothing is rebuilt. A changed questions file rebuilds the index.
    service.ingest(db, settings, folder, "proever")
    assert service.load_index(settings, "proever") is index
    second = {"question": "Hvem kan tage en prøve?", "relevant": [{"source": "lov.json", "section": "1"}]}
    write(questions, "\n".join(json.dumps(q, ensure_ascii=False) for q in (first, second)) + "\n")
    assert service.ingest(db, settings, folder, "proever").questions == 2
    rebuilt = service.load_index(settings, "proever")
    assert rebuilt is not None and rebuilt.version != index.version
    top = service.ask(db, settings, LOCAL_OPERATOR, "Hvem kan tage en prøve?", "proever")
    assert (top.answer.ranked[0].source, top.answer.ranked[0].section) == ("lov.json", "1")


def test_the_law_collection_ships_questions_for_every_law_it_holds_each_naming_a_unit_it_has() -> None:
    """The shipped questions are index data: each must name a § of the collection (else it is silently left
    out), not name that § itself (it would be found by the number, not by what it asks), and every law —
    Barnets lov and the adjacent ones — must carry some, or its §§ are found by their text alone."""
    chunks = service.shipped_chunks("barnets-lov")
    questions = service.shipped_questions("barnets-lov")
    units = {(c.source, c.section) for c in chunks}

    assert [q for q in questions if q.unit not in units] == []
    assert [q.text for q in questions if names_section(q.text, q.section)] == []
    assert {source for source, _ in units} == {q.source for q in questions}
    assert len({q.text for q in questions}) == len(questions)
