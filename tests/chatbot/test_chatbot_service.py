"""Chatbot use cases on real indexes: ingest/replace/remove, access by role, answers and abstention."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from chat_fixtures import write
from services.chatbot import evaluation, service, store
from services.chatbot.index import has_complete_index
from services.chatbot.service import Answer, Citation, score_answers
from services.common.audit import AuditEvent
from services.common.auth import LOCAL_OPERATOR, Principal, Role
from services.common.config import Settings, shared_data_dir
from services.common.db import Database
from services.common.errors import Forbidden, InvalidInput, NotFound
from services.common.ledger import UsageEvent

CASEWORKER = Principal("sagsbehandler1", Role.SAGSBEHANDLER)
STAFF = Principal("medarbejder1", Role.MEDARBEJDER)
QA = shared_data_dir() / "qa" / "dev.jsonl"

GUIDE_PRINTER = """---
title: Printere
---
# Printere

## Tilføj en printer
Åbn Indstillinger og vælg Printere. Klik på Tilføj, og vælg printeren fra listen over netværksprintere.

## Papirstop
Åbn lågen foran på printeren, og træk forsigtigt det fastklemte papir ud.
"""
GUIDE_VPN = """# VPN

## Forbind hjemmefra
Start programmet GlobalConnect og log ind med dit medarbejdernummer og din kode fra SMS.
"""


@pytest.fixture
def guides(tmp_path: Path) -> Path:
    folder = tmp_path / "guides"
    write(folder / "printere.md", GUIDE_PRINTER)
    write(folder / "vpn.md", GUIDE_VPN)
    write(folder / "LICENSE.txt", "licence text, not content")
    return folder


def _sources(db: Database, collection: str) -> list[str]:
    with db.session() as session:
        return [d.source for d in store.documents_of(session, collection)]


def test_ingest_replace_and_remove(db: Database, settings: Settings, guides: Path) -> None:
    report = service.ingest(db, settings, guides, "test-it", title="Test", roles=[Role.MEDARBEJDER])
    assert sorted(report.added) == ["printere.md", "vpn.md"]
    assert report.skipped == ["LICENSE.txt"]
    assert _sources(db, "test-it") == ["printere.md", "vpn.md"]
    reply = service.ask(db, settings, STAFF, "hvordan fjerner jeg papirstop i printeren", "test-it")
    assert reply.answer.citations[0].source == "printere.md"

    # Unchanged files are not rebuilt; a changed file replaces its old chunks.
    again = service.ingest(db, settings, guides, "test-it")
    assert sorted(again.unchanged) == ["printere.md", "vpn.md"] and not again.added and not again.replaced
    write(guides / "vpn.md", GUIDE_VPN.replace("GlobalConnect", "FortiClient"))
    changed = service.ingest(db, settings, guides, "test-it")
    assert changed.replaced == ["vpn.md"]
    index = service.load_index(settings, "test-it")
    assert index is not None
    vpn_text = " ".join(c.text for c in index.chunks if c.source == "vpn.md")
    assert "FortiClient" in vpn_text and "GlobalConnect" not in vpn_text

    service.remove_document(db, settings, "test-it", "printere.md")
    assert _sources(db, "test-it") == ["vpn.md"]
    index = service.load_index(settings, "test-it")
    assert index is not None and {c.source for c in index.chunks} == {"vpn.md"}
    with pytest.raises(NotFound):
        service.remove_document(db, settings, "test-it", "printere.md")


def test_failed_ingest_changes_nothing(db: Database, settings: Settings, guides: Path) -> None:
    service.ingest(db, settings, guides, "test-it")
    before = service.load_index(settings, "test-it")
    assert before is not None
    write(guides / "vpn.md", GUIDE_VPN.replace("GlobalConnect", "FortiClient"))
    (guides / "ødelagt.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    with pytest.raises(InvalidInput, match=r"ødelagt\.pdf"):
        service.ingest(db, settings, guides, "test-it")
    after = service.load_index(settings, "test-it")
    assert after is not None and [c.text for c in after.chunks] == [c.text for c in before.chunks]


@pytest.mark.parametrize(
    ("path_name", "collection", "error"),
    [
        ("findes-ikke", "test-it", NotFound),
        ("guides", "Ugyldigt Navn", InvalidInput),
        ("guides/billede.png", "test-it", InvalidInput),
    ],
)
def test_bad_ingest_input(
    db: Database, settings: Settings, guides: Path, path_name: str, collection: str, error: type[Exception]
) -> None:
    (guides / "billede.png").write_bytes(b"\x89PNG\r\n")
    with pytest.raises(error):
        service.ingest(db, settings, guides.parent / path_name, collection)
    with db.session() as session:
        assert store.list_collections(session) == []


def test_roles_decide_which_collections_are_searched(shipped: tuple[Database, Settings]) -> None:
    db, settings = shipped
    assert {c.name for c in service.list_collections(db, CASEWORKER)} == {"barnets-lov", "it-help"}
    assert {c.name for c in service.list_collections(db, STAFF)} == {"it-help"}
    with pytest.raises(Forbidden):
        service.ask(
            db, settings, STAFF, "Hvornår skal en børnefaglig undersøgelse være færdig?", "barnets-lov"
        )
    # Without a collection, staff search only what they may read: no law citation can come back.
    reply = service.ask(db, settings, STAFF, "Hvornår skal en børnefaglig undersøgelse være færdig?")
    assert all(not c.source.startswith("retsinformation") for c in reply.answer.ranked)


@pytest.mark.parametrize(
    ("question", "source", "section"),
    [
        (
            "hvor lang tid har vi til at blive faerdige med en BFU, og hvad gor vi hvis vi ikke naar det?",
            "retsinformation_2025_282.json",
            "20",
        ),
        (
            "Forældrene nægter at lade deres 6-årige flytte hjemmefra, selvom vi er meget bekymrede. "
            "Kan vi anbringe barnet uden deres samtykke?",
            "retsinformation_2025_282.json",
            "47",
        ),
        (
            "to søskende skal anbringes - skal de som udgangspunkt bo samme sted?",
            "retsinformation_2025_282.json",
            "52",
        ),
    ],
)
def test_citations_point_to_the_right_paragraph(
    shipped: tuple[Database, Settings], question: str, source: str, section: str
) -> None:
    db, settings = shipped
    reply = service.ask(db, settings, CASEWORKER, question, "barnets-lov")
    assert not reply.answer.abstained
    top = [(c.source, c.section) for c in reply.answer.citations[:3]]
    assert (source, section) in top, top
    first = reply.answer.citations[0]
    assert first.url.startswith("https://www.retsinformation.dk/eli/lta/")
    assert "§" in first.title and "LBK nr." in first.title
    assert reply.answer.passages and reply.answer.passages[0].highlights


@pytest.mark.parametrize(
    "question",
    [
        "Hvornår bliver der tømt storskrald i Taastrup i december?",
        "Hvilken sats gælder for sygedagpenge til en selvstændig i 2025?",
    ],
)
def test_out_of_scope_questions_are_declined(shipped: tuple[Database, Settings], question: str) -> None:
    db, settings = shipped
    reply = service.ask(db, settings, CASEWORKER, question)
    assert reply.answer.abstained
    assert reply.answer.citations == []
    assert "kan jeg ikke finde" in reply.answer.text
    # The reply names what the guidance covers, and whom to ask.
    assert "Den dækker «Barnets lov og tilstødende lovgivning» og «IT-vejledninger" in reply.answer.text
    assert "IT-supporten" in reply.answer.text
    gaps = service.content_gaps(db, LOCAL_OPERATOR)
    assert any(g.question == question for g in gaps)


def test_every_question_and_feedback_reaches_the_ledger(shipped: tuple[Database, Settings]) -> None:
    db, settings = shipped
    asker = Principal("ledger-test", Role.SAGSBEHANDLER)
    reply = service.ask(
        db, settings, asker, "Hvor tit skal rådgiveren besøge et anbragt barn?", "barnets-lov"
    )
    service.give_feedback(db, asker, reply.answer_id, helpful=True, manual_minutes=12)
    with pytest.raises(Forbidden):
        service.give_feedback(db, STAFF, reply.answer_id, helpful=False)
    with db.session() as session:
        rows = list(session.scalars(select(UsageEvent).where(UsageEvent.reference == reply.answer_id)))
    assert [(r.task, r.outcome) for r in rows] == [("ask", "answered"), ("feedback", "helpful")]
    assert rows[1].quality["manual_minutes"] == 12
    assert "rådgiveren" not in json.dumps([r.quality for r in rows], ensure_ascii=False)


def test_follow_up_uses_the_earlier_turn(shipped: tuple[Database, Settings]) -> None:
    db, settings = shipped
    asker = Principal("samtale", Role.SAGSBEHANDLER)
    first = service.ask(
        db, settings, asker, "Hvornår skal vi træffe afgørelse om efterværn for en anbragt ung?"
    )
    follow = service.ask(db, settings, asker, "og hvis hun er 17?", conversation_id=first.conversation_id)
    assert follow.conversation_id == first.conversation_id
    first_sections = {(c.source, c.section) for c in first.answer.ranked[:3]}
    assert first_sections & {(c.source, c.section) for c in follow.answer.ranked[:3]}
    with pytest.raises(Forbidden):
        service.ask(db, settings, CASEWORKER, "og hvad så?", conversation_id=first.conversation_id)


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_empty_or_overlong_question(shipped: tuple[Database, Settings], question: str) -> None:
    db, settings = shipped
    with pytest.raises(InvalidInput):
        service.ask(db, settings, CASEWORKER, question)


def test_unknown_collection(shipped: tuple[Database, Settings]) -> None:
    db, settings = shipped
    with pytest.raises(NotFound):
        service.ask(db, settings, CASEWORKER, "Hvad siger loven?", "findes-ikke")


def _answer(ranked: list[tuple[str, str]], abstained: bool) -> Answer:
    citations = [Citation(source, section, "", "", 1.0) for source, section in ranked]
    return Answer("", abstained, 0.0, "extractive", [], citations, [], [])


def test_eval_arithmetic_on_a_hand_computed_set() -> None:
    law = "retsinformation_2025_282.json"
    items = [
        # gold § 20 at rank 1 → r@1 1, r@5 1, rr 1
        ({"relevant": [{"source": law, "section": "20"}]}, _answer([(law, "20"), (law, "21")], False), 10.0),
        # gold § 47 at rank 3 → r@1 0, r@5 1, rr 1/3; falsely abstained
        (
            {"relevant": [{"source": law, "section": "47"}]},
            _answer([(law, "1"), (law, "2"), (law, "47")], True),
            20.0,
        ),
        # two gold §§, one found at rank 2 → r@1 0, r@5 0.5, rr 1/2
        (
            {"relevant": [{"source": law, "section": "104"}, {"source": law, "section": "105"}]},
            _answer([(law, "9"), (law, "105")], False),
            30.0,
        ),
        # IT guide: source alone decides → rank 1
        (
            {"relevant": [{"source": "os2borgerpc_docs/a.md"}]},
            _answer([("os2borgerpc_docs/a.md", "")], False),
            40.0,
        ),
        # unanswerable: one abstains, one does not
        ({"relevant": []}, _answer([(law, "3")], True), 50.0),
        ({"relevant": []}, _answer([(law, "3")], False), 60.0),
    ]
    figures = score_answers(items)
    assert figures["n"] == 6
    assert figures["recall_at_1"] == pytest.approx(round((1 + 0 + 0 + 1) / 4, 4))
    assert figures["recall_at_5"] == pytest.approx(round((1 + 1 + 0.5 + 1) / 4, 4))
    assert figures["mrr"] == pytest.approx(round((1 + 1 / 3 + 1 / 2 + 1) / 4, 4))
    assert figures["abstain_rate_unanswerable"] == 0.5
    assert figures["false_abstain_rate"] == 0.25
    assert figures["p50_ms"] == 35.0
    assert figures["p95_ms"] == 60.0


def test_eval_on_the_dev_set_meets_a_floor(shipped: tuple[Database, Settings]) -> None:
    db, settings = shipped
    figures = service.evaluate(db, settings, QA, LOCAL_OPERATOR)
    assert figures["n"] == 38
    # Floors well below the measured figures (see README): a regression in retrieval fails here.
    assert figures["recall_at_5"] >= 0.75
    assert figures["abstain_rate_unanswerable"] >= 0.5
    assert figures["false_abstain_rate"] <= 0.2


EDITOR = Principal("redaktoer", Role.LEDELSE)


def test_an_editor_attaches_an_asked_question_to_its_source_and_can_undo_it(
    db: Database, settings: Settings, guides: Path
) -> None:
    service.ingest(db, settings, guides, "test-it", roles=[Role.MEDARBEJDER, Role.LEDELSE])
    question = "Hvordan arbejder jeg fra sommerhuset?"  # no word of it is in the guides
    asked = service.ask(db, settings, STAFF, question, "test-it")
    assert asked.answer.abstained
    (gap,) = [g for g in service.content_gaps(db, EDITOR) if g.question == question]
    assert gap.answer_id == asked.answer_id and gap.attached == []
    before = service.load_index(settings, "test-it")

    attached = service.add_expansion(db, settings, EDITOR, gap.answer_id, "test-it", "vpn.md")
    assert (attached.label, attached.question, attached.added_by) == ("VPN (vpn.md)", question, EDITOR.name)
    # At once: a new index version (no re-ingest) finds the source by the question.
    after = service.load_index(settings, "test-it")
    assert after is not None and before is not None and after.version != before.version
    assert after.chunks == before.chunks
    assert [(e.unit, e.origin) for e in after.questions.expansions] == [(("vpn.md", ""), "editor")]
    again = service.ask(db, settings, STAFF, question, "test-it")
    assert not again.answer.abstained and again.answer.citations[0].source == "vpn.md"
    (gap,) = [g for g in service.content_gaps(db, EDITOR) if g.question == question]
    assert [a.id for a in gap.attached] == [attached.id]
    # Attaching the same question to the same source again changes nothing.
    assert service.add_expansion(db, settings, EDITOR, gap.answer_id, "test-it", "vpn.md").id == attached.id

    service.remove_expansion(db, settings, EDITOR, attached.id)
    removed = service.load_index(settings, "test-it")
    assert removed is not None and removed.questions.expansions == []
    assert service.ask(db, settings, STAFF, question, "test-it").answer.abstained
    with pytest.raises(NotFound):
        service.remove_expansion(db, settings, EDITOR, attached.id)
    # The database keeps who did what; the audit log has ids only.
    with db.session() as session:
        row = session.get(store.ChatExpansion, attached.id)
        assert row is not None and row.removed_by == EDITOR.name and row.removed_at is not None
        events = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "chat_expansion"))
        assert [(e.action, e.object_id, e.actor) for e in events] == [
            ("corrected", str(attached.id), EDITOR.name),
            ("deleted", str(attached.id), EDITOR.name),
        ]
    # Editors' questions survive a re-ingest (they are re-applied from the database).
    kept = service.add_expansion(db, settings, EDITOR, gap.answer_id, "test-it", "printere.md")
    write(guides / "vpn.md", GUIDE_VPN.replace("GlobalConnect", "FortiClient"))
    service.ingest(db, settings, guides, "test-it")
    rebuilt = service.load_index(settings, "test-it")
    assert rebuilt is not None and [e.text for e in rebuilt.questions.expansions] == [kept.question]


def test_only_editors_who_read_the_collection_attach_questions(
    db: Database, settings: Settings, guides: Path
) -> None:
    service.ingest(db, settings, guides, "test-it", roles=[Role.MEDARBEJDER, Role.ADMIN])
    asked = service.ask(db, settings, STAFF, "Hvordan arbejder jeg fra sommerhuset?", "test-it")
    with pytest.raises(Forbidden):
        service.add_expansion(db, settings, STAFF, asked.answer_id, "test-it", "vpn.md")
    with pytest.raises(Forbidden):  # management may not read this collection
        service.add_expansion(db, settings, EDITOR, asked.answer_id, "test-it", "vpn.md")
    with pytest.raises(InvalidInput):
        service.add_expansion(db, settings, LOCAL_OPERATOR, asked.answer_id, "test-it", "findes-ikke.md")
    with pytest.raises(NotFound):
        service.add_expansion(db, settings, LOCAL_OPERATOR, "ukendt", "test-it", "vpn.md")
    with pytest.raises(Forbidden):
        service.unit_choices(db, settings, STAFF)
    labels = {c.label for c in service.unit_choices(db, settings, LOCAL_OPERATOR)}
    assert labels == {"Printere (printere.md)", "VPN (vpn.md)"}


def test_evaluation_keeps_the_files_own_questions_out(
    shipped: tuple[Database, Settings], tmp_path: Path
) -> None:
    db, settings = shipped
    index = service.load_index(settings, "it-help")
    assert index is not None and index.abstention is not None
    own = [e.text for e in index.questions.expansions[:3]] + index.questions.out_of_scope[:2]
    reduced = evaluation.without_questions(index, set(own))
    assert len(reduced.questions.expansions) == len(index.questions.expansions) - 3
    assert len(reduced.questions.out_of_scope) == len(index.questions.out_of_scope) - 2
    assert not set(own) & {e.text for e in reduced.questions.expansions}
    # The abstention model and the ranker are trained again, without them.
    assert reduced.abstention is not None and reduced.ranker is not None and index.ranker is not None
    assert reduced.abstention.summary["answerable"] == index.abstention.summary["answerable"] - 3
    assert reduced.ranker.summary["searches"] < index.ranker.summary["searches"]
    # Questions the collection does not carry change nothing.
    dev = {json.loads(line)["question"] for line in QA.read_text(encoding="utf-8").splitlines()}
    assert evaluation.without_questions(index, dev) is index

    qa = tmp_path / "own.jsonl"
    qa.write_text(
        "\n".join(
            json.dumps({"question": q, "collection": "it-help", "relevant": [{"source": e.source}]})
            for q, e in zip(own[:3], index.questions.expansions[:3], strict=True)
        ),
        encoding="utf-8",
    )
    assert service.evaluate(db, settings, qa, LOCAL_OPERATOR)["n"] == 3


def test_an_index_of_an_older_kai_is_rebuilt_by_the_next_ingest(
    db: Database, settings: Settings, guides: Path
) -> None:
    service.ingest(db, settings, guides, "test-it")
    # An index version as an older kai wrote it becomes the current one.
    folder = store.index_dir(settings.resolved_storage_dir, "test-it")
    old = folder / "v-00000000T000000000000-0ld"
    shutil.copytree(folder / (folder / "CURRENT").read_text().strip(), old)
    (old / "meta.json").write_text(json.dumps({**json.loads((old / "meta.json").read_text()), "format": 1}))
    (folder / "CURRENT").write_text(old.name)
    assert service.load_index(settings, "test-it") is None
    assert not has_complete_index(folder)  # readiness says so too
    report = service.ingest(db, settings, guides, "test-it")
    assert sorted(report.replaced) == ["printere.md", "vpn.md"] and report.chunks > 0
    assert service.load_index(settings, "test-it") is not None and has_complete_index(folder)


def test_an_upgrade_that_changes_the_shipped_corpus_rebuilds_what_changed(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing data dir keeps its indexes across restarts, but a kai that ships new questions (or new
    out-of-scope questions) must build them in, or an upgrade never reaches the sites that run it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(service.SHIPPED_CORPUS, corpus)
    monkeypatch.setattr(service, "SHIPPED_CORPUS", corpus)
    monkeypatch.setattr(service, "OUT_OF_SCOPE", corpus / "out_of_scope.jsonl")
    built = service.ensure_shipped_collections(db, settings)
    assert {r.collection for r in built} == {"barnets-lov", "it-help"}
    assert service.pending_shipped_collections(db, settings) == []
    assert service.ensure_shipped_collections(db, settings) == []
    law_index = store.index_dir(settings.resolved_storage_dir, "barnets-lov")
    law_version = service.current_version(law_index)

    question = {
        "id": "upgrade-1",
        "question": "Hvordan slukker jeg skærmen automatisk om aftenen på borgerpc'erne?",
        "collection": "it-help",
        "relevant": [{"source": "os2borgerpc_docs/bruger_administrationssiden_taend_sluk_tidsplan.md"}],
    }
    with (corpus / "it-help" / "questions.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps(question, ensure_ascii=False) + "\n")
    assert service.pending_shipped_collections(db, settings) == ["it-help"]
    [report] = service.ensure_shipped_collections(db, settings)
    assert report.collection == "it-help" and report.unchanged and not report.replaced
    guides = service.load_index(settings, "it-help")
    assert question["question"] in {e.text for e in guides.questions.expansions}
    assert service.current_version(law_index) == law_version

    declined = "Hvornår har genbrugspladsen åbent i weekenden?"
    with (corpus / "out_of_scope.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps({"id": "upgrade-2", "question": declined, "relevant": []}) + "\n")
    assert service.pending_shipped_collections(db, settings) == ["barnets-lov", "it-help"]
    service.ensure_shipped_collections(db, settings)
    for name in ("barnets-lov", "it-help"):
        assert declined in service.load_index(settings, name).questions.out_of_scope
    assert service.pending_shipped_collections(db, settings) == []
