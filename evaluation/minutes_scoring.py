"""Scoring a minutes draft against a meeting's gold minutes (the form of ``../shared/data/meetings``).

The rules follow the data's SOURCE.md and reproduce the project's own figures for the rule-only draft:

- A reported decision (action) is right when a gold decision (action) lies within ±1 segment of it; a gold
  one is found when a reported one lies within ±1 of it. Precision counts reported items, recall gold items.
  A second report near the same gold item is not wrong, but it is counted (``duplicates``).
- Owner and deadline are judged for each found gold action against the nearest reported action (of two equally
  near, the earlier): owners compare by first name (case-insensitive; both missing is right),
  deadlines must equal the gold date, one of its ``deadline_alternatives``, or both be null.
- A reported decision that is not right but lies within ±1 of an ``ambiguous_segments`` entry is neither right
  nor wrong; a gold decision on an ambiguous segment is not required.
- Agenda items are scored per segment: the number of the first section that lists the segment (0 = outside
  the agenda; a segment no section lists is wrong). ``agenda_item_accuracy`` is over the segments said under
  an agenda item (gold item ≥ 1, the project's figure), ``agenda_item_accuracy_all`` over every segment.
- A ``not_decision`` counts as reported when a reported decision or action sits on its segment, or a reported
  item that is not right sits within ±1 of it.

Everything here is pure: dictionaries in, counts and ratios out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

WINDOW = 1


@dataclass(frozen=True)
class Reported:
    """One reported decision or action, as the draft's JSON gives it."""

    segment: int
    who: str | None = None
    deadline: str | None = None


@dataclass
class MinutesCounts:
    """Counts that add up over meetings; the ratios are computed from the sums (micro-averages)."""

    decisions_reported: int = 0
    decisions_right: int = 0
    decisions_gold: int = 0
    decisions_found: int = 0
    decisions_duplicates: int = 0
    actions_reported: int = 0
    actions_right: int = 0
    actions_gold: int = 0
    actions_found: int = 0
    actions_duplicates: int = 0
    owners_right: int = 0
    deadlines_right: int = 0
    segments: int = 0
    segments_right: int = 0
    agenda_segments: int = 0
    agenda_segments_right: int = 0
    not_decisions: int = 0
    not_decisions_reported: int = 0
    meetings: int = 0
    per_meeting: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: MinutesCounts) -> None:
        for f in fields(self):
            if f.name != "per_meeting":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.per_meeting.extend(other.per_meeting)

    def scores(self) -> dict[str, Any]:
        return {
            "meetings": self.meetings,
            "decisions": _prf(
                self.decisions_right,
                self.decisions_reported,
                self.decisions_found,
                self.decisions_gold,
                self.decisions_duplicates,
            ),
            "actions": _prf(
                self.actions_right,
                self.actions_reported,
                self.actions_found,
                self.actions_gold,
                self.actions_duplicates,
            ),
            "owner_accuracy": _ratio(self.owners_right, self.actions_found),
            "deadline_accuracy": _ratio(self.deadlines_right, self.actions_found),
            "agenda_item_accuracy": _ratio(self.agenda_segments_right, self.agenda_segments),
            "agenda_item_accuracy_all": _ratio(self.segments_right, self.segments),
            "not_decisions": {
                "total": self.not_decisions,
                "reported": self.not_decisions_reported,
                "share": _ratio(self.not_decisions_reported, self.not_decisions),
            },
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _prf(right: int, reported: int, found: int, gold: int, duplicates: int) -> dict[str, float | int]:
    precision = right / reported if reported else 0.0
    recall = found / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "reported": reported,
        "right": right,
        "gold": gold,
        "found": found,
        "duplicates": duplicates,
    }


def first_name(name: str | None) -> str:
    parts = (name or "").strip().lower().split()
    return parts[0] if parts else ""


def reported_items(draft: Mapping[str, Any]) -> tuple[list[Reported], list[Reported], dict[int, int]]:
    """(decisions, actions, {segment: agenda number}) from a draft in ``kai minutes draft --json`` form."""
    decisions: list[Reported] = []
    actions: list[Reported] = []
    item_of: dict[int, int] = {}
    for section in draft.get("sections", []):
        number = int(section.get("number", 0))
        for segment in section.get("segment_ids", []):
            item_of.setdefault(int(segment), number)
        decisions += [Reported(int(d["segment"])) for d in section.get("decisions", [])]
        actions += [
            Reported(int(a["segment"]), a.get("who"), a.get("deadline")) for a in section.get("actions", [])
        ]
    return decisions, actions, item_of


def _near(segment: int, others: Iterable[int], window: int = WINDOW) -> bool:
    return any(abs(segment - o) <= window for o in others)


def _duplicates(gold: Sequence[int], reported: Sequence[int]) -> int:
    """Reports beyond the first near each gold item (a report near two gold items is counted once)."""
    return sum(max(0, sum(1 for r in reported if abs(r - g) <= WINDOW) - 1) for g in gold)


def _nearest(segment: int, reported: Sequence[Reported]) -> Reported | None:
    """The reported item nearest to ``segment`` within the window (the earlier one of two equally near)."""
    near = [r for r in reported if abs(r.segment - segment) <= WINDOW]
    return min(near, key=lambda r: (abs(r.segment - segment), r.segment)) if near else None


def score_meeting(gold: Mapping[str, Any], draft: Mapping[str, Any]) -> MinutesCounts:
    """The counts of one meeting: ``gold`` is a meeting file, ``draft`` the draft's JSON for it."""
    decisions, actions, item_of = reported_items(draft)
    counts = MinutesCounts(meetings=1)
    ambiguous = {int(s) for s in gold.get("ambiguous_segments", [])}

    gold_decisions = [int(d["segment"]) for d in gold.get("decisions", [])]
    wrong: list[int] = []
    for d in decisions:
        if _near(d.segment, gold_decisions):
            counts.decisions_right += 1
        elif not _near(d.segment, ambiguous):
            wrong.append(d.segment)
    counts.decisions_reported = counts.decisions_right + len(wrong)
    found = [_near(s, (d.segment for d in decisions)) for s in gold_decisions]
    counts.decisions_found = sum(found)
    counts.decisions_gold = sum(
        1 for s, f in zip(gold_decisions, found, strict=True) if f or s not in ambiguous
    )
    counts.decisions_duplicates = _duplicates(gold_decisions, [d.segment for d in decisions])

    gold_actions = list(gold.get("actions", []))
    gold_action_segments = [int(a["segment"]) for a in gold_actions]
    counts.actions_reported = len(actions)
    for a in actions:
        if _near(a.segment, gold_action_segments):
            counts.actions_right += 1
        else:
            wrong.append(a.segment)
    counts.actions_gold = len(gold_actions)
    counts.actions_duplicates = _duplicates(gold_action_segments, [a.segment for a in actions])
    for expected in gold_actions:
        nearest = _nearest(int(expected["segment"]), actions)
        if nearest is None:
            continue
        counts.actions_found += 1
        counts.owners_right += first_name(nearest.who) == first_name(expected.get("who"))
        counts.deadlines_right += nearest.deadline in [
            expected.get("deadline"),
            *expected.get("deadline_alternatives", []),
        ]

    every_reported = [d.segment for d in decisions] + [a.segment for a in actions]
    for item in gold.get("not_decisions", []):
        segment = int(item["segment"])
        counts.not_decisions += 1
        counts.not_decisions_reported += segment in every_reported or _near(segment, wrong)

    for index, segment in enumerate(gold.get("segments", [])):
        expected_item = int(segment.get("item", 0))
        right = item_of.get(index) == expected_item
        counts.segments += 1
        counts.segments_right += right
        if expected_item != 0:
            counts.agenda_segments += 1
            counts.agenda_segments_right += right

    counts.per_meeting.append({"id": gold.get("id"), **counts.scores()})
    return counts


def score_meetings(pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> MinutesCounts:
    """Summed counts over (gold meeting, draft JSON) pairs."""
    total = MinutesCounts()
    for gold, draft in pairs:
        total.add(score_meeting(gold, draft))
    return total
