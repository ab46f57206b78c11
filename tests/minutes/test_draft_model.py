"""The draft's learned weights: the shipped file is what training on the bundled meetings gives, and
cross-validation never scores a meeting with weights that saw it."""

from __future__ import annotations

import json

import pytest

from services.minutes.pipeline.draft import shipped_models
from services.minutes.pipeline.draft import train as training
from services.minutes.pipeline.draft.build import MODEL_PATH
from services.minutes.pipeline.draft.model import DraftModels


@pytest.fixture(scope="module")
def meetings() -> list[training.LabelledMeeting]:
    return training.load_labelled(training.DATA_DIR)


def test_the_shipped_weights_are_reproduced_by_training(meetings: list[training.LabelledMeeting]) -> None:
    refitted = training.fit_models(meetings)

    assert refitted.to_json() == MODEL_PATH.read_text(encoding="utf-8")
    assert shipped_models().trained_on == tuple(m.id for m in meetings) and len(meetings) == 10


def test_weights_survive_a_round_trip_through_json() -> None:
    models = shipped_models()
    again = DraftModels.from_json(models.to_json())

    assert again == models
    assert 0.0 < models.decision.threshold < 1.0 and 0.0 < models.action.threshold < 1.0
    assert json.loads(models.to_json())["format"] == 1


def test_cross_validation_scores_each_meeting_without_it(
    meetings: list[training.LabelledMeeting], monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted_on: list[tuple[str, ...]] = []
    real_fit = training.fit_models

    def recording_fit(chosen: list[training.LabelledMeeting], settings: object = None) -> DraftModels:
        fitted_on.append(tuple(m.id for m in chosen))
        return real_fit(chosen, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "fit_models", recording_fit)
    few = meetings[:2] + meetings[5:7]  # two of each writer, to keep it quick

    drafted = training.cross_validate(few)

    assert [m.id for m, _ in drafted] == [m.id for m in few]
    assert len(fitted_on) == len(few)
    for (meeting, draft), trained in zip(drafted, fitted_on, strict=True):
        assert meeting.id not in trained and len(trained) == len(few) - 1
        assert {"sections"} == set(draft)


def test_choices_are_made_on_the_training_meetings_only(
    meetings: list[training.LabelledMeeting], monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[str] = []
    real_score = training.score_meeting

    def recording_score(gold: dict, draft: dict) -> object:
        scored.append(gold["id"])
        return real_score(gold, draft)

    monkeypatch.setattr(training, "score_meeting", recording_score)
    settings = training.TrainingSettings(c_values=(0.3,), ngram_options=(False,))

    choice = training.choose("decision", meetings[:3], settings)

    assert set(scored) == {m.id for m in meetings[:3]}
    assert choice.c == 0.3 and choice.ngrams is False and choice.threshold in training.THRESHOLDS
