"""Fitting the draft's weights on labelled meetings, and cross-validating them by whole meeting.

A labelled meeting is a file in the form of ``data/`` (see its SOURCE.md): the transcript's segments with the
agenda item each was said under, and the decisions, action items and not-decisions a minute-taker found.

- ``fit_models`` fits the decision and action classifiers (logistic regression) and the agenda alignment
  (perceptron) on the given meetings. The two decision thresholds are chosen by leave-one-meeting-out
  *inside* those meetings, so no threshold is ever fitted to a meeting it is then scored on.
- ``cross_validate`` drafts each held-out meeting with weights fitted on the other meetings of its fold.

``python -m services.minutes.pipeline.draft.train`` refits the shipped weights (``data/draft_model.json``) on
the bundled meetings; the result is the same on every run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scipy.sparse import vstack

from evaluation.minutes_scoring import MinutesCounts, score_meeting
from services.minutes.pipeline.draft.actions import action_turns
from services.minutes.pipeline.draft.agenda import (
    AlignmentFeatures,
    alignment_features,
    parse_agenda,
    train_alignment,
)
from services.minutes.pipeline.draft.build import MODEL_PATH, build_minutes_draft
from services.minutes.pipeline.draft.cues import cues
from services.minutes.pipeline.draft.decisions import decision_turns
from services.minutes.pipeline.draft.features import Features, meeting_features
from services.minutes.pipeline.draft.model import DraftModels, TurnModel, fit_turn_model, hashed_matrix
from services.minutes.pipeline.draft.source import draft_json, transcript_from_json
from services.minutes.pipeline.draft.turns import Meeting, prepare_meeting
from services.minutes.pipeline.types import Transcript

DATA_DIR = Path(__file__).resolve().parent / "data"
THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(14))  # 0.20 … 0.85


@dataclass(frozen=True)
class TrainingSettings:
    """The choices a fit makes among, by leave-one-meeting-out within its own meetings; fixed beforehand."""

    c_values: tuple[float, ...] = (0.1, 0.3, 1.0)  # inverse L2 strengths of the classifiers
    ngram_options: tuple[bool, ...] = (False, True)  # whether a classifier also sees the turn's words
    thresholds: tuple[float, ...] = THRESHOLDS
    not_decision_weight: float = 1.0  # extra weight on turns labelled as not-decisions
    alignment_epochs: int = 100


@dataclass(frozen=True)
class KindChoice:
    c: float
    ngrams: bool
    threshold: float
    f1: float  # leave-one-meeting-out F1 within the training meetings


@dataclass
class LabelledMeeting:
    id: str
    data: dict[str, Any]
    transcript: Transcript
    participants: list[str]
    meeting_date: date | None
    agenda: list[str]
    _prepared: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], name: str = "") -> LabelledMeeting:
        raw_date = data.get("date")
        return cls(
            id=str(data.get("id", name)),
            data=data,
            transcript=transcript_from_json(data),
            participants=[
                str(p["name"]) if isinstance(p, dict) else str(p) for p in data.get("participants", [])
            ],
            meeting_date=date.fromisoformat(raw_date) if raw_date else None,
            agenda=[str(a) for a in data.get("agenda", [])],
        )

    @property
    def meeting(self) -> Meeting:
        if "meeting" not in self._prepared:
            self._prepared["meeting"] = prepare_meeting(self.transcript, self.participants, self.meeting_date)
        return self._prepared["meeting"]  # type: ignore[no-any-return]

    def rows(self, ngrams: bool) -> list[Features]:
        if ngrams not in self._prepared:
            self._prepared[ngrams] = meeting_features(self.meeting, ngrams=ngrams)
        return self._prepared[ngrams]  # type: ignore[no-any-return]

    def matrix(self, ngrams: bool) -> Any:
        key = ("matrix", ngrams)
        if key not in self._prepared:
            self._prepared[key] = hashed_matrix(self.rows(ngrams))
        return self._prepared[key]

    def labels(self, kind: str) -> list[int]:
        labels = [0] * len(self.transcript.segments)
        for item in self.data.get("decisions" if kind == "decision" else "actions", []):
            labels[int(item["segment"])] = 1
        return labels

    def weights(self, not_decision_weight: float) -> list[float]:
        weights = [1.0] * len(self.transcript.segments)
        for item in self.data.get("not_decisions", []):
            weights[int(item["segment"])] = not_decision_weight
        return weights

    @property
    def alignment(self) -> tuple[AlignmentFeatures, list[int]]:
        if "alignment" not in self._prepared:
            features = alignment_features(self.meeting, parse_agenda(self.agenda))
            gold = [int(s.get("item", 0)) for s in self.data["segments"]]
            self._prepared["alignment"] = (features, gold)
        return self._prepared["alignment"]  # type: ignore[no-any-return]


def load_labelled(folder: Path) -> list[LabelledMeeting]:
    """The labelled meetings in ``folder`` (``*.json`` with segments and decisions), in name order."""
    meetings = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "segments" in data and "decisions" in data:
            meetings.append(LabelledMeeting.from_json(data, path.stem))
    return meetings


def _fit_kind(
    kind: str,
    meetings: Sequence[LabelledMeeting],
    settings: TrainingSettings,
    c: float,
    ngrams: bool,
    threshold: float,
) -> TurnModel:
    return fit_turn_model(
        kind,
        vstack([m.matrix(ngrams) for m in meetings], format="csr"),
        [y for m in meetings for y in m.labels(kind)],
        c=c,
        threshold=threshold,
        weights=[w for m in meetings for w in m.weights(settings.not_decision_weight)],
    )


def _reported(
    meeting: LabelledMeeting, kind: str, probabilities: Sequence[float], threshold: float
) -> dict[str, Any]:
    if kind == "decision":
        proposals = ["propose" in cues(t.text) for t in meeting.meeting.turns]
        decisions = [{"segment": i} for i in decision_turns(probabilities, threshold, proposals)]
        return {"sections": [{"number": -1, "decisions": decisions}]}
    actions = [
        {"segment": i, "who": None} for i, _ in action_turns(meeting.meeting, probabilities, threshold)
    ]
    return {"sections": [{"number": -1, "actions": actions}]}


def choose(kind: str, meetings: Sequence[LabelledMeeting], settings: TrainingSettings) -> KindChoice:
    """The regularisation, features and threshold with the best F1 of ``kind`` over leave-one-meeting-out
    predictions within ``meetings``; on a tie the simpler choice (no words, stronger regularisation, higher
    threshold). With fewer than three meetings: the middle regularisation, cues only, 0.5."""
    if len(meetings) < 3:
        return KindChoice(settings.c_values[len(settings.c_values) // 2], False, 0.5, 0.0)
    best: KindChoice | None = None
    for ngrams in settings.ngram_options:
        for c in settings.c_values:
            predictions = []
            for k, held_out in enumerate(meetings):
                others = [m for j, m in enumerate(meetings) if j != k]
                model = _fit_kind(kind, others, settings, c, ngrams, 0.5)
                predictions.append((held_out, model.probabilities(held_out.rows(ngrams))))
            for threshold in settings.thresholds:
                counts = MinutesCounts()
                for meeting, probabilities in predictions:
                    counts.add(
                        score_meeting(meeting.data, _reported(meeting, kind, probabilities, threshold))
                    )
                f1 = float(counts.scores()["decisions" if kind == "decision" else "actions"]["f1"])
                if best is None or f1 > best.f1:
                    best = KindChoice(c, ngrams, threshold, f1)
    assert best is not None
    return best


def fit_models(meetings: Sequence[LabelledMeeting], settings: TrainingSettings | None = None) -> DraftModels:
    """All of the draft's weights, fitted on ``meetings`` only."""
    settings = settings or TrainingSettings()
    fitted = {}
    for kind in ("decision", "action"):
        choice = choose(kind, meetings, settings)
        fitted[kind] = (
            choice,
            _fit_kind(kind, meetings, settings, choice.c, choice.ngrams, choice.threshold),
        )
    alignment = train_alignment([m.alignment for m in meetings if m.agenda], epochs=settings.alignment_epochs)
    return DraftModels(
        decision=fitted["decision"][1],
        action=fitted["action"][1],
        alignment=alignment,
        ngrams=tuple((kind, fitted[kind][0].ngrams) for kind in ("action", "decision")),
        trained_on=tuple(m.id for m in meetings),
        choices=tuple((kind, fitted[kind][0].c, fitted[kind][0].f1) for kind in ("action", "decision")),
    )


def draft_for(meeting: LabelledMeeting, models: DraftModels | None = None) -> dict[str, Any]:
    """The draft's JSON for a labelled meeting, given its agenda, participants and date."""
    draft = build_minutes_draft(
        meeting.transcript,
        title=str(meeting.data.get("title", "")),
        meeting_date=meeting.meeting_date,
        participants=meeting.participants,
        agenda=meeting.agenda or None,
        models=models,
    )
    return draft_json(draft, meeting.transcript)


def cross_validate(
    meetings: Sequence[LabelledMeeting],
    folds: Sequence[tuple[Sequence[int], Sequence[int]]] | None = None,
    settings: TrainingSettings | None = None,
) -> list[tuple[LabelledMeeting, dict[str, Any]]]:
    """(meeting, draft JSON) for every held-out meeting; ``folds`` are (train, test) index lists, by default
    leave-one-meeting-out."""
    if folds is None:
        folds = [([j for j in range(len(meetings)) if j != k], [k]) for k in range(len(meetings))]
    drafted = []
    for train, test in folds:
        models = fit_models([meetings[j] for j in train], settings)
        drafted += [(meetings[k], draft_for(meetings[k], models)) for k in test]
    return drafted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m services.minutes.pipeline.draft.train", description=__doc__
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder of labelled meetings")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where the weights are written")
    args = parser.parse_args(argv)
    meetings = load_labelled(args.data)
    if not meetings:
        raise SystemExit(f"No labelled meetings in {args.data}")
    models = fit_models(meetings)
    models.save(args.out)
    weights = len(models.decision.weights) + len(models.action.weights)
    print(
        f"{len(meetings)} meetings → {args.out} (thresholds: decision {models.decision.threshold}, "
        f"action {models.action.threshold}; {weights} weights)"
    )


if __name__ == "__main__":
    main()
