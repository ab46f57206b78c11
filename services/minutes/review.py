"""Item review of a minutes draft: the reviewer's verdict on each decision and action, and what it measures.

A draft item is named by its place in the machine draft (``d<section>.<n>``, ``a<section>.<n>``; the draft is
kept unchanged beside the working copy), an added one by ``d+<hex>`` / ``a+<hex>``. A draft item the reviewer
has not marked is ``proposed``. The counts of a review — proposed, accepted unchanged, edited, removed, added,
for decisions and for actions — are the draft's precision and recall in real use.

Pure functions over plain data; the use cases that load and store them are in ``service.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from services.common.ledger import ItemCounts
from services.minutes.pipeline.types import ActionItem, Decision, MinutesDraft

DECISION, ACTION = "decision", "action"
KIND_PREFIX = {DECISION: "d", ACTION: "a"}
PROPOSED, ACCEPTED, EDITED, REMOVED, ADDED = "proposed", "accepted", "edited", "removed", "added"
STATUSES = (PROPOSED, ACCEPTED, EDITED, REMOVED, ADDED)
# Bounds on what a reviewer may type (a decision is a sentence or a short paragraph).
MAX_TEXT_CHARS = 2000
MAX_WHO_CHARS = 128
MAX_DEADLINE_CHARS = 64
MAX_ADDED_ITEMS = 200  # added items per meeting


@dataclass(frozen=True)
class Item:
    """One decision or action as the review shows it: the draft's wording and the reviewed one."""

    key: str
    kind: str
    section: int  # index into the minutes' sections
    segment: int | None  # the transcript segment it was said in (the link into the recording)
    start: float  # where the recording plays from
    status: str
    text: str
    who: str | None = None
    deadline: str | None = None  # an ISO date, or the deadline as said when it could not be resolved
    original_text: str | None = None  # None for an added item
    original_who: str | None = None
    original_deadline: str | None = None
    speaker: str | None = None
    deadline_text: str | None = None  # the draft's deadline as said


@dataclass(frozen=True)
class Verdict:
    """A stored verdict (one ``store.ReviewItem`` row), detached from the session."""

    key: str
    kind: str
    section: int
    segment: int | None
    status: str
    text: str
    who: str | None = None
    deadline: str | None = None


def _deadline_of(action: ActionItem) -> str | None:
    return action.deadline_date or action.deadline_text or action.deadline


def draft_items(draft: MinutesDraft) -> list[Item]:
    """Every decision and action of the machine draft, as still ``proposed``."""
    items: list[Item] = []
    for s, section in enumerate(draft.sections):
        for n, decision in enumerate(section.decisions):
            items.append(
                Item(
                    f"d{s}.{n}", DECISION, s, decision.segment, decision.start, PROPOSED, decision.text,
                    original_text=decision.text, speaker=decision.speaker,
                )
            )  # fmt: skip
        for n, action in enumerate(section.actions):
            deadline = _deadline_of(action)
            items.append(
                Item(
                    f"a{s}.{n}", ACTION, s, action.segment, action.start, PROPOSED, action.what, action.who,
                    deadline, action.what, action.who, deadline, action.speaker, action.deadline_text,
                )
            )  # fmt: skip
    return items


def reviewed_items(draft: MinutesDraft, verdicts: Iterable[Verdict], starts: Sequence[float]) -> list[Item]:
    """The draft's items with the reviewer's verdicts on them, then the items she added.

    ``starts`` are the transcript's segment start times (an added item plays from its segment)."""
    by_key = {v.key: v for v in verdicts}
    items = []
    for item in draft_items(draft):
        verdict = by_key.pop(item.key, None)
        if verdict is not None:
            changed = {"text": verdict.text, "who": verdict.who, "deadline": verdict.deadline}
            item = replace(item, status=verdict.status, **changed)
        items.append(item)
    for verdict in by_key.values():
        if verdict.status != ADDED:
            continue  # a verdict on an item the draft no longer has (cannot happen: the draft never changes)
        if verdict.segment is not None and 0 <= verdict.segment < len(starts):
            start = starts[verdict.segment]
        elif draft.sections:  # no segment: it plays from its section, as when it was added
            start = draft.sections[max(0, min(verdict.section, len(draft.sections) - 1))].start
        else:
            start = 0.0
        items.append(
            Item(
                verdict.key, verdict.kind, verdict.section, verdict.segment, start,
                ADDED, verdict.text, verdict.who, verdict.deadline,
            )
        )  # fmt: skip
    return items


def verdict_status(item: Item, text: str, who: str | None, deadline: str | None) -> str:
    """``accepted`` when the reviewer's version equals the draft's, else ``edited`` (added stays added)."""
    if item.status == ADDED:
        return ADDED
    same = (text, who, deadline) == (item.original_text, item.original_who, item.original_deadline)
    return ACCEPTED if same else EDITED


def _iso_date(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None


def _action(item: Item) -> ActionItem:
    """An action as the minutes hold it: an ISO deadline in ``deadline``, anything else kept as said."""
    resolved = _iso_date(item.deadline)
    unchanged = item.deadline == item.original_deadline
    # A date keeps how it was said only while unchanged; anything else is kept as said.
    said = (item.deadline_text if unchanged else None) if resolved is not None else item.deadline
    return ActionItem(
        what=item.text, who=item.who, deadline=resolved, start=item.start, speaker=item.speaker,
        deadline_text=said, segment=item.segment,
    )  # fmt: skip


def apply_review(minutes: MinutesDraft, items: Sequence[Item], speakers: dict[str, str]) -> MinutesDraft:
    """``minutes`` (the working copy) with its decisions and actions rebuilt from the reviewed items.

    Removed items are left out. An owner the draft named by a speaker label follows the name the speaker was
    given since (as renaming speakers does for the working copy)."""
    sections = [replace(section, decisions=[], actions=[]) for section in minutes.sections]
    if not sections:
        return minutes
    for item in items:
        if item.status == REMOVED:
            continue
        section = sections[min(max(item.section, 0), len(sections) - 1)]
        mark = item.status if item.status in (EDITED, ADDED) else None
        if item.kind == DECISION:
            section.decisions.append(Decision(item.text, item.start, item.speaker, item.segment, mark))
        else:
            who = speakers.get(item.who, item.who) if item.who and item.status != EDITED else item.who
            section.actions.append(replace(_action(replace(item, who=who)), review=mark))
    return replace(minutes, sections=sections)


def without_marks(minutes: MinutesDraft) -> MinutesDraft:
    """``minutes`` with no item marked as reviewed."""
    sections = [
        replace(
            section,
            decisions=[replace(d, review=None) for d in section.decisions],
            actions=[replace(a, review=None) for a in section.actions],
        )
        for section in minutes.sections
    ]
    return replace(minutes, sections=sections)


def counts_of(items: Iterable[Item], kind: str) -> ItemCounts:
    """The counts of one kind from the reviewed items."""
    statuses = Counter(item.status for item in items if item.kind == kind)
    proposed = sum(statuses[s] for s in (PROPOSED, ACCEPTED, EDITED, REMOVED))
    return ItemCounts(
        proposed=proposed,
        accepted=statuses[ACCEPTED] + statuses[PROPOSED],
        edited=statuses[EDITED],
        removed=statuses[REMOVED],
        added=statuses[ADDED],
        unmarked=statuses[PROPOSED],
    )


def _signatures(minutes: MinutesDraft, kind: str) -> list[tuple[str, ...]]:
    if kind == DECISION:
        return [(d.text.strip(),) for s in minutes.sections for d in s.decisions]
    return [(a.what.strip(), a.who or "", _deadline_of(a) or "") for s in minutes.sections for a in s.actions]


def counts_by_comparison(draft: MinutesDraft, final: MinutesDraft, kind: str) -> ItemCounts:
    """The counts when nobody used item review (an API client that edits the whole minutes): an approved
    item identical to a draft item is accepted; the rest are paired as edited; draft items left over were
    removed and approved items left over were added."""
    proposed, approved = Counter(_signatures(draft, kind)), Counter(_signatures(final, kind))
    accepted = sum((proposed & approved).values())
    left_draft = sum(proposed.values()) - accepted
    left_final = sum(approved.values()) - accepted
    edited = min(left_draft, left_final)
    return ItemCounts(
        proposed=sum(proposed.values()),
        accepted=accepted,
        edited=edited,
        removed=left_draft - edited,
        added=left_final - edited,
    )
