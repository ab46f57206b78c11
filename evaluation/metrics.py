"""Quality metrics shared by the services' own evaluation commands and the benchmarks.

Retrieval: a hit is a citation with the same source and § as a gold entry; a gold entry without a section (an
IT guide) matches on source alone. Recall@k is the share of a question's gold entries found in its top k,
averaged over answerable questions; abstention is scored apart from ranking.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.common.danish import TENS_WORDS, UNIT_WORDS, WORDS_BELOW_HUNDRED


@dataclass(frozen=True)
class JudgedRanking:
    ranked: Sequence[tuple[str, str]]  # (source, section) of each citation, best first
    gold: Sequence[Mapping[str, str]]  # {"source", "section"?}; empty when the corpus does not answer
    abstained: bool


def is_hit(source: str, section: str, gold: Mapping[str, str]) -> bool:
    if source != gold.get("source"):
        return False
    return not gold.get("section") or section == str(gold["section"])


def recall_at(item: JudgedRanking, k: int) -> float:
    found = sum(1 for g in item.gold if any(is_hit(s, sec, g) for s, sec in item.ranked[:k]))
    return found / len(item.gold)


def first_hit_rank(item: JudgedRanking) -> int | None:
    return next(
        (
            rank
            for rank, (s, sec) in enumerate(item.ranked, start=1)
            if any(is_hit(s, sec, g) for g in item.gold)
        ),
        None,
    )


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def retrieval_scores(items: Sequence[JudgedRanking]) -> dict[str, float]:
    """recall@1, recall@5 and MRR over answerable items; abstention on unanswerable and answerable ones."""
    answerable = [i for i in items if i.gold]
    unanswerable = [i for i in items if not i.gold]
    ranks = [first_hit_rank(i) for i in answerable]
    return {
        "recall_at_1": _mean([recall_at(i, 1) for i in answerable]),
        "recall_at_5": _mean([recall_at(i, 5) for i in answerable]),
        "mrr": _mean([1 / r if r else 0.0 for r in ranks]),
        "abstain_rate_unanswerable": _mean([1.0 if i.abstained else 0.0 for i in unanswerable]),
        "false_abstain_rate": _mean([1.0 if i.abstained else 0.0 for i in answerable]),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1): a value that was actually measured."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# ------------------------------------------------------------------------------------------ classification
# Mail routing: a decision names a queue and says whether it went there automatically (``auto``) or to a
# person. Coverage is the share routed automatically; auto precision is the share of those that were right.


class RoutingDecision(Protocol):
    queue: str
    auto: bool


def auto_routing_scores(
    truth: Sequence[str], predicted: Sequence[str], auto: Sequence[bool]
) -> dict[str, float | int]:
    """Coverage and precision of automatic routing (precision is 1.0 when nothing was routed: no mistakes)."""
    routed = [t == p for t, p, a in zip(truth, predicted, auto, strict=True) if a]
    return {
        "auto_count": len(routed),
        "auto_coverage": round(len(routed) / len(truth), 4) if truth else 0.0,
        "auto_precision": round(sum(routed) / len(routed), 4) if routed else 1.0,
    }


def classification_scores(
    truth: Sequence[str], decisions: Sequence[RoutingDecision]
) -> dict[str, float | int]:
    """Accuracy and macro-F1 of the decided queues (auto or not), plus coverage/precision of auto routing."""
    from sklearn.metrics import accuracy_score, f1_score  # lazy: the retrieval metrics need no sklearn

    predicted = [d.queue for d in decisions]
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        # labels: the union of true and predicted queues, so a queue that is never predicted counts as 0
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        **auto_routing_scores(truth, predicted, [d.auto for d in decisions]),
    }


def per_class_scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support per true or predicted label."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        label: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, label in enumerate(labels)
    }


def coverage_at_precision(correct: Sequence[bool], confidence: Sequence[float], target: float) -> float:
    """The largest share of items one global confidence threshold can pass while the passed items are still
    at least ``target`` precise (chosen after the fact: an upper bound, not a held-out figure)."""
    order = sorted(range(len(correct)), key=lambda i: -confidence[i])
    best, right = 0, 0
    for rank, i in enumerate(order, start=1):
        right += bool(correct[i])
        tie_follows = rank < len(order) and confidence[order[rank]] == confidence[i]
        if not tie_follows and right / rank >= target:
            best = rank
    return round(best / len(correct), 4) if correct else 0.0


def expected_calibration_error(correct: Sequence[bool], confidence: Sequence[float], bins: int = 10) -> float:
    """|accuracy − mean confidence| per equal-width confidence bin, weighted by the bin's share of items."""
    if not correct:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if low < c <= high or (b == 0 and c == 0.0)]
        if members:
            accuracy = sum(bool(correct[i]) for i in members) / len(members)
            mean_conf = sum(confidence[i] for i in members) / len(members)
            total += len(members) / len(correct) * abs(accuracy - mean_conf)
    return round(total, 4)


# ------------------------------------------------------------------------------------------------ speech
# WER and CER (jiwer) after a normaliser, so that the spelling of the same words does not count as an error:
# lower case, punctuation gone, æøå and ae/oe/aa the same, and (Danish) number words the same as digits
# ("enogtyve" = "21", "to hundrede og fem" = "205"). Both reference and hypothesis go through it.

_BELOW_HUNDRED = {"nul": 0, **WORDS_BELOW_HUNDRED}
_HUNDRED = {"hundrede", "hundred", "ethundrede"}
_THOUSAND = {"tusind", "tusinde", "ettusind"}
_FOLD_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "u"})
_THOUSANDS_DOT = re.compile(r"(?<=\d)\.(?=\d{3}\b)")
# a decimal comma joins exactly two numbers: "2,5"; "1,2,3" is a list (Whisper writes counting so)
_DECIMAL_COMMA = re.compile(r"(?<![\d,])(\d+),(\d+)(?!\d|,\d)")
_NOT_WORD = re.compile(r"[^\w]+|_")


def _small(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number below 100 at ``tokens[i]``: one word, or unit + "og" + tens ("en og tyve")."""
    if i >= len(tokens) or tokens[i] not in _BELOW_HUNDRED:
        return None
    value = _BELOW_HUNDRED[tokens[i]]
    unit_og_tens = tokens[i : i + 3]
    if len(unit_og_tens) == 3 and unit_og_tens[0] in UNIT_WORDS and unit_og_tens[1] == "og":
        tens = TENS_WORDS.get(unit_og_tens[2])
        if tens is not None:
            return value + tens, i + 3
    return value, i + 1


def _tail(
    tokens: Sequence[str], i: int, read: Callable[[Sequence[str], int], tuple[int, int] | None]
) -> tuple[int, int]:
    """What follows "hundrede"/"tusind": an optional "og" and a smaller number, or nothing."""
    after_og = read(tokens, i + 1) if i < len(tokens) and tokens[i] == "og" else None
    return after_og or read(tokens, i) or (0, i)


def _below_thousand(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    head = _small(tokens, i)
    j = head[1] if head else i
    if j < len(tokens) and tokens[j] in _HUNDRED and (head is None or 1 <= head[0] <= 9):
        rest, end = _tail(tokens, j + 1, _small)
        return (head[0] if head else 1) * 100 + rest, end
    return head


def _number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """The number spelled out from ``tokens[i]`` (up to 999,999) and where it ends, or None."""
    head = _below_thousand(tokens, i)
    j = head[1] if head else i
    if j < len(tokens) and tokens[j] in _THOUSAND:
        rest, end = _tail(tokens, j + 1, _below_thousand)
        return (head[0] if head else 1) * 1000 + rest, end
    return head


def danish_numbers_to_digits(tokens: Sequence[str]) -> list[str]:
    """Lower-case, folded tokens with every spelled-out number replaced by its digits."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        found = _number(tokens, i)
        if found:
            out.append(str(found[0]))
            i = found[1]
        else:
            out.append(tokens[i])
            i += 1
    return out


def normalise_transcript(text: str, language: str = "da") -> str:
    """Text as WER/CER compare it: lower case, accents and æøå folded (æ→ae, ø→oe, å→aa), punctuation gone,
    whitespace collapsed; Danish (``language="da"``) number words written as digits."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_FOLD_LETTERS)
    # accents other than æøå ("én", "café"): drop the combining marks
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _THOUSANDS_DOT.sub("", text)  # "1.000" = "1000"
    text = _DECIMAL_COMMA.sub(r"\1 komma \2", text)  # "2,5" = "to komma fem"
    text = text.replace("%", " procent ")
    tokens = _NOT_WORD.sub(" ", text).split()
    if language == "da":
        tokens = danish_numbers_to_digits(tokens)
    return " ".join(tokens)


def speech_error_rates(
    references: Sequence[str], hypotheses: Sequence[str], language: str = "da"
) -> dict[str, float]:
    """Corpus WER and CER (errors summed over all pairs, divided by all reference words/characters) after
    ``normalise_transcript``. References that normalise to nothing are skipped: they have no words to miss."""
    import jiwer  # lazy: only the speech evaluation needs it

    pairs = [
        (normalise_transcript(r, language), normalise_transcript(h, language))
        for r, h in zip(references, hypotheses, strict=True)
    ]
    pairs = [(r, h) for r, h in pairs if r]
    if not pairs:
        return {"wer": 0.0, "cer": 0.0}
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    return {"wer": round(float(jiwer.wer(refs, hyps)), 4), "cer": round(float(jiwer.cer(refs, hyps)), 4)}
