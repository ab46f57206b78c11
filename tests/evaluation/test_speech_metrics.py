"""Speech metrics: the Danish normaliser, WER/CER arithmetic, and kai's pipeline scored on the JFK clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.metrics import normalise_transcript, speech_error_rates
from evaluation.scorecard import read_manifest, speech_scores
from services.common.config import Settings

REPO = Path(__file__).resolve().parents[2]
SPEECH_EN = REPO / "evaluation" / "data" / "speech_en.jsonl"
MODEL_CACHE = REPO / "var" / "models"


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Tester 1, 2, 3, 4, 5, 6, 7, 8.", "tester en to tre fire fem seks syv otte"),
        ("Han er 21 år.", "han er enogtyve år"),
        ("Han er 21 år.", "han er en og tyve år"),
        ("Mødet varer 45 minutter", "mødet varer femogfyrre minutter"),
        ("Der kom 99 borgere", "der kom nioghalvfems borgere"),
        ("Hun fylder 70", "hun fylder halvfjerds"),
        ("Beløbet er 205 kr", "beløbet er to hundrede og fem kr"),
        ("1.200 ansøgninger", "et tusind to hundrede ansøgninger"),
        ("100 og 1000", "hundrede og tusind"),
        ("Kl. 3 er der 0 møder", "kl tre er der nul møder"),
        ("Ét barn", "et barn"),
        ("2,5 %", "to komma fem procent"),
        ("Tester 1,2,3,4.", "tester en, to, tre, fire"),  # a list, not decimals
    ],
)
def test_number_words_and_digits_are_equal(written: str, spoken: str) -> None:
    assert normalise_transcript(written) == normalise_transcript(spoken)


def test_numbers_that_are_not_one_number_stay_apart() -> None:
    # "fem og seks" is two numbers; only unit + og + tens makes one ("fem og tyve" = 25)
    assert normalise_transcript("fem og seks") == "5 og 6"
    assert normalise_transcript("fem og tyve") == "25"
    assert normalise_transcript("tre fire") == "3 4"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ærø og Åbenrå", "aeroe og aabenraa"),
        ("Søren Købke", "Soeren Koebke"),
        ("søren  købke", "SØREN KØBKE"),
    ],
)
def test_danish_letters_are_folded_on_both_sides(a: str, b: str) -> None:
    assert normalise_transcript(a) == normalise_transcript(b)


def test_punctuation_case_and_whitespace() -> None:
    assert normalise_transcript("  Hej, Mette!  Hvad så?\n(Ja.) ") == "hej mette hvad saa ja"
    assert normalise_transcript("sagsbehandler-møde") == "sagsbehandler moede"


def test_english_keeps_its_words() -> None:
    # Danish number words are only folded for Danish: "to"/"fire" are English words too
    assert normalise_transcript("Ask not, to fire!", language="en") == "ask not to fire"


def test_wer_and_cer_on_hand_computed_pairs() -> None:
    # one substitution (b→x) and one deletion (d) in four words: WER 2/4
    assert speech_error_rates(["a b c d"], ["a x c"]) == {"wer": 0.5, "cer": pytest.approx(3 / 7, abs=1e-4)}
    # identical after normalisation: no errors
    assert speech_error_rates(["Tester en, to, tre."], ["tester 1 2 3"]) == {"wer": 0.0, "cer": 0.0}
    # corpus WER sums errors over pairs: (1 + 0) / (2 + 3) words
    assert speech_error_rates(["hej med", "god dag igen"], ["hej mig", "god dag igen"])["wer"] == 0.2
    # one insertion against a one-word reference: WER 1.0, and it can exceed 1
    assert speech_error_rates(["ja"], ["ja ja"])["wer"] == 1.0
    assert speech_error_rates(["ja"], ["nej nej nej"])["wer"] == 3.0


def test_empty_references_are_skipped() -> None:
    assert speech_error_rates(["...", "hej"], ["noget", "hej"]) == {"wer": 0.0, "cer": 0.0}
    assert speech_error_rates([], []) == {"wer": 0.0, "cer": 0.0}


def test_manifest_audio_is_relative_to_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "sub" / "m.jsonl"
    manifest.parent.mkdir()
    manifest.write_text('{"audio": "../a.wav", "text": "hej"}\n\n', encoding="utf-8")
    rows = read_manifest(manifest)
    assert [r["audio_path"] for r in rows] == [(tmp_path / "a.wav").resolve()]


@pytest.mark.slow
def test_speech_scores_on_the_jfk_clip(tmp_path: Path) -> None:
    if not read_manifest(SPEECH_EN)[0]["audio_path"].is_file():
        pytest.skip("shared JFK clip not present")
    settings = Settings(data_dir=tmp_path / "var", model_cache_dir=MODEL_CACHE)
    scores = speech_scores(SPEECH_EN, settings)
    assert scores["n"] == 1
    assert scores["wer"] <= 0.10
    assert scores["cer"] <= 0.10
    assert 10 < scores["audio_seconds"] < 12
    assert scores["real_time_factor"] > 0
    assert scores["files"][0]["language"] == "en"
    assert "country" in scores["files"][0]["hypothesis"].lower()
