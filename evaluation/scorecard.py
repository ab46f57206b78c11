"""`kai evaluate scorecard`: each service's quality benchmark on the configured datasets, one stamped record.

Each section reuses its service's own evaluation (speech: the minutes pipeline, retrieval: `kai chatbot eval`,
routing: `kai mailsort eval`) on the datasets in ``evaluation/datasets.toml``. A scorecard is stamped with
what produced its numbers — model names, the sha256 of every data file, kai's version, date and machine — so
two scorecards can be compared (``compare_scorecards``) and a regression is visible, and so is a comparison
that is not like for like (other data, other model).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import tempfile
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evaluation.metrics import speech_error_rates
from services.common.config import Settings
from services.common.db import Database
from services.common.stamps import machine_info, sha256_file

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = Path(__file__).resolve().parent / "datasets.toml"
SECTIONS = ("speech", "retrieval", "routing")
SCHEMA_VERSION = 1

# Which way is better, per metric; metrics not listed (counts, seconds of audio) are not compared.
HIGHER_IS_BETTER = {
    "recall_at_1",
    "recall_at_5",
    "mrr",
    "abstain_rate_unanswerable",
    "accuracy",
    "macro_f1",
    "auto_coverage",
    "auto_precision",
}
LOWER_IS_BETTER = {"wer", "cer", "false_abstain_rate"}
# Timings vary with the machine's load: compared relatively, and only on the same machine.
TIMINGS = {"p50_ms", "p95_ms", "real_time_factor"}


# --------------------------------------------------------------------------------------------- records


@dataclass
class SectionResult:
    """One benchmark on one dataset."""

    section: str  # "speech" | "retrieval" | "routing"
    dataset: str  # the dataset's name in datasets.toml
    status: str = "ok"  # "ok" | "skipped" (data missing) | "failed"
    metrics: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # data file (as configured) -> sha256
    verified: bool = True  # False: the reference answers are a guess; the figures are a smoke test
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # e.g. per-file speech results
    seconds: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.section}/{self.dataset}"


@dataclass
class Scorecard:
    created_at: str
    kai_version: str
    machine: dict[str, Any]
    sections: list[SectionResult]
    datasets_file: str = ""
    schema: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        return cls(
            created_at=str(data["created_at"]),
            kai_version=str(data.get("kai_version", "")),
            machine=dict(data.get("machine", {})),
            sections=[SectionResult(**s) for s in data.get("sections", [])],
            datasets_file=str(data.get("datasets_file", "")),
            schema=int(data.get("schema", SCHEMA_VERSION)),
        )


# ------------------------------------------------------------------------------------------------ stamp


def kai_version() -> str:
    try:
        return importlib.metadata.version("kai")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# -------------------------------------------------------------------------------------------- datasets


def _resolve(path: str, base: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()


_PATH_KEYS = ("manifest", "questions", "data", "train", "test")


def load_datasets(path: Path | None = None) -> tuple[dict[str, list[dict[str, Any]]], Path]:
    """The configured datasets per section, with paths resolved (relative paths: from the repository root,
    or from the toml's own folder when it lies outside the repository)."""
    path = path or DEFAULT_DATASETS
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    base = REPO_ROOT if path.resolve().is_relative_to(REPO_ROOT) else path.resolve().parent
    sections: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        entries = config.get(section, [])
        sections[section] = [
            {**e, **{k: _resolve(e[k], base) for k in _PATH_KEYS if k in e}} for e in entries
        ]
    return sections, path


# ----------------------------------------------------------------------------------------------- speech


def read_manifest(manifest: Path) -> list[dict[str, Any]]:
    """A JSONL speech manifest: one ``{"audio": path, "text": reference}`` per line (audio paths relative to
    the manifest file), optionally with ``"language"``."""
    rows = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("audio"), str) or "text" not in row:
            raise ValueError(f"{manifest.name}, line {number}: needs 'audio' and 'text'.")
        row["audio_path"] = _resolve(row["audio"], manifest.resolve().parent)
        rows.append(row)
    return rows


def speech_scores(manifest: Path, settings: Settings, *, language: str | None = None) -> dict[str, Any]:
    """WER, CER and speed of kai's transcription on every file of ``manifest``.

    Each file goes through the minutes pipeline (``transcribe_recording``, as a meeting upload does, without
    diarization) in the manifest's language (a row's ``language``, else ``language``, else Danish). Model
    loading is timed apart; the real-time factor is transcription seconds / audio seconds (< 1: faster than
    real time)."""
    from models.registry import load_whisper
    from services.minutes.pipeline.meeting import transcribe_recording
    from services.minutes.pipeline.transcribe import TranscriptionOptions

    rows = read_manifest(manifest)
    started = time.perf_counter()
    model = load_whisper(settings)
    load_seconds = time.perf_counter() - started
    files, refs, hyps = [], [], []
    for row in rows:
        lang = row.get("language") or language or "da"
        started = time.perf_counter()
        transcript = transcribe_recording(
            row["audio_path"],
            model,
            TranscriptionOptions(language=lang, beam_size=settings.beam_size),
            chunk_seconds=settings.chunk_seconds,
        )
        seconds = time.perf_counter() - started
        refs.append(row["text"])
        hyps.append(transcript.text)
        files.append(
            {
                "audio": row["audio"],
                "language": lang,
                "reference": row["text"],
                "hypothesis": transcript.text,
                **speech_error_rates([row["text"]], [transcript.text], lang),
                "audio_seconds": round(transcript.duration, 2),
                "seconds": round(seconds, 3),
            }
        )
    # corpus figures per language (the normaliser differs), then pooled by reference length via jiwer
    langs = {f["language"] for f in files}
    pooled = (
        speech_error_rates(refs, hyps, langs.pop())
        if len(langs) == 1
        else _pooled_rates(refs, hyps, [f["language"] for f in files])
    )
    audio_seconds = sum(f["audio_seconds"] for f in files)
    transcribe_seconds = sum(f["seconds"] for f in files)
    return {
        "n": len(files),
        **pooled,
        "audio_seconds": round(audio_seconds, 2),
        "transcribe_seconds": round(transcribe_seconds, 3),
        "real_time_factor": round(transcribe_seconds / audio_seconds, 4) if audio_seconds else 0.0,
        "model_load_seconds": round(load_seconds, 3),
        "files": files,
    }


def _pooled_rates(refs: Sequence[str], hyps: Sequence[str], langs: Sequence[str]) -> dict[str, float]:
    """Corpus WER/CER over mixed languages: each pair normalised in its own language first."""
    from evaluation.metrics import normalise_transcript

    norm_refs = [normalise_transcript(r, lang) for r, lang in zip(refs, langs, strict=True)]
    norm_hyps = [normalise_transcript(h, lang) for h, lang in zip(hyps, langs, strict=True)]
    # already normalised: a second pass with a language that folds no numbers changes nothing
    return speech_error_rates(norm_refs, norm_hyps, language="und")


# ------------------------------------------------------------------------------------------- sections


def _checksums(paths: Iterable[Path]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in paths:
        # labelled as datasets.toml writes paths (from the repository root), the same in every checkout
        out[_label(path)] = sha256_file(path)
    return out


def _label(path: Path) -> str:
    return os.path.relpath(path, REPO_ROOT)


def _run_speech(settings: Settings, entry: Mapping[str, Any]) -> SectionResult:
    from models.registry import whisper_model_name

    manifest: Path = entry["manifest"]
    result = _section("speech", entry)
    audio = [row["audio_path"] for row in read_manifest(manifest)]
    missing = [p for p in audio if not p.is_file()]
    if missing:
        return _skipped(result, f"lydfil mangler: {missing[0]}")
    scores = speech_scores(manifest, settings, language=entry.get("language"))
    result.details = {"files": scores.pop("files")}
    result.metrics = scores
    result.models = {
        "whisper": whisper_model_name(settings),
        "device": settings.device,
        "beam_size": str(settings.beam_size),
    }
    result.data = _checksums([manifest, *audio])
    return result


def _run_retrieval(settings: Settings, db: Database, entry: Mapping[str, Any]) -> SectionResult:
    from models.registry import load_embedder, load_reranker
    from services.chatbot import service as chatbot
    from services.common.auth import LOCAL_OPERATOR

    result = _section("retrieval", entry)
    chatbot.ensure_shipped_collections(db, settings)
    result.metrics = chatbot.evaluate(db, settings, entry["questions"], LOCAL_OPERATOR)
    reranker = load_reranker(settings)
    result.models = {
        "embedder": load_embedder(settings).name,
        "reranker": reranker.name if reranker else "none",
        "abstain_threshold": str(settings.chat_abstain_threshold or "per samling, krydsvalideret"),
    }
    result.data = _checksums([entry["questions"]])
    return result


def split_mail_jsonl(data: Path, test_share: float, out_dir: Path) -> tuple[Path, Path]:
    """A fixed train/test split of a JSONL mail file, stratified by queue: within each queue the mails are
    ordered by the sha256 of their line and the first ``test_share`` of them are test mails. The same file
    always splits the same way (no random state), and every queue keeps mails on both sides."""
    by_queue: dict[str, list[str]] = {}
    for line in data.read_text(encoding="utf-8").splitlines():
        if line.strip():
            by_queue.setdefault(str(json.loads(line).get("queue")), []).append(line)
    train, test = [], []
    for lines in by_queue.values():
        ordered = sorted(lines, key=lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest())
        cut = min(len(ordered) - 1, round(len(ordered) * test_share))
        test += ordered[:cut]
        train += ordered[cut:]
    train_path, test_path = out_dir / "train.jsonl", out_dir / "test.jsonl"
    train_path.write_text("\n".join(train) + "\n", encoding="utf-8")
    test_path.write_text("\n".join(test) + "\n", encoding="utf-8")
    return train_path, test_path


def _run_routing(settings: Settings, entry: Mapping[str, Any]) -> SectionResult:
    import sklearn

    from services.mailsort import service as mailsort

    result = _section("routing", entry)
    with tempfile.TemporaryDirectory(prefix="kai-scorecard-") as tmp:
        if "train" in entry and "test" in entry:
            train, test = entry["train"], entry["test"]
            sources = [train, test]
            split = "train/test as configured"
        else:
            share = float(entry.get("test_share", 0.25))
            train, test = split_mail_jsonl(entry["data"], share, Path(tmp))
            sources = [entry["data"]]
            split = f"fixed stratified split of one file: {share:.0%} test (by sha256 of each line)"
        result.metrics = mailsort.evaluate(settings, train, test)
        train_n = sum(1 for line in Path(train).read_text(encoding="utf-8").splitlines() if line.strip())
    result.models = {
        # the scorecard scores the method, not the router in production: it trains a fresh one
        "mail_router": f"trained fresh by the scorecard on the configured train data ({train_n} mails)",
        "target_precision": str(settings.mail_target_precision),
        "scikit_learn": sklearn.__version__,
    }
    result.details = {"split": split}
    result.data = _checksums(sources)
    return result


def _section(section: str, entry: Mapping[str, Any]) -> SectionResult:
    return SectionResult(
        section=section,
        dataset=str(entry.get("name", section)),
        verified=bool(entry.get("verified", True)),
        note=str(entry.get("note", "")),
    )


def _skipped(result: SectionResult, reason: str) -> SectionResult:
    result.status = "skipped"
    result.note = "; ".join(n for n in (result.note, reason) if n)
    return result


def _required_files(section: str, entry: Mapping[str, Any]) -> list[Path]:
    keys = {"speech": ("manifest",), "retrieval": ("questions",)}.get(section)
    if keys is None:
        keys = ("train", "test") if "train" in entry else ("data",)
    return [entry[k] for k in keys]


def run_section(settings: Settings, db: Database, section: str, entry: Mapping[str, Any]) -> SectionResult:
    """One dataset's benchmark; missing data gives a skipped section, not an error (a server may lack the
    shared data sets)."""
    missing = [p for p in _required_files(section, entry) if not Path(p).is_file()]
    if missing:
        return _skipped(_section(section, entry), f"datafil mangler: {missing[0]}")
    started = time.perf_counter()
    if section == "speech":
        result = _run_speech(settings, entry)
    elif section == "retrieval":
        result = _run_retrieval(settings, db, entry)
    elif section == "routing":
        result = _run_routing(settings, entry)
    else:
        raise ValueError(f"Unknown scorecard section {section!r}; choose from {', '.join(SECTIONS)}.")
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def run_scorecard(
    settings: Settings,
    db: Database,
    *,
    datasets_path: Path | None = None,
    sections: Sequence[str] = SECTIONS,
) -> Scorecard:
    """Run each chosen section's benchmark on every dataset configured for it, into one stamped scorecard."""
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"Unknown scorecard section {unknown[0]!r}; choose from {', '.join(SECTIONS)}.")
    datasets, path = load_datasets(datasets_path)
    results = [run_section(settings, db, s, entry) for s in sections for entry in datasets[s]]
    return Scorecard(
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        kai_version=kai_version(),
        machine=machine_info(settings.device),
        sections=results,
        datasets_file=_label(path),
    )


# ------------------------------------------------------------------------------------------ storage


def scorecard_dir(settings: Settings) -> Path:
    # Shared storage: the API process that shows the scorecard need not be the one that computed it.
    return settings.resolved_storage_dir / "evaluation"


def write_scorecard(scorecard: Scorecard, out_dir: Path) -> Path:
    """Write ``scorecard-<timestamp>.json`` and ``latest.json`` to ``out_dir``; returns the first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.fromisoformat(scorecard.created_at).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"scorecard-{stamp}.json"
    text = json.dumps(scorecard.to_dict(), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    partial = out_dir / "latest.json.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(out_dir / "latest.json")  # atomic: the API never reads half a file
    return path


def latest_scorecard(settings: Settings) -> dict[str, Any] | None:
    """The most recent scorecard written under the data dir (for ``GET /api/evaluation/scorecard``)."""
    path = scorecard_dir(settings) / "latest.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# -------------------------------------------------------------------------------------- presentation

_SECTION_LABELS = {"speech": "Tale (referat)", "retrieval": "Søgning (chatbot)", "routing": "Mailsortering"}
_SHOWN = {
    "speech": ("n", "wer", "cer", "audio_seconds", "real_time_factor"),
    "retrieval": ("n", "recall_at_1", "recall_at_5", "mrr", "abstain_rate_unanswerable", "false_abstain_rate",
                  "p95_ms"),
    "routing": ("n", "accuracy", "macro_f1", "auto_coverage", "auto_precision"),
}  # fmt: skip


def scorecard_rows(scorecard: Scorecard | Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(område, datasæt, mål, model) rows for a table; figures rounded for reading."""
    card = _as_scorecard(scorecard)
    rows = []
    for s in card.sections:
        label = _SECTION_LABELS.get(s.section, s.section)
        name = s.dataset if s.verified else f"{s.dataset} (ikke verificeret)"
        if s.status != "ok":
            rows.append((label, name, f"{s.status}: {s.note}", ""))
            continue
        figures = ", ".join(f"{k}={_fmt(s.metrics[k])}" for k in _SHOWN.get(s.section, ()) if k in s.metrics)
        rows.append((label, name, figures, ", ".join(f"{k}={v}" for k, v in s.models.items())))
    return rows


def scorecard_table(scorecard: Scorecard | Mapping[str, Any]) -> Any:
    """A rich Table for the CLI."""
    from rich.table import Table

    card = _as_scorecard(scorecard)
    table = Table(
        title=f"kai {card.kai_version} – scorecard {card.created_at} ({card.machine.get('host', '')})"
    )
    for column in ("Område", "Datasæt", "Mål", "Model"):
        table.add_column(column, overflow="fold")
    for row in scorecard_rows(card):
        table.add_row(*row)
    return table


def scorecard_text(scorecard: Scorecard | Mapping[str, Any]) -> str:
    """The same table as plain text (logs, tests)."""
    card = _as_scorecard(scorecard)
    lines = [f"kai {card.kai_version} – scorecard {card.created_at}"]
    lines += [" | ".join(row) for row in scorecard_rows(card)]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _as_scorecard(value: Scorecard | Mapping[str, Any]) -> Scorecard:
    return value if isinstance(value, Scorecard) else Scorecard.from_dict(value)


# ----------------------------------------------------------------------------------------- comparison


def compare_scorecards(
    old: Scorecard | Mapping[str, Any],
    new: Scorecard | Mapping[str, Any],
    *,
    tolerance: float = 0.01,
    timing_tolerance: float = 0.5,
) -> list[str]:
    """Lines naming what got worse from ``old`` to ``new``: a quality metric worse by more than ``tolerance``
    (absolute), a timing slower by more than ``timing_tolerance`` (relative, only on the same host), a
    section that ran before and does not now. Changed data or models are named too, since then a difference
    is not (only) a regression."""
    before = {s.key: s for s in _as_scorecard(old).sections}
    after_card = _as_scorecard(new)
    same_host = _as_scorecard(old).machine.get("host") == after_card.machine.get("host")
    lines: list[str] = []
    for s in after_card.sections:
        prior = before.get(s.key)
        if prior is None or prior.status != "ok":
            continue
        caveat = "" if s.verified else " (ikke verificeret reference)"
        if s.status != "ok":
            lines.append(f"{s.key}: kørte før, nu {s.status}: {s.note}")
            continue
        if prior.data != s.data:
            lines.append(f"{s.key}: data er ændret (checksum) – tallene er ikke direkte sammenlignelige")
        if prior.models != s.models:
            lines.append(f"{s.key}: model/indstillinger ændret: {prior.models} → {s.models}")
        for metric, now in s.metrics.items():
            was = prior.metrics.get(metric)
            if not isinstance(now, int | float) or not isinstance(was, int | float):
                continue
            worse = _regression(metric, float(was), float(now), tolerance, timing_tolerance, same_host)
            if worse:
                # timings say more about the machine's load than quality: named as such
                noisy = " (tid: følsom for maskinens belastning)" if metric in TIMINGS else ""
                lines.append(
                    f"{s.key}: {metric} forværret {_fmt(float(was))} → {_fmt(float(now))}{caveat}{noisy}"
                )
    return lines


def _regression(
    metric: str, was: float, now: float, tolerance: float, timing_tolerance: float, same_host: bool
) -> bool:
    if metric in HIGHER_IS_BETTER:
        return now < was - tolerance
    if metric in LOWER_IS_BETTER:
        return now > was + tolerance
    if metric in TIMINGS and same_host:
        return now > was * (1 + timing_tolerance) and now - was > 1e-3
    return False
