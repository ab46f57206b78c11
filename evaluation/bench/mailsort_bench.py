"""Benchmark of mail routing: kai's router against a plain baseline, urgency flags, and speed.

1. Quality: 5-fold stratified CV on ``mail_da/dev.jsonl`` (320 Danish mails, 10 queues) and on
   ``tickets/tickets_de_dev.csv`` (1,700 German tickets, 10 other queues), the same folds for both models.
   kai = ``train_router`` on the training folds (its own inner CV chooses the thresholds), routing the test
   fold. Baseline = ``TfidfVectorizer()`` + ``LogisticRegression()`` with default settings on subject + body;
   its per-queue thresholds come from the same procedure (``choose_thresholds`` on inner out-of-fold
   probabilities). Reported: accuracy, macro-F1, held-out coverage and precision of automatic routing at
   target precision 0.95, and the largest coverage one global threshold could reach at 0.95 on the pooled
   out-of-fold predictions (an after-the-fact upper bound). Training on one file and testing on the other
   makes no sense here: different languages and different queue sets.
2. Urgency: ``is_urgent`` against the ``urgent`` flag of dev.jsonl (precision, recall).
3. Speed: ``route_many`` throughput on parsed mails (classification alone, and with explanations), and the
   time to read, parse and route a 10,000-mail mbox built from dev mails with the stdlib ``mailbox``.

Targets: kai's macro-F1 above the baseline's on both data sets; automatic routing covers ≥ 70 % of the Danish
mail at precision ≥ 0.95; ≥ 1,000 mails/s for classification. Results: a printed table and
``evaluation/results/mailsort_bench.json``.

    python -m evaluation.bench.mailsort_bench [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import mailbox
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.bench._common import DATA, REPO_ROOT, RESULTS_DIR
from evaluation.metrics import (
    classification_scores,
    coverage_at_precision,
    expected_calibration_error,
)
from services.common.stamps import machine_info
from services.mailsort.model import TrainedRouter, choose_thresholds, train_router
from services.mailsort.readers import read_labelled
from services.mailsort.types import LabelledMail, ParsedMail

MAIL_DA = DATA / "mail_da" / "dev.jsonl"
TICKETS_DE = DATA / "tickets" / "tickets_de_dev.csv"
TARGET_PRECISION = 0.95
COVERAGE_TARGET = 0.70
THROUGHPUT_TARGET = 1000.0
MBOX_MAILS = 10_000


# ------------------------------------------------------------------------------------------------ data


@dataclass
class DevMail:
    """A dev.jsonl mail as kai reads it, with the flags the file carries besides the queue."""

    labelled: LabelledMail
    urgent: bool
    ambiguous: bool
    contains_cpr: bool
    language: str
    body: str  # as in the file, for building an mbox


def load_dev_mails(path: Path = MAIL_DA) -> list[DevMail]:
    """dev.jsonl through kai's reader, joined by id with the flags the reader does not keep."""
    with path.open(encoding="utf-8") as handle:
        rows = {r["id"]: r for r in (json.loads(line) for line in handle if line.strip())}
    return [
        DevMail(
            labelled=m,
            urgent=bool(rows[m.source_id].get("urgent")),
            ambiguous=bool(rows[m.source_id].get("ambiguous")),
            contains_cpr=bool(rows[m.source_id].get("contains_cpr")),
            language=rows[m.source_id].get("language", ""),
            body=rows[m.source_id]["body"],
        )
        for m in read_labelled(path)
    ]


def load_tickets(path: Path = TICKETS_DE) -> list[LabelledMail]:
    """The ticket CSV (subject, body, queue, …): no sender or mailbox."""
    return list(read_labelled(path))


# ------------------------------------------------------------------------------------------------ quality


def _baseline_text(mail: ParsedMail) -> str:
    """What a plain classifier gets: subject and the whole body as one text."""
    return "\n".join(p for p in (mail.subject, mail.new_text, mail.quoted_text, mail.signature) if p)


def _baseline_pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression())


@dataclass
class FoldPredictions:
    truth: list[str]
    predicted: list[str]
    confidence: list[float]
    auto: list[bool]

    def extend(self, other: FoldPredictions) -> None:
        for name in ("truth", "predicted", "confidence", "auto"):
            getattr(self, name).extend(getattr(other, name))

    def take(self, indices: Sequence[int]) -> FoldPredictions:
        return FoldPredictions(
            [self.truth[i] for i in indices],
            [self.predicted[i] for i in indices],
            [self.confidence[i] for i in indices],
            [self.auto[i] for i in indices],
        )


def _baseline_fold(train: Sequence[LabelledMail], test: Sequence[LabelledMail], seed: int) -> FoldPredictions:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x_train = [_baseline_text(m.mail) for m in train]
    y_train = np.array([m.queue for m in train])
    inner = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    oof = cross_val_predict(_baseline_pipeline(), x_train, y_train, cv=inner, method="predict_proba")
    classes = np.array(sorted(set(y_train)))
    thresholds = choose_thresholds(
        list(y_train),
        list(classes[oof.argmax(axis=1)]),
        list(oof.max(axis=1)),
        list(classes),
        target_precision=TARGET_PRECISION,
    )
    model = _baseline_pipeline().fit(x_train, y_train)
    proba = model.predict_proba([_baseline_text(m.mail) for m in test])
    predicted = [str(q) for q in model.classes_[proba.argmax(axis=1)]]
    confidence = [float(c) for c in proba.max(axis=1)]
    return FoldPredictions(
        [str(m.queue) for m in test],
        predicted,
        confidence,
        [c >= thresholds[p] for p, c in zip(predicted, confidence, strict=True)],
    )


def _kai_fold(train: Sequence[LabelledMail], test: Sequence[LabelledMail], seed: int) -> FoldPredictions:
    router = train_router(train, target_precision=TARGET_PRECISION, seed=seed)
    decisions = router.route_many([m.mail for m in test], explain=False)
    return FoldPredictions(
        [str(m.queue) for m in test],
        [d.queue for d in decisions],
        [d.confidence for d in decisions],
        [d.auto for d in decisions],
    )


@dataclass
class Decided:
    queue: str
    auto: bool


def _scores(pred: FoldPredictions) -> dict[str, Any]:
    correct = [t == p for t, p in zip(pred.truth, pred.predicted, strict=True)]
    return {
        **classification_scores(
            pred.truth, [Decided(p, a) for p, a in zip(pred.predicted, pred.auto, strict=True)]
        ),
        "oracle_coverage_at_target": coverage_at_precision(correct, pred.confidence, TARGET_PRECISION),
        "ece": expected_calibration_error(correct, pred.confidence),
    }


def cross_validate(
    mails: Sequence[LabelledMail], *, folds: int = 5, seed: int = 0
) -> tuple[dict[str, Any], dict[str, FoldPredictions]]:
    """kai and the baseline on the same outer folds: figures, and each model's predictions in mail order."""
    from sklearn.model_selection import StratifiedKFold

    y = [m.queue for m in mails]
    order: list[int] = []
    results = {name: FoldPredictions([], [], [], []) for name in ("baseline", "kai")}
    seconds = {"baseline": 0.0, "kai": 0.0}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        train = [mails[i] for i in train_idx]
        test = [mails[i] for i in test_idx]
        order.extend(int(i) for i in test_idx)
        for name, run in (("baseline", _baseline_fold), ("kai", _kai_fold)):
            started = time.perf_counter()
            results[name].extend(run(train, test, seed))
            seconds[name] += time.perf_counter() - started
    position = np.argsort(order)  # back to the order of ``mails``
    ordered = {name: pred.take(list(position)) for name, pred in results.items()}
    figures = {
        name: {**_scores(pred), "n": len(pred.truth), "train_and_route_seconds": round(seconds[name], 1)}
        for name, pred in ordered.items()
    }
    return figures, ordered


def subgroup_scores(dev: Sequence[DevMail], pred: FoldPredictions) -> dict[str, Any]:
    """Held-out figures on the ambiguous and the English mails, and on the rest."""
    groups = {
        "ambiguous": [d.ambiguous for d in dev],
        "not_ambiguous": [not d.ambiguous for d in dev],
        "english": [d.language == "en" for d in dev],
    }
    out = {}
    for name, member in groups.items():
        idx = [i for i, m in enumerate(member) if m]
        part = pred.take(idx)
        out[name] = {"n": len(idx), **{k: v for k, v in _scores(part).items() if k != "ece"}}
    return out


# ------------------------------------------------------------------------------------------------ urgency


def _flag_scores(flagged: Sequence[bool], truth: Sequence[bool]) -> dict[str, Any]:
    tp = sum(f and t for f, t in zip(flagged, truth, strict=True))
    return {
        "flagged": sum(flagged),
        "true_positives": tp,
        "precision": round(tp / sum(flagged), 4) if any(flagged) else 0.0,
        "recall": round(tp / sum(truth), 4) if any(truth) else 0.0,
    }


def urgency_scores(dev: Sequence[DevMail]) -> dict[str, Any]:
    """The rules against the ``urgent`` flag, and a small classifier (5-fold, out-of-fold) for comparison."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    from services.mailsort.urgency import is_urgent

    truth = [d.urgent for d in dev]
    rules = [bool(is_urgent(d.labelled.mail)) for d in dev]
    texts = [f"{d.labelled.mail.subject}\n{d.labelled.mail.new_text}" for d in dev]
    classifier = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
        LogisticRegression(C=10, class_weight="balanced", max_iter=2000),
    )
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    proba = cross_val_predict(classifier, texts, truth, cv=cv, method="predict_proba")[:, 1]
    learned = [bool(p >= 0.5) for p in proba]
    return {
        "urgent": sum(truth),
        "rules": {
            **_flag_scores(rules, truth),
            "missed": [d.labelled.source_id for d, f in zip(dev, rules, strict=True) if d.urgent and not f],
            "false_alarms": [
                d.labelled.source_id for d, f in zip(dev, rules, strict=True) if f and not d.urgent
            ],
        },
        "classifier_oof": _flag_scores(learned, truth),
        "rules_or_classifier": _flag_scores([r or c for r, c in zip(rules, learned, strict=True)], truth),
        "note": "cue lists written with the dev mails at hand: the rules' figures are optimistic",
    }


# ------------------------------------------------------------------------------------------------ speed


def throughput(
    router: TrainedRouter, mails: Sequence[ParsedMail], *, explain: bool, repeats: int = 3
) -> float:
    """Mails per second of ``route_many`` on already parsed mails (best of ``repeats``)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        router.route_many(mails, explain=explain)
        best = min(best, time.perf_counter() - started)
    return round(len(mails) / best, 1)


def write_mbox(dev: Sequence[DevMail], path: Path, count: int) -> None:
    """``count`` mails cycling through dev, as an mbox written with the stdlib."""
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for i in range(count):
            d = dev[i % len(dev)]
            msg = EmailMessage()
            msg["From"] = d.labelled.mail.sender or "ukendt@example.dk"
            msg["To"] = d.labelled.mail.to or "post@kommune.dk"
            msg["Subject"] = d.labelled.mail.subject
            msg["Message-ID"] = f"<bench-{i}@example.dk>"
            msg.set_content(d.body)
            box.add(msg)
        box.flush()
    finally:
        box.unlock()
        box.close()


def mbox_timing(router: TrainedRouter, dev: Sequence[DevMail], count: int) -> dict[str, Any]:
    """Read + parse (``read_labelled``) and route (``route_many`` with explanations) an mbox of ``count``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mbox"
        write_mbox(dev, path, count)
        size = path.stat().st_size
        started = time.perf_counter()
        mails = [m.mail for m in read_labelled(path)]
        parsed = time.perf_counter()
        decisions = router.route_many(mails)
        routed = time.perf_counter()
    return {
        "mails": len(mails),
        "mbox_mb": round(size / 1e6, 1),
        "reader": "services.mailsort.readers.read_labelled",
        "read_parse_seconds": round(parsed - started, 2),
        "route_seconds_with_explanations": round(routed - parsed, 2),
        "total_seconds": round(routed - started, 2),
        "mails_per_second": round(len(mails) / (routed - started), 1),
        "auto_share": round(sum(d.auto for d in decisions) / len(decisions), 4),
    }


# ------------------------------------------------------------------------------------------------ report


def _row(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:<9} acc {s['accuracy']:.3f}  macro-F1 {s['macro_f1']:.3f}  auto {s['auto_coverage']:6.1%} "
        f"@ precision {s['auto_precision']:.3f}  (one global threshold, after the fact: "
        f"{s['oracle_coverage_at_target']:.1%})  ECE {s['ece']:.3f}  {s['train_and_route_seconds']:.0f} s"
    )


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Danish mail only, 2,000-mail mbox")
    args = parser.parse_args(argv)

    dev = load_dev_mails()
    da = [d.labelled for d in dev]
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": _load_average(),
        "command": " ".join(["python -m evaluation.bench.mailsort_bench", *(argv or sys.argv[1:])]),
        "target_precision": TARGET_PRECISION,
        "baseline": "TfidfVectorizer() + LogisticRegression() defaults on subject + whole body; per-queue "
        "thresholds by the same choose_thresholds on 5-fold inner out-of-fold probabilities",
    }
    print("Mail routing – 5-fold stratified CV, the same folds for both models (auto: held-out thresholds)")
    result["mail_da"], predictions = cross_validate(da)
    result["mail_da"]["kai_subgroups"] = subgroup_scores(dev, predictions["kai"])
    result["mail_da"]["baseline_subgroups"] = subgroup_scores(dev, predictions["baseline"])
    print(f" mail_da/dev.jsonl ({len(da)} mails)")
    for name in ("baseline", "kai"):
        print(_row(name, result["mail_da"][name]))
    sub = result["mail_da"]["kai_subgroups"]
    print(
        f"  kai on ambiguous mails: acc {sub['ambiguous']['accuracy']:.3f} (n={sub['ambiguous']['n']}), "
        f"others {sub['not_ambiguous']['accuracy']:.3f}, English {sub['english']['accuracy']:.3f} "
        f"(n={sub['english']['n']})"
    )
    if not args.quick:
        tickets = load_tickets()
        result["tickets_de"], _ = cross_validate(tickets)
        print(f" tickets_de_dev.csv ({len(tickets)} tickets)")
        for name in ("baseline", "kai"):
            print(_row(name, result["tickets_de"][name]))
    result["cross_dataset"] = "not run: the Danish mail and the German tickets differ in language and queues"

    router = train_router(da, target_precision=TARGET_PRECISION)
    result["router_on_all_dev"] = {k: v for k, v in router.metrics.items()}
    result["urgency"] = urgency_scores(dev)
    u = result["urgency"]
    print(
        f" urgency (n={u['urgent']}): rules precision {u['rules']['precision']:.3f} recall "
        f"{u['rules']['recall']:.3f}; classifier (out-of-fold) precision "
        f"{u['classifier_oof']['precision']:.3f} recall {u['classifier_oof']['recall']:.3f}"
    )

    parsed = [da[i % len(da)].mail for i in range(MBOX_MAILS)]
    result["speed"] = {
        "batch": len(parsed),
        "classification_mails_per_second": throughput(router, parsed, explain=False),
        "with_explanations_mails_per_second": throughput(router, parsed, explain=True, repeats=1),
        "single_route_ms": round(_single_ms(router, parsed[:200]), 2),
        "mbox": mbox_timing(router, dev, 2000 if args.quick else MBOX_MAILS),
    }
    s = result["speed"]
    print(
        f" speed: {s['classification_mails_per_second']:.0f} mails/s classification, "
        f"{s['with_explanations_mails_per_second']:.0f} with explanations, {s['single_route_ms']:.1f} ms per "
        f"route(); mbox of {s['mbox']['mails']}: {s['mbox']['total_seconds']:.1f} s "
        f"({s['mbox']['read_parse_seconds']:.1f} s reading and parsing)"
    )
    result["load_average_end"] = _load_average()
    kai_da = result["mail_da"]["kai"]
    result["targets"] = {
        "macro_f1_above_baseline_da": kai_da["macro_f1"] > result["mail_da"]["baseline"]["macro_f1"],
        "auto_coverage_da_70_at_precision_95": kai_da["auto_coverage"] >= COVERAGE_TARGET
        and kai_da["auto_precision"] >= TARGET_PRECISION,
        "throughput_1000_per_s": s["classification_mails_per_second"] >= THROUGHPUT_TARGET,
    }
    if "tickets_de" in result:
        result["targets"]["macro_f1_above_baseline_de"] = (
            result["tickets_de"]["kai"]["macro_f1"] > result["tickets_de"]["baseline"]["macro_f1"]
        )
    print(" targets: " + ", ".join(f"{k} {'OK' if v else 'MISSED'}" for k, v in result["targets"].items()))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / ("mailsort_bench_quick.json" if args.quick else "mailsort_bench.json")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f" → {out.relative_to(REPO_ROOT)}")
    return 0


def _single_ms(router: TrainedRouter, mails: Sequence[ParsedMail]) -> float:
    """Milliseconds per ``route()`` call, one mail at a time (how the API routes)."""
    started = time.perf_counter()
    for mail in mails:
        router.route(mail)
    return (time.perf_counter() - started) * 1000 / len(mails)


if __name__ == "__main__":
    raise SystemExit(main())
