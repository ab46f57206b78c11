"""Chatbot use cases: ingest and remove documents, ask, give feedback, list content gaps, attach an asked
question to the source that answers it, evaluate. The same functions serve the API and the CLI."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import statistics
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from evaluation.metrics import percentile
from models.registry import load_embedder, load_reranker
from services.chatbot import abstention, store
from services.chatbot.answer import (
    Passage,
    abstention_answer,
    extractive_answer,
    highlight,
    llm_messages,
    validated_llm_answer,
)
from services.chatbot.chunking import chunk_document
from services.chatbot.evaluation import judged, read_questions, scores, without_questions
from services.chatbot.expansions import (
    QuestionCache,
    expansions_from_items,
    unit_texts,
    write_expansions,
)
from services.chatbot.index import (
    CollectionIndex,
    IndexFormatError,
    Progress,
    QuestionIndex,
    analyze,
    current_version,
    question_key,
    usable_expansions,
)
from services.chatbot.ingest import LOADERS, QUESTIONS_FILE, IngestError, load_document, load_folder
from services.chatbot.policy import GAP_EDITOR_ROLES
from services.chatbot.retrieval import RetrievalConfig, embed_query, search
from services.chatbot.types import Chunk, Expansion, SourceDocument
from services.common import ledger
from services.common.audit import Action, audit
from services.common.auth import Principal, Role
from services.common.config import Settings
from services.common.db import Database, utcnow
from services.common.errors import Forbidden, InvalidInput, KaiError, NotFound
from services.common.llm import LlmClient, LlmError
from services.common.privacy import mask_cpr

log = logging.getLogger(__name__)

SHIPPED_CORPUS = Path(__file__).parent / "corpus"
# Questions the shipped collections do not answer: every collection's abstention model learns its scope
# against them.
OUT_OF_SCOPE = SHIPPED_CORPUS / "out_of_scope.jsonl"
SHIPPED_STAMP = "SHIPPED"
MAX_QUESTION_CHARS = 2000
TOP_K = 5
ANSWER_PASSAGES = 3
_COLLECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


# --- collections and ingest -----------------------------------------------------------------------------


@dataclass
class IngestReport:
    collection: str
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files without text, or not documents
    chunks: int = 0
    questions: int = 0  # questions indexed with the collection's units


def _check_collection_name(name: str) -> str:
    if not _COLLECTION_NAME.match(name):
        raise InvalidInput(
            f"Ugyldigt samlingsnavn '{name}': brug små bogstaver, tal og bindestreg (fx 'it-help')."
        )
    return name


def _load_path(path: Path, report: IngestReport) -> list[tuple[SourceDocument, Path]]:
    """Every document under ``path``; one unreadable document fails the whole ingest (nothing half-done)."""
    if not path.exists():
        raise NotFound(f"{path} findes ikke.")
    try:
        if path.is_file():
            return [(load_document(path, path.name), path)]
        documents, report.skipped = load_folder(path)
    except IngestError as exc:
        raise InvalidInput(str(exc)) from exc
    if not documents:
        raise InvalidInput(
            f"{path} indeholder ingen dokumenter, der kan indlæses ({', '.join(sorted(LOADERS))})."
        )
    return documents


def shipped_chunks(collection: str) -> list[Chunk]:
    """The chunks of a collection kai ships, straight from its corpus folder (for tests and benchmarks)."""
    documents, _ = load_folder(SHIPPED_CORPUS / _shipped_manifest()[collection]["path"])
    return [chunk for document, _ in documents for chunk in chunk_document(document)]


def shipped_questions(collection: str) -> list[Expansion]:
    """The questions a shipped collection carries for its units (its ``questions.jsonl``)."""
    return expansions_from_items(
        read_questions(SHIPPED_CORPUS / _shipped_manifest()[collection]["path"] / QUESTIONS_FILE)
    )


def out_of_scope_questions() -> list[str]:
    """Questions the shipped collections do not answer (``corpus/out_of_scope.jsonl``)."""
    return [item["question"] for item in read_questions(OUT_OF_SCOPE)]


def _index_cache_dir(settings: Settings) -> Path:
    # Embeddings are a pure function of (model, text): one cache for every data dir on this machine.
    return settings.resolved_model_cache_dir / "embeddings"


@lru_cache(maxsize=16)
def _cached_index(folder: str, version: str) -> CollectionIndex:
    """Indexes are loaded once per process and version; an ingest writes a new version."""
    return CollectionIndex.load(Path(folder))


def load_index(settings: Settings, collection: str) -> CollectionIndex | None:
    """The collection's index in use; None before its first ingest, or when it was written by an older kai
    (``kai prepare-models`` or an ingest rebuilds it)."""
    folder = store.index_dir(settings.resolved_storage_dir, collection)
    version = current_version(folder)
    if not version:
        return None
    try:
        return _cached_index(str(folder), version)
    except IndexFormatError as exc:
        log.warning("%s; it is rebuilt by the next ingest", exc)
        return None


def build_index(
    name: str,
    chunks: list[Chunk],
    expansions: list[Expansion],
    settings: Settings,
    progress: Progress | None = None,
) -> CollectionIndex:
    """A collection's index with its questions, and its abstention model and ranker trained on them (not
    saved)."""
    index = CollectionIndex.build(
        name,
        chunks,
        load_embedder(settings),
        _index_cache_dir(settings),
        expansions=expansions,
        out_of_scope=out_of_scope_questions(),
        progress=progress,
    )
    if progress is not None:
        progress("afgrænsning og rangering (modeller for hvad samlingen svarer på)", 0, 1)
    started = time.perf_counter()
    index.abstention, index.ranker = abstention.train(index)
    index.stats.training_seconds = time.perf_counter() - started
    return index


def _folder_questions(path: Path, sources: set[str]) -> list[Expansion]:
    """The questions a ``questions.jsonl`` beside the ingested documents names for these sources."""
    folder = path if path.is_dir() else path.parent
    file = folder / QUESTIONS_FILE
    if not file.is_file():
        return []
    return [e for e in expansions_from_items(read_questions(file)) if e.source in sources]


def _editor_expansions(db: Database, collection: str) -> list[Expansion]:
    with db.session() as session:
        rows = store.active_expansions(session, collection)
        return [Expansion(r.source, r.section, r.question, "editor") for r in rows]


def _collection_questions(
    db: Database,
    settings: Settings,
    collection: str,
    index: CollectionIndex | None,
    chunks: list[Chunk],
    path: Path,
    ingested: set[str],
    progress: Progress | None,
) -> list[Expansion]:
    """A collection's questions after an ingest of ``path`` (whose documents are ``ingested``): for those
    documents, the questions their folder's ``questions.jsonl`` names and, with an LLM configured, questions
    it writes for units that still have none; the other documents' questions as they were; editors'
    questions from the database. Only questions of units among ``chunks`` are kept, each once."""
    kept = [
        e
        for e in (index.questions.expansions if index else [])
        if e.source not in ingested and e.origin != "editor"
    ]
    new = _folder_questions(path, ingested)
    editor = _editor_expansions(db, collection)
    if settings.llm_url:
        covered = {e.unit for e in new + editor}
        units = unit_texts([c for c in chunks if c.source in ingested])
        lacking = [u for u in units if (u.source, u.section) not in covered]
        cache = QuestionCache(_index_cache_dir(settings) / "llm_questions.sqlite3")
        new += write_expansions(lacking, LlmClient(settings), cache, progress)
    return usable_expansions(kept + new + editor, chunks)


def ingest(
    db: Database,
    settings: Settings,
    path: Path,
    collection: str,
    *,
    title: str | None = None,
    roles: list[Role] | None = None,
    contact: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Add or replace the documents under ``path`` in ``collection`` and rebuild its index atomically: texts,
    questions and the abstention model. Unchanged documents with unchanged questions rebuild nothing."""
    _check_collection_name(collection)
    report = IngestReport(collection)
    loaded = _load_path(path, report)
    with db.session() as session:
        existing = {d.source: d for d in store.documents_of(session, collection)}
        row = session.get(store.ChatCollection, collection)
    index = load_index(settings, collection)
    changed = []
    for document, file in loaded:
        known = existing.get(document.source)
        if known is not None and known.checksum == document.checksum and index is not None:
            report.unchanged.append(document.source)
        else:
            (report.replaced if known else report.added).append(document.source)
            changed.append((document, file))

    replaced = {d.source for d, _ in changed}
    new_chunks = {d.source: chunk_document(d) for d, _ in changed}
    chunks = [c for c in (index.chunks if index else []) if c.source not in replaced] + [
        c for document_chunks in new_chunks.values() for c in document_chunks
    ]
    ingested = {d.source for d, _ in loaded}
    questions = _collection_questions(db, settings, collection, index, chunks, path, ingested, progress)
    if (
        changed
        or index is None
        or index.questions.expansions != questions
        or index.questions.out_of_scope != out_of_scope_questions()
    ):
        _rebuild(settings, collection, chunks, questions, progress)
        _copy_sources(settings, collection, changed)

    with db.session() as session:
        if row is None:
            row = store.ChatCollection(name=collection, roles=[r.value for r in roles or list(Role)])
            session.add(row)
            session.flush()
        else:
            row = session.merge(row)
        if roles is not None:
            row.roles = [r.value for r in roles]
        row.title = title or row.title or collection
        row.contact = contact if contact is not None else row.contact
        for document, _ in changed:
            stored = (
                session.get(store.ChatDocument, existing[document.source].id)
                if document.source in existing
                else None
            )
            if stored is None:
                stored = store.ChatDocument(collection=collection, source=document.source)
                session.add(stored)
            stored.title, stored.kind, stored.checksum = document.title, document.kind, document.checksum
            stored.chunks = len(new_chunks[document.source])
        built = load_index(settings, collection)
        row.chunks = report.chunks = len(built.chunks) if built else 0
        report.questions = len(built.questions.expansions) if built else 0
    return report


def _rebuild(
    settings: Settings,
    collection: str,
    chunks: list[Chunk],
    questions: list[Expansion],
    progress: Progress | None = None,
) -> None:
    folder = store.index_dir(settings.resolved_storage_dir, collection)
    if not chunks:
        shutil.rmtree(folder, ignore_errors=True)
        return
    build_index(collection, chunks, questions, settings, progress).save(folder)


def _copy_sources(settings: Settings, collection: str, documents: list[tuple[SourceDocument, Path]]) -> None:
    target_root = store.sources_dir(settings.resolved_storage_dir, collection)
    for document, file in documents:
        target = target_root / document.source
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(file, partial)
        partial.replace(target)


def remove_document(db: Database, settings: Settings, collection: str, source: str) -> IngestReport:
    """Take one document out of a collection and its index."""
    with db.session() as session:
        store.get_collection(session, collection)
        document = next((d for d in store.documents_of(session, collection) if d.source == source), None)
        if document is None:
            raise NotFound(f"Dokumentet '{source}' findes ikke i samlingen '{collection}'.")
    index = load_index(settings, collection)
    chunks = [c for c in (index.chunks if index else []) if c.source != source]
    _rebuild(
        settings, collection, chunks, usable_expansions(index.questions.expansions if index else [], chunks)
    )
    (store.sources_dir(settings.resolved_storage_dir, collection) / source).unlink(missing_ok=True)
    with db.session() as session:
        session.delete(session.get(store.ChatDocument, document.id))
        current = load_index(settings, collection)
        store.get_collection(session, collection).chunks = len(current.chunks) if current else 0
    return IngestReport(collection, replaced=[source])


def _shipped_manifest() -> dict[str, dict[str, Any]]:
    return tomllib.loads((SHIPPED_CORPUS / "collections.toml").read_text(encoding="utf-8"))


def _shipped_digest(folder: Path) -> str:
    """What a shipped collection is built from: its folder's files and the out-of-scope questions."""
    digest = hashlib.sha256()
    for file in sorted([*(p for p in folder.rglob("*") if p.is_file()), OUT_OF_SCOPE]):
        digest.update(file.relative_to(SHIPPED_CORPUS).as_posix().encode("utf-8"))
        with file.open("rb") as content:
            digest.update(hashlib.file_digest(content, "sha256").digest())
    return digest.hexdigest()


def _shipped_stamp(settings: Settings, name: str) -> Path:
    """Beside a shipped collection's index versions: the digest of the corpus it was last built from."""
    return store.index_dir(settings.resolved_storage_dir, name) / SHIPPED_STAMP


def _pending_digests(db: Database, settings: Settings) -> dict[str, str]:
    """The shipped collections to build, each with the digest of the corpus it is to be built from."""
    with db.session() as session:
        present = {c.name for c in store.list_collections(session)}
    pending = {}
    for name, entry in _shipped_manifest().items():
        digest = _shipped_digest(SHIPPED_CORPUS / entry["path"])
        stamp = _shipped_stamp(settings, name)
        built = stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest
        if name not in present or load_index(settings, name) is None or not built:
            pending[name] = digest
    return pending


def pending_shipped_collections(db: Database, settings: Settings) -> list[str]:
    """Shipped collections not built yet in this data dir, or built from another shipped corpus than this
    kai's (an upgrade brought new documents or questions)."""
    return list(_pending_digests(db, settings))


def ensure_shipped_collections(
    db: Database, settings: Settings, progress: Progress | None = None
) -> list[IngestReport]:
    """Build the collections kai ships with on first run, and again after an upgrade changed what they are
    built from (the ingest rebuilds only what changed; editors' questions stay); otherwise do nothing."""
    manifest = _shipped_manifest()
    reports = []
    for name, digest in _pending_digests(db, settings).items():
        reports.append(
            ingest(
                db,
                settings,
                SHIPPED_CORPUS / manifest[name]["path"],
                name,
                title=manifest[name]["title"],
                roles=[Role(r) for r in manifest[name]["roles"]],
                contact=manifest[name]["contact"],
                progress=progress,
            )
        )
        _shipped_stamp(settings, name).write_text(digest + "\n", encoding="utf-8")
    return reports


def list_collections(db: Database, principal: Principal) -> list[store.ChatCollection]:
    with db.session() as session:
        return [c for c in store.list_collections(session) if principal.role in c.roles]


def source_file(db: Database, settings: Settings, principal: Principal, collection: str, source: str) -> Path:
    """The stored copy of a cited document, for the citation's link."""
    _readable(db, principal, collection)
    root = store.sources_dir(settings.resolved_storage_dir, collection).resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"Kilden '{source}' findes ikke i samlingen '{collection}'.")
    return path


# --- asking ---------------------------------------------------------------------------------------------


@dataclass
class Citation:
    source: str
    section: str
    title: str
    url: str
    score: float


@dataclass
class ChatReply:
    answer: Answer
    answer_id: str
    conversation_id: str

    def contract(self) -> dict[str, Any]:
        """The CLI's JSON contract: answer, abstained, citations."""
        return {
            "answer": self.answer.text,
            "abstained": self.answer.abstained,
            "citations": [vars(c) for c in self.answer.citations],
        }


def _readable(db: Database, principal: Principal, collection: str) -> store.ChatCollection:
    with db.session() as session:
        row = store.get_collection(session, collection)
    if principal.role not in row.roles:
        raise Forbidden(f"Din rolle ({principal.role}) giver ikke adgang til samlingen '{collection}'.")
    return row


def _citation_url(chunk: Chunk, collection: str) -> str:
    """The web address of a law (ELI), else kai's copy of the file, with the section's anchor if any."""
    if chunk.url.startswith(("http://", "https://")):
        return chunk.url
    return f"/api/chat/sources/{collection}/{chunk.source}{chunk.url}"


def _follow_up_query(question: str, earlier: list[store.ChatAnswer]) -> str:
    """A short follow-up ("og hvis hun er over 18?") is searched together with the question before it."""
    if not earlier or len(analyze(question)) >= 6:
        return question
    return f"{earlier[-1].question} {question}"


@dataclass
class Answer:
    """What the bot would say, before anything is stored."""

    text: str
    abstained: bool
    confidence: float
    source: str  # "extractive" | "llm" | "abstained"
    citations: list[Citation]  # shown with the answer (none when abstaining)
    ranked: list[Citation]  # every retrieved citation, best first, also when abstaining
    passages: list[Passage]
    collections: list[str]


def _validated_question(question: str) -> str:
    # Control and format characters (NUL, escapes, zero-width marks) carry no meaning for retrieval and
    # must not reach the stored question or the content-gap page.
    question = "".join(ch for ch in question if ch.isspace() or unicodedata.category(ch)[0] != "C").strip()
    if not any(ch.isalnum() for ch in question):
        raise InvalidInput("Spørgsmålet er tomt: skriv det med ord (bogstaver eller tal), ikke kun tegn.")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"Spørgsmålet er for langt ({len(question)} tegn; højst {MAX_QUESTION_CHARS}).")
    return question


def _searchable_collections(
    db: Database, principal: Principal, collection: str | None
) -> list[store.ChatCollection]:
    if collection is not None:
        return [_readable(db, principal, collection)]
    rows = list_collections(db, principal)
    if not rows:
        raise Forbidden(f"Din rolle ({principal.role}) har ikke adgang til nogen samling.")
    return rows


def answer_question(
    settings: Settings,
    question: str,
    rows: list[store.ChatCollection],
    query: str | None = None,
    indexes: dict[str, CollectionIndex] | None = None,
) -> Answer:
    """Retrieve, decide whether to abstain, and compose the answer. Stores nothing. ``indexes`` replaces the
    collections' indexes in use (the evaluation's, without its own questions)."""
    available = indexes if indexes is not None else {row.name: load_index(settings, row.name) for row in rows}
    searched = [index for row in rows if (index := available.get(row.name)) is not None]
    query = query or mask_cpr(question)
    config = RetrievalConfig(abstain_threshold=settings.chat_abstain_threshold)
    embedder, reranker = load_embedder(settings), load_reranker(settings)
    result = search(searched, embed_query(query, embedder), k=TOP_K, reranker=reranker, config=config)
    ranked = [
        Citation(
            h.chunk.source,
            h.chunk.section,
            h.chunk.title,
            _citation_url(h.chunk, h.collection),
            round(h.score, 4),
        )
        for h in result.hits
    ]
    names = [row.name for row in rows]
    if result.abstained:
        text = abstention_answer([row.title for row in rows], [row.contact for row in rows])
        return Answer(text, True, result.confidence, "abstained", [], ranked, [], names)
    # Highlighted: the sentences of the cited text that share most words with the question and with the
    # unit's question closest to it (written for that text, it often uses the text's words where the asker
    # did not: "BFU" → "børnefaglig undersøgelse").
    terms = set(analyze(query))
    passages = [
        Passage(h.chunk, h.score, highlight(h.chunk.text, terms | set(analyze(h.question or "")), analyze))
        for h in result.hits[:ANSWER_PASSAGES]
    ]
    text, source = _compose(settings, question, passages)
    return Answer(text, False, result.confidence, source, ranked, ranked, passages, names)


def ask(
    db: Database,
    settings: Settings,
    principal: Principal,
    question: str,
    collection: str | None = None,
    conversation_id: str | None = None,
) -> ChatReply:
    """Answer a question for ``principal`` from the collections their role may read, and record it."""
    started = time.perf_counter()
    question = _validated_question(question)
    rows = _searchable_collections(db, principal, collection)
    with db.session() as session:
        earlier = store.conversation_turns(session, conversation_id) if conversation_id else []
    if earlier and earlier[-1].user != principal.name:
        raise Forbidden("Samtalen tilhører en anden bruger.")
    answer = answer_question(settings, question, rows, _follow_up_query(mask_cpr(question), earlier))
    conversation_id = conversation_id or store.new_conversation_id()
    with db.session() as session:
        row = store.ChatAnswer(
            conversation_id=conversation_id,
            user=principal.name,
            question=mask_cpr(question),
            collections=answer.collections,
            abstained=answer.abstained,
            confidence=answer.confidence,
            citations=[vars(c) for c in answer.citations],
        )
        session.add(row)
        session.flush()
        answer_id = row.id
        audit(session, principal, Action.ASKED, object_type="answer", object_id=answer_id)
        ledger.record_answer(
            session,
            abstained=answer.abstained,
            processing_seconds=time.perf_counter() - started,
            user=principal.name,
            reference=answer_id,
            quality=ledger.AnswerQuality(
                confidence=round(answer.confidence, 4),
                citations=len(answer.citations),
                answer_source=answer.source,
                collections=tuple(answer.collections),
            ),
        )
    return ChatReply(answer, answer_id, conversation_id)


def _compose(settings: Settings, question: str, passages: list[Passage]) -> tuple[str, str]:
    """The LLM's answer when configured and every citation in it points to a passage; else extractive."""
    if settings.llm_url:
        try:
            text = LlmClient(settings).chat(llm_messages(mask_cpr(question), passages))
        except LlmError as exc:
            log.warning("LLM answer failed (%s); using the extractive answer", type(exc).__name__)
        else:
            checked = validated_llm_answer(text, len(passages))
            if checked is not None:
                return checked, "llm"
            log.info("LLM answer cited no or unknown passages; using the extractive answer")
    return extractive_answer(passages), "extractive"


# --- feedback and content gaps --------------------------------------------------------------------------


def give_feedback(
    db: Database, principal: Principal, answer_id: str, helpful: bool, manual_minutes: float | None = None
) -> None:
    """A person's verdict on an answer, and how long the manual lookup would have taken them."""
    if manual_minutes is not None and not 0 <= manual_minutes <= 480:
        raise InvalidInput("Tidsforbruget skal være mellem 0 og 480 minutter.")
    with db.session() as session:
        answer = store.get_answer(session, answer_id)
        if answer.user != principal.name and principal.role != Role.ADMIN:
            raise Forbidden("Du kan kun give feedback på dine egne svar.")
        answer.helpful = helpful
        ledger.record_feedback(
            session,
            user=principal.name,
            reference=answer_id,
            quality=ledger.FeedbackQuality(helpful, answer.abstained, manual_minutes),
        )


@dataclass
class UnitChoice:
    """A § or guide an editor can attach a question to."""

    collection: str
    source: str
    section: str
    label: str  # "Barnets lov § 47", "Computere (os2borgerpc_docs/…computere.md)"


@dataclass
class AttachedQuestion:
    """A question an editor attached to the source that answers it."""

    id: int
    collection: str
    source: str
    section: str
    label: str
    question: str
    added_by: str
    added_at: str


@dataclass
class ContentGap:
    question: str
    times: int
    last_asked: str
    collections: list[str]
    reason: str  # "ikke fundet" | "ikke hjælpsomt"
    answer_id: str  # the latest time it was asked: what "Tilføj til kilde" attaches
    cited: list[str] = field(default_factory=list)  # what an unhelpful answer cited
    attached: list[AttachedQuestion] = field(default_factory=list)


def _require_editor(principal: Principal) -> None:
    if principal.role not in GAP_EDITOR_ROLES:
        raise Forbidden("Kun redaktører (admin eller ledelse) kan se og rette huller i vejledningen.")


def _unit_labels(db: Database, collection: str, units: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    with db.session() as session:
        titles = {d.source: d.title for d in store.documents_of(session, collection)}
    return {
        (source, section): f"{titles.get(source, source)} § {section}"
        if section
        else f"{titles.get(source, source)} ({source})"
        for source, section in units
    }


def unit_choices(db: Database, settings: Settings, principal: Principal) -> list[UnitChoice]:
    """Every § and guide of the collections the editor may read, for attaching a question to one."""
    _require_editor(principal)
    choices = []
    for row in list_collections(db, principal):
        index = load_index(settings, row.name)
        if index is not None:
            labels = _unit_labels(db, row.name, index.units)
            choices += [UnitChoice(row.name, s, sec, labels[(s, sec)]) for s, sec in index.units]
    return choices


def _attached(db: Database, rows: list[store.ChatExpansion]) -> list[AttachedQuestion]:
    labels: dict[tuple[str, str], str] = {}
    for collection in {r.collection for r in rows}:
        units = [(r.source, r.section) for r in rows if r.collection == collection]
        labels |= _unit_labels(db, collection, units)
    return [
        AttachedQuestion(
            r.id,
            r.collection,
            r.source,
            r.section,
            labels[(r.source, r.section)],
            r.question,
            r.added_by,
            r.added_at.isoformat(),
        )
        for r in rows
    ]


def content_gaps(db: Database, principal: Principal, limit: int = 200) -> list[ContentGap]:
    """Questions the guidance did not answer (declined, or marked unhelpful), most frequent first: the
    editors' (admin, management) list of what the guidance lacks, with the questions they attached to a
    source. Questions are CPR-masked, never named."""
    _require_editor(principal)
    from sqlalchemy import or_, select

    readable = {c.name for c in list_collections(db, principal)}
    gaps: dict[str, ContentGap] = {}
    asked_in: dict[str, str] = {}  # answer id → gap key
    with db.session() as session:
        rows = session.scalars(
            select(store.ChatAnswer)
            .where(or_(store.ChatAnswer.abstained.is_(True), store.ChatAnswer.helpful.is_(False)))
            .order_by(store.ChatAnswer.created_at)
        )
        for row in rows:
            if not set(row.collections) & readable:
                continue
            key = " ".join(analyze(row.question)) or row.question.lower()
            asked_in[row.id] = key
            reason = "ikke fundet" if row.abstained else "ikke hjælpsomt"
            cited = [c["title"] for c in row.citations]
            gap = gaps.get(key)
            if gap is None:
                gaps[key] = ContentGap(
                    row.question, 1, row.created_at.isoformat(), list(row.collections), reason, row.id, cited
                )
            else:
                gap.times += 1
                gap.last_asked, gap.answer_id, gap.reason, gap.cited = (
                    row.created_at.isoformat(),
                    row.id,
                    reason,
                    cited,
                )
        attached = [r for r in store.active_expansions(session) if r.answer_id in asked_in]
    for row, question in zip(attached, _attached(db, attached), strict=True):
        gaps[asked_in[str(row.answer_id)]].attached.append(question)
    return sorted(gaps.values(), key=lambda g: (-g.times, g.last_asked))[:limit]


def add_expansion(
    db: Database,
    settings: Settings,
    principal: Principal,
    answer_id: str,
    collection: str,
    source: str,
    section: str = "",
) -> AttachedQuestion:
    """Attach an asked question to the § or guide that answers it: from now on it is one of that unit's
    questions (its index gets a new version at once; no re-ingest). Audited, and undone by
    ``remove_expansion``. Attaching the same question to the same unit again changes nothing."""
    _require_editor(principal)
    _readable(db, principal, collection)
    index = load_index(settings, collection)
    if index is None or (source, section) not in index.units:
        raise InvalidInput(f"Kilden findes ikke i samlingen '{collection}'.")
    with db.session() as session:
        question = mask_cpr(store.get_answer(session, answer_id).question)
        same = [
            r
            for r in store.active_expansions(session, collection)
            if (r.source, r.section) == (source, section)
            and question_key(r.question) == question_key(question)
        ]
        row = same[0] if same else None
        if row is None:
            row = store.ChatExpansion(
                collection=collection,
                source=source,
                section=section,
                question=question,
                answer_id=answer_id,
                added_by=principal.name,
            )
            session.add(row)
            session.flush()
            audit(session, principal, Action.CORRECTED, object_type="chat_expansion", object_id=row.id)
    _refresh_editor_questions(db, settings, collection)
    return _attached(db, [row])[0]


def remove_expansion(db: Database, settings: Settings, principal: Principal, expansion_id: int) -> None:
    """Take an editor's question off its unit again (the row stays, marked removed: who and when)."""
    _require_editor(principal)
    with db.session() as session:
        collection = store.get_expansion(session, expansion_id).collection
    _readable(db, principal, collection)
    with db.session() as session:
        row = store.get_expansion(session, expansion_id)
        row.removed_at, row.removed_by = utcnow(), principal.name
        audit(session, principal, Action.DELETED, object_type="chat_expansion", object_id=expansion_id)
    _refresh_editor_questions(db, settings, collection)


def _refresh_editor_questions(db: Database, settings: Settings, collection: str) -> None:
    """A new index version with the editors' questions as the database has them now; the texts, the other
    questions and the abstention model stay (the model reads the questions at query time)."""
    index = load_index(settings, collection)
    if index is None:
        return
    others = [e for e in index.questions.expansions if e.origin != "editor"]
    expansions = usable_expansions(others + _editor_expansions(db, collection), index.chunks)
    questions = QuestionIndex.embed(
        expansions, index.questions.out_of_scope, load_embedder(settings), _index_cache_dir(settings)
    )
    index.with_questions(questions).save(store.index_dir(settings.resolved_storage_dir, collection))


# --- evaluation -----------------------------------------------------------------------------------------


def score_answers(items: list[tuple[dict[str, Any], Answer, float]]) -> dict[str, Any]:
    """The eval figures for (question, answer, milliseconds) triples. Retrieval is scored on the ranked
    citations (also where the bot declined), abstention separately."""
    latencies = [ms for _, _, ms in items]
    return {
        **scores(
            [
                judged(question, [(c.source, c.section) for c in answer.ranked], answer.abstained)
                for question, answer, _ in items
            ]
        ),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }


def evaluate(db: Database, settings: Settings, qa_path: Path, principal: Principal) -> dict[str, Any]:
    """`kai chatbot eval`: answer every question (in its collection when it names one) and score the answers.
    Questions of the file that the collections carry as their own questions are taken out of them first (see
    ``evaluation.without_questions``). Evaluation questions are not recorded: they are not use, and must not
    count as time saved."""
    questions = read_questions(qa_path)
    texts = {q["question"] for q in questions}
    indexes = {
        row.name: without_questions(index, texts)
        for row in list_collections(db, principal)
        if (index := load_index(settings, row.name)) is not None
    }
    items = []
    for question in questions:
        started = time.perf_counter()
        try:
            rows = _searchable_collections(db, principal, question.get("collection"))
            answer = answer_question(
                settings, _validated_question(question["question"]), rows, indexes=indexes
            )
        except KaiError as exc:
            raise InvalidInput(f"Spørgsmål {question.get('id', '?')}: {exc.message}") from exc
        items.append((question, answer, (time.perf_counter() - started) * 1000))
    return score_answers(items)
