"""The routing model: which queue a parsed mail belongs to, how sure the model is, and why.

Features (one sklearn Pipeline): word 1–2-gram and character 3–5-gram TF-IDF of subject + the sender's new
text, word TF-IDF of quoted text at low weight, and the ``to`` mailbox as a token; signatures are left out
(names and phone numbers say nothing about the queue). Text is folded (lower case, æ/ø/å → ae/oe/aa, digits
→ 0) so mails typed without Danish letters meet the same features. A linear SVM scores the queues; its scores
become probabilities by a softmax with a temperature fitted on out-of-fold scores, so a confidence of 0.9
means about 9 in 10 right (calibration error ≈ 0.03 on dev).

Automatic routing: per queue, the lowest confidence at which the cross-validated (out-of-fold) predictions for
that queue are still at least ``target_precision`` right. A queue that never gets there gets ``NEVER_AUTO``
(> 1): its mails always go to a person.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from evaluation.metrics import auto_routing_scores, classification_scores, expected_calibration_error
from evaluation.metrics import per_class_scores as _per_class
from services.common.errors import ConfigurationError, InvalidInput
from services.mailsort.types import LabelledMail, ParsedMail

FORMAT = 1  # bump when TrainedRouter's fields change incompatibly
NEVER_AUTO = 1.01  # a threshold above any probability: the queue is always routed by a person
MIN_PER_QUEUE = 2  # stratified CV needs two mails of a queue to hold one out
MIN_SUPPORT = 5  # a queue's threshold must rest on at least this many out-of-fold auto-routed mails
TOP_TERMS = 6
EXPLAIN_FEATURES = 80  # strongest features considered for an explanation
C = 1.0  # the SVM's regularisation; 0.3–3 score alike in CV on dev

# The mail as the model's input: one row per mail, these columns.
COLUMNS = ("main", "quoted", "to", "sender")
_COL = {name: i for i, name in enumerate(COLUMNS)}
_WORD = re.compile(r"[^\W\d_]{2,}")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_DIGITS = re.compile(r"\d")
# Function words are left out of explanations (not of the features): "og" or "my" explains nothing to a clerk.
_STOP_WORDS = """
og i jeg det at en den til er som paa de med han af for ikke der var mig sig men et har om vi min havde ham
hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev kunne ind naar
vaere dog noget ville jo deres efter ned skulle denne end dette mit ogsaa under have dig hende mine alt meget
sit sine mod disse hvis din nogle hos blive mange bliver hendes vaeret jer kan ved faar faaet hej mvh tak
venlig hilsen kaere the a an and or of to in on for is are was were be been my me we our you your it this
that with at by from as have has had not but so if can do please hello hi dear thanks
"""
_EXPLAIN_STOP = frozenset(_STOP_WORDS.split())


# ------------------------------------------------------------------------------------------------- features


def fold(text: str) -> str:
    """Lower case without Danish letters and with every digit 0: "Tømning 2024" → "toemning 0000"."""
    return _DIGITS.sub("0", text.lower().translate(_FOLD))


def mailbox_tokens(to: str) -> list[str]:
    """The addresses in a ``to`` header ("IT <it@kommune.dk>, post@…"), lower case."""
    return [a.lower() for a in _ADDRESS.findall(to)]


def sender_domains(sender: str) -> list[str]:
    """The sender's mail domain and its parents ("a@skole.kommune.dk" → skole.kommune.dk, kommune.dk): staff,
    schools and suppliers write from their own domains, citizens from public ones."""
    found = _ADDRESS.findall(sender)
    if not found:
        return []
    parts = found[0].lower().rsplit("@", 1)[1].split(".")
    return [".".join(parts[k:]) for k in range(len(parts) - 1)]


def mail_rows(mails: Sequence[ParsedMail]) -> np.ndarray:
    """The model's input: (n, 4) strings. Subject and new text together are what weighs most."""
    rows = np.empty((len(mails), len(COLUMNS)), dtype=object)
    for i, m in enumerate(mails):
        rows[i] = (f"{m.subject}\n{m.new_text}", m.quoted_text, m.to, m.sender)
    return rows


def build_pipeline(*, seed: int = 0) -> Pipeline:
    """The features and the classifier, unfitted."""
    words = TfidfVectorizer(
        preprocessor=fold,
        token_pattern=r"(?u)\b[^\W\d_]{2,}\b",
        ngram_range=(1, 2),
        sublinear_tf=True,
        max_features=200_000,
    )
    # char_wb n-grams: parts of Danish compounds ("skraldespand" ~ "spand") and typos still match
    chars = TfidfVectorizer(
        preprocessor=fold, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, max_features=300_000
    )
    quoted = TfidfVectorizer(preprocessor=fold, token_pattern=r"(?u)\b[^\W\d_]{2,}\b", sublinear_tf=True)
    features = ColumnTransformer(
        [
            ("words", words, _COL["main"]),
            ("chars", chars, _COL["main"]),
            ("quoted", OptionalText(quoted), _COL["quoted"]),
            ("to", OptionalText(CountVectorizer(analyzer=mailbox_tokens, binary=True)), _COL["to"]),
            ("sender", OptionalText(CountVectorizer(analyzer=sender_domains, binary=True)), _COL["sender"]),
        ],
        transformer_weights={
            "words": 1.0,
            "chars": 1.0,
            # earlier mails in the thread hint at the topic, but the sender's new words decide
            "quoted": 0.3,
            # the mailbox helps, but about a third of mail goes to post@ and it@ serves two queues
            "to": 0.5,
            "sender": 0.5,
        },
        sparse_threshold=1.0,
    )
    return Pipeline([("features", features), ("classifier", ScaledLinear(C=C, random_state=seed))])


class OptionalText(TransformerMixin, BaseEstimator):
    """A vectorizer for a field that may be empty in every training mail (tickets have no ``to``; a CV fold
    may hold no quoted text): then it gives one column of zeros instead of sklearn's error (ColumnTransformer
    refuses a part without columns)."""

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer

    def fit(self, X: Any, y: Any = None) -> OptionalText:
        try:
            self.vectorizer_: Any = clone(self.vectorizer).fit(X)
        except ValueError as exc:
            if "empty vocabulary" not in str(exc):
                raise
            self.vectorizer_ = None
        return self

    def transform(self, X: Any) -> csr_matrix:
        if self.vectorizer_ is None:
            return csr_matrix((len(X), 1))
        return self.vectorizer_.transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        if self.vectorizer_ is None:
            return np.array(["(tom)"], dtype=object)
        return self.vectorizer_.get_feature_names_out()


class ScaledLinear(ClassifierMixin, BaseEstimator):
    """A linear SVM (one-vs-rest) whose scores become probabilities as softmax(scores / temperature). The
    temperature is set after fitting, from out-of-fold scores (``fit_temperature``). On dev mail this is as
    accurate as logistic regression, as well calibrated after scaling, and about 6× faster to train."""

    def __init__(self, C: float = C, temperature: float = 1.0, random_state: int = 0) -> None:
        self.C = C
        self.temperature = temperature
        self.random_state = random_state

    def fit(self, X: Any, y: Sequence[str]) -> ScaledLinear:
        # balanced weights: retraining data with many corrections to one queue should not tilt the rest
        self.model_ = LinearSVC(
            C=self.C, class_weight="balanced", max_iter=5000, random_state=self.random_state
        ).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def class_coefs(self) -> np.ndarray:
        """(n_classes, n_features): each class's weights (the binary case written as two classes)."""
        coef = self.model_.coef_
        return np.vstack([-coef / 2, coef / 2]) if len(self.classes_) == 2 else coef

    def scores(self, X: Any) -> np.ndarray:
        """(n, n_classes) scores, larger is likelier."""
        d = self.model_.decision_function(X)
        return np.column_stack([-d / 2, d / 2]) if len(self.classes_) == 2 else d

    def decision_function(self, X: Any) -> np.ndarray:
        return self.scores(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return softmax(self.scores(X) / self.temperature)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.scores(X), axis=1)]


def softmax(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, truth_index: np.ndarray) -> float:
    """The temperature that minimises the log loss of softmax(scores / T) on held-out scores."""

    def nll(log_t: float) -> float:
        p = softmax(scores / math.exp(log_t))
        return float(-np.mean(np.log(p[np.arange(len(truth_index)), truth_index] + 1e-12)))

    # bounded: on out-of-fold scores that separate every queue perfectly, T → 0 (certainty) would win
    result = minimize_scalar(nll, bounds=(math.log(0.05), math.log(50.0)), method="bounded")
    return round(math.exp(float(result.x)), 4)


# ------------------------------------------------------------------------------------------------ thresholds


def choose_thresholds(
    truth: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    queues: Sequence[str],
    *,
    target_precision: float,
    min_support: int = MIN_SUPPORT,
    prior_errors: float = 0.0,
) -> dict[str, float]:
    """Per queue, the lowest confidence t such that the mails predicted for that queue with confidence ≥ t
    are at least ``target_precision`` right and number at least ``min_support``; ``NEVER_AUTO`` if none.
    The lowest such t gives the most automatic routing; tied confidences are all in or all out.
    ``prior_errors`` > 0 counts that many imagined mistakes in (right / (n + prior_errors)): a safety margin
    for small samples. The default 0 gave ≈ 0.95 held-out precision on dev; 0.5 gave ≈ 0.98 at less
    coverage."""
    thresholds: dict[str, float] = {}
    for queue in queues:
        hits = sorted(
            ((c, t == p) for t, p, c in zip(truth, predicted, confidence, strict=True) if p == queue),
            key=lambda x: -x[0],
        )
        best = NEVER_AUTO
        right = 0
        for rank, (conf, ok) in enumerate(hits, start=1):
            right += ok
            if rank < len(hits) and hits[rank][0] == conf:
                continue  # the next one has the same confidence: a threshold cannot split them
            if rank >= min_support and right / (rank + prior_errors) >= target_precision:
                best = float(conf)
        thresholds[queue] = best
    return thresholds


def _auto(predicted: Sequence[str], confidence: Sequence[float], thresholds: dict[str, float]) -> list[bool]:
    return [c >= thresholds.get(p, NEVER_AUTO) for p, c in zip(predicted, confidence, strict=True)]


# ------------------------------------------------------------------------------------------------- decisions


@dataclass
class RouteDecision:
    queue: str  # the most likely queue, also when the mail goes to a person
    confidence: float  # calibrated probability of ``queue``
    auto: bool  # confidence reached the queue's threshold: route without a person
    threshold: float
    top3: list[tuple[str, float]]
    explanation: list[str]  # the mail's words that pulled most towards ``queue``, strongest first


@dataclass
class Comparison:
    """A candidate model against the current one on the same held-out mails."""

    candidate: TrainedRouter
    promote: bool
    reason: str  # Danish, shown to the person who retrains
    candidate_metrics: dict[str, Any]
    current_metrics: dict[str, Any]
    holdout: int  # mails scored
    left_out_seen: int  # held-out mails one of the models was trained on, left out of the scoring


@dataclass
class TrainedRouter:
    pipeline: Pipeline
    queues: list[str]
    thresholds: dict[str, float]
    metrics: dict[str, Any]  # cross-validated figures (JSON-able; see ``train_router``)
    created_at: str  # ISO 8601, UTC
    trained_on: int  # training mails
    version: str
    target_precision: float
    fingerprints: frozenset[str] = field(default_factory=frozenset)  # of the training mails, see ``compare``
    sklearn_version: str = sklearn.__version__
    format: int = FORMAT

    # --- routing

    def route(self, mail: ParsedMail) -> RouteDecision:
        return self.route_many([mail])[0]

    def route_many(self, mails: Sequence[ParsedMail], *, explain: bool = True) -> list[RouteDecision]:
        """One vectorisation and one matrix product for the whole batch."""
        if not mails:
            return []
        rows = mail_rows(mails)
        X = csr_matrix(self.pipeline[:-1].transform(rows))
        clf: ScaledLinear = self.pipeline[-1]
        proba = clf.predict_proba(X)
        best = np.argmax(proba, axis=1)
        top = np.argsort(-proba, axis=1)[:, :3]
        coefs = clf.class_coefs() if explain else None
        decisions = []
        for i, k in enumerate(best):
            queue = str(clf.classes_[k])
            confidence = float(proba[i, k])
            threshold = self.thresholds.get(queue, NEVER_AUTO)
            decisions.append(
                RouteDecision(
                    queue=queue,
                    confidence=confidence,
                    auto=confidence >= threshold,
                    threshold=threshold,
                    top3=[(str(clf.classes_[j]), round(float(proba[i, j]), 4)) for j in top[i]],
                    explanation=self._explain(X, i, coefs[k], rows[i]) if coefs is not None else [],
                )
            )
        return decisions

    def _explain(self, X: csr_matrix, i: int, coef: np.ndarray, row: np.ndarray) -> list[str]:
        """The mail's terms with the largest feature value × the queue's weight. Character n-grams are
        credited to the words of the mail that contain them, so the reader sees words, not fragments."""
        start, end = X.indptr[i], X.indptr[i + 1]
        idx = X.indices[start:end]
        contrib = X.data[start:end] * coef[idx]
        keep = np.argsort(-contrib)[:EXPLAIN_FEATURES]  # the strongest pulls decide the ranking anyway
        names = self._feature_names()
        spelling: dict[str, str] = {}  # folded word → its first spelling in the mail
        for w in _WORD.findall(f"{row[_COL['main']]}\n{row[_COL['quoted']]}"):
            spelling.setdefault(fold(w), w.lower())
        owners: dict[str, list[str]] = {}  # char_wb gram → the mail's words that contain it
        for f in spelling:
            if f in _EXPLAIN_STOP:
                continue
            padded = f" {f} "  # char_wb pads each word with a space on both sides
            for n in (3, 4, 5):
                for s in {padded[k : k + n] for k in range(len(padded) - n + 1)}:
                    owners.setdefault(s, []).append(f)
        credit: dict[str, float] = {}
        for j, c in zip(idx[keep], contrib[keep], strict=True):
            if c <= 0:
                break
            kind, term = names[j]
            if kind == "chars":
                words = owners.get(term, [])
                for f in words:
                    credit[spelling[f]] = credit.get(spelling[f], 0.0) + c / len(words)
            elif kind in ("to", "sender"):
                shown = f"til: {term}" if kind == "to" else f"fra: {term}"
                credit[shown] = credit.get(shown, 0.0) + c
            elif all(t in _EXPLAIN_STOP for t in term.split()):
                continue
            else:  # words and quoted words: show the mail's own spelling
                shown = " ".join(spelling.get(t, t) for t in term.split())
                credit[shown] = credit.get(shown, 0.0) + c
        ranked = sorted(credit.items(), key=lambda tc: -tc[1])
        return [t for t, _ in ranked[:TOP_TERMS]]

    def _feature_names(self) -> list[tuple[str, str]]:
        """(transformer, term) per feature column, cached on the instance (not pickled: see __getstate__)."""
        cached = self.__dict__.get("_names")
        if cached is None:
            features: ColumnTransformer = self.pipeline.named_steps["features"]
            cached = [tuple(n.split("__", 1)) for n in features.get_feature_names_out()]
            self.__dict__["_names"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_names", None)
        return state

    # --- files

    def save(self, path: Path) -> None:
        """Write atomically: a reader never sees half a model file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                joblib.dump(self, handle, compress=3)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> TrainedRouter:
        """Only load files kai wrote itself: joblib files are pickles and can run code."""
        path = Path(path)
        if not path.is_file():
            raise ConfigurationError(f"Modelfilen {path} findes ikke.")
        try:
            router = joblib.load(path)
        except Exception as exc:
            raise ConfigurationError(f"Modelfilen {path.name} kan ikke læses: {exc}") from exc
        if not isinstance(router, cls) or getattr(router, "format", None) != FORMAT:
            raise ConfigurationError(f"{path.name} er ikke en mailsorteringsmodel i det forventede format.")
        return router

    def summary(self) -> dict[str, Any]:
        """Everything but the pipeline, JSON-able."""
        return {
            "version": self.version,
            "created_at": self.created_at,
            "trained_on": self.trained_on,
            "queues": self.queues,
            "thresholds": self.thresholds,
            "target_precision": self.target_precision,
            "metrics": self.metrics,
        }


# -------------------------------------------------------------------------------------------------- training


def fingerprint(mail: ParsedMail) -> str:
    """Identifies a mail's routed text, so a held-out mail a model was trained on can be recognised."""
    text = fold(" ".join(f"{mail.subject} {mail.new_text}".split()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _validated(mails: Sequence[LabelledMail], folds: int, target_precision: float) -> list[LabelledMail]:
    if not 0 < target_precision <= 1:
        raise InvalidInput(f"Målpræcisionen skal ligge mellem 0 og 1 (fik {target_precision}).")
    if folds < 2:
        raise InvalidInput(f"Krydsvalidering kræver mindst 2 fold (fik {folds}).")
    labelled = [m for m in mails if m.queue]
    if not labelled:
        raise InvalidInput("Der er ingen mails med en kø at træne på.")
    counts: dict[str, int] = {}
    for m in labelled:
        counts[m.queue] = counts.get(m.queue, 0) + 1  # type: ignore[index]
    if len(counts) < 2:
        raise InvalidInput(
            f"Træning kræver mails fra mindst to køer; alle {len(labelled)} mails har køen "
            f"'{next(iter(counts))}'."
        )
    few = sorted(q for q, n in counts.items() if n < MIN_PER_QUEUE)
    if few:
        listed = ", ".join(f"'{q}' ({counts[q]})" for q in few)
        raise InvalidInput(
            f"Hver kø skal have mindst {MIN_PER_QUEUE} mails for at kunne krydsvalideres (helst 20 eller "
            f"flere). For få: {listed}."
        )
    if not any(m.mail.subject.strip() or m.mail.new_text.strip() for m in labelled):
        raise InvalidInput("Mailene har hverken emne eller tekst at lære af.")
    return labelled


def _fit(pipeline: Pipeline, rows: np.ndarray, y: np.ndarray) -> Pipeline:
    try:
        return pipeline.fit(rows, y)
    except ValueError as exc:
        if "empty vocabulary" in str(exc):
            raise InvalidInput("Mailene indeholder ingen ord at lære af.") from exc
        raise


def _cross_validated_scores(
    template: Pipeline, rows: np.ndarray, y: np.ndarray, classes: np.ndarray, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold logits (n, n_classes) in the order of ``classes``, and each mail's fold number."""
    scores = np.zeros((len(y), len(classes)))
    fold_of = np.zeros(len(y), dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for f, (train, test) in enumerate(splitter.split(rows, y)):
        model = _fit(clone(template), rows[train], y[train])
        clf: ScaledLinear = model[-1]
        fold_scores = clf.scores(model[:-1].transform(rows[test]))
        # every queue is in every training part (stratified, ≥ 2 per queue when folds ≤ the smallest queue)
        columns = np.searchsorted(classes, clf.classes_)
        scores[np.ix_(test, columns)] = fold_scores
        fold_of[test] = f
    return scores, fold_of


def train_router(
    mails: Sequence[LabelledMail], *, target_precision: float = 0.95, folds: int = 5, seed: int = 0
) -> TrainedRouter:
    """Cross-validate, calibrate, choose per-queue thresholds, then fit on all mails.

    ``metrics`` holds the cross-validated figures: ``n``, ``folds``, ``accuracy``, ``macro_f1``,
    ``auto_coverage``/``auto_precision`` (thresholds applied to the same out-of-fold predictions they were
    chosen on: precision ≥ target by construction), ``auto_coverage_nested``/``auto_precision_nested``
    (each fold's thresholds chosen on the other folds: the honest estimate), ``temperature``, ``ece_raw`` and
    ``ece`` (calibration error before/after scaling), ``skipped_unlabelled`` and ``per_queue``.
    """
    labelled = _validated(mails, folds, target_precision)
    rows = mail_rows([m.mail for m in labelled])
    y = np.array([m.queue for m in labelled], dtype=object)
    classes = np.array(sorted(set(y)), dtype=object)
    folds = min(folds, min(int((y == q).sum()) for q in classes))  # small queues: fewer folds
    template = build_pipeline(seed=seed)

    scores, fold_of = _cross_validated_scores(template, rows, y, classes, folds, seed)
    truth_index = np.searchsorted(classes, y)
    temperature = fit_temperature(scores, truth_index)
    proba = softmax(scores / temperature)
    predicted = [str(q) for q in classes[np.argmax(proba, axis=1)]]
    confidence = [float(c) for c in proba.max(axis=1)]
    truth = [str(q) for q in y]
    queues = [str(q) for q in classes]
    thresholds = choose_thresholds(truth, predicted, confidence, queues, target_precision=target_precision)

    metrics = _cv_metrics(truth, predicted, confidence, fold_of, thresholds, queues, target_precision)
    metrics.update(
        folds=folds,
        temperature=temperature,
        ece_raw=expected_calibration_error(
            [t == p for t, p in zip(truth, predicted, strict=True)], list(softmax(scores).max(axis=1))
        ),
        skipped_unlabelled=len(mails) - len(labelled),
    )

    pipeline = _fit(template, rows, y)
    pipeline.named_steps["classifier"].temperature = temperature
    created = datetime.now(UTC)
    digest = hashlib.sha1("\n".join(sorted(fingerprint(m.mail) + str(m.queue) for m in labelled)).encode())
    return TrainedRouter(
        pipeline=pipeline,
        queues=queues,
        thresholds=thresholds,
        metrics=metrics,
        created_at=created.isoformat(timespec="seconds"),
        trained_on=len(labelled),
        version=f"{created:%Y%m%dT%H%M%S}-{digest.hexdigest()[:8]}",
        target_precision=target_precision,
        fingerprints=frozenset(fingerprint(m.mail) for m in labelled),
    )


def _cv_metrics(
    truth: list[str],
    predicted: list[str],
    confidence: list[float],
    fold_of: np.ndarray,
    thresholds: dict[str, float],
    queues: list[str],
    target_precision: float,
) -> dict[str, Any]:
    auto = _auto(predicted, confidence, thresholds)
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    # nested: each fold routed with thresholds chosen on the other folds' out-of-fold predictions
    nested_auto = [False] * len(truth)
    for f in np.unique(fold_of):
        others = np.flatnonzero(fold_of != f)
        fold_thresholds = choose_thresholds(
            [truth[i] for i in others],
            [predicted[i] for i in others],
            [confidence[i] for i in others],
            queues,
            target_precision=target_precision,
        )
        for i in np.flatnonzero(fold_of == f):
            nested_auto[i] = confidence[i] >= fold_thresholds[predicted[i]]
    nested = auto_routing_scores(truth, predicted, nested_auto)
    per_class = _per_class(truth, predicted)
    per_queue = {}
    for q in queues:
        mine = [i for i, p in enumerate(predicted) if p == q]
        routed = auto_routing_scores([truth[i] for i in mine], [q] * len(mine), [auto[i] for i in mine])
        per_queue[q] = {
            **per_class.get(q, {}),
            "threshold": thresholds[q],
            "auto_routed": routed["auto_count"],
            "auto_precision": routed["auto_precision"],
        }
    return {
        "n": len(truth),
        **classification_scores(truth, [_Decided(p, a) for p, a in zip(predicted, auto, strict=True)]),
        "auto_coverage_nested": nested["auto_coverage"],
        "auto_precision_nested": nested["auto_precision"],
        "target_precision": target_precision,
        "ece": expected_calibration_error(correct, confidence),
        "per_queue": per_queue,
    }


@dataclass
class _Decided:
    queue: str
    auto: bool


# -------------------------------------------------------------------------------------------------- compare


def evaluate_router(router: TrainedRouter, mails: Sequence[LabelledMail]) -> dict[str, Any]:
    """Accuracy, macro-F1, auto coverage and precision of ``router`` on labelled mails, and per queue."""
    decisions = router.route_many([m.mail for m in mails], explain=False)
    truth = [str(m.queue) for m in mails]
    return {
        "n": len(mails),
        **classification_scores(truth, decisions),
        "per_queue": _per_class(truth, [d.queue for d in decisions]),
    }


def compare(
    candidate: TrainedRouter,
    current: TrainedRouter | None,
    holdout: Sequence[LabelledMail],
    *,
    tolerance: float = 0.01,
    min_holdout: int = 20,
) -> Comparison:
    """Promote the candidate only if it is not worse than the current model on the same held-out mails:
    macro-F1 at most ``tolerance`` lower, and auto precision at least the candidate's target (or, when the
    current model misses the target on these mails too, not below the current model's).

    Held-out mails that either model was trained on are left out: a model scored on its own training mails
    looks better than it is, and the current model was usually trained on the same base data.
    """
    unseen = [
        m
        for m in holdout
        if m.queue
        and fingerprint(m.mail) not in candidate.fingerprints
        and (current is None or fingerprint(m.mail) not in current.fingerprints)
    ]
    seen = sum(1 for m in holdout if m.queue) - len(unseen)
    cand = evaluate_router(candidate, unseen) if unseen else {"n": 0}
    # the current model's figures on the same mails, shown beside the candidate's even when too few to judge
    cur = evaluate_router(current, unseen) if current is not None and unseen else {}

    def verdict(promote: bool, reason: str) -> Comparison:
        return Comparison(candidate, promote, reason, cand, cur, len(unseen), seen)

    if current is None:
        return verdict(True, "Der er ingen aktiv model; kandidaten tages i brug.")
    if len(unseen) < min_holdout:
        return verdict(
            False,
            f"For få nye mails til en retfærdig sammenligning: {len(unseen)} usete mails, der skal mindst "
            f"{min_holdout} til ({seen} udeladt, fordi en af modellerne er trænet på dem).",
        )
    precision_floor = min(candidate.target_precision, cur["auto_precision"])
    f1_drop = cur["macro_f1"] - cand["macro_f1"]
    if f1_drop > tolerance:
        return verdict(
            False,
            f"Macro-F1 falder fra {cur['macro_f1']:.3f} til {cand['macro_f1']:.3f} på {len(unseen)} mails.",
        )
    if cand["auto_precision"] < precision_floor:
        return verdict(
            False,
            f"Præcisionen af den automatiske sortering er {cand['auto_precision']:.3f}, under kravet "
            f"{precision_floor:.3f}.",
        )
    return verdict(
        True,
        f"Ikke dårligere: macro-F1 {cand['macro_f1']:.3f} mod {cur['macro_f1']:.3f}, automatisk "
        f"{cand['auto_coverage']:.0%} med præcision {cand['auto_precision']:.3f} på {len(unseen)} mails.",
    )


def train_and_compare(
    mails: Sequence[LabelledMail],
    current: TrainedRouter | None,
    *,
    target_precision: float = 0.95,
    holdout_share: float = 0.25,
    seed: int = 0,
    tolerance: float = 0.01,
) -> Comparison:
    """For retraining: hold out a stratified share of the mails the current model has not seen, train the
    candidate on the rest (everything the current model saw goes to training), and ``compare``."""
    unseen_idx = [
        i
        for i, m in enumerate(mails)
        if m.queue and (current is None or fingerprint(m.mail) not in current.fingerprints)
    ]
    holdout_idx: list[int] = []
    if len(unseen_idx) >= 2:
        labels = [mails[i].queue for i in unseen_idx]
        stratify = labels if min(labels.count(q) for q in set(labels)) >= 2 else None
        size = max(1, round(holdout_share * len(unseen_idx)))
        if stratify is not None and size < len(set(labels)):
            stratify = None  # too few for one mail of every queue: a plain random split
        _, holdout_idx = train_test_split(unseen_idx, test_size=size, random_state=seed, stratify=stratify)
    held = set(holdout_idx)
    candidate = train_router(
        [m for i, m in enumerate(mails) if i not in held], target_precision=target_precision, seed=seed
    )
    return compare(candidate, current, [mails[i] for i in holdout_idx], tolerance=tolerance)
