"""Decisions and action items proposed by an optional language model, kept only when the transcript bears
them out.

The model sees the turns numbered as in the transcript and answers with JSON items, each citing the segment
it was said in. A proposal is kept when that segment exists, when enough of its words were said there (or,
for a decision, in the two turns before: a "så gør vi det" settles a proposal said just before it), and when
the draft does not already hold an item of its kind within one segment (for an action: with the same owner).
Owner and deadline are read from the transcript as for the draft's own items; the model's owner is used only
when it is a participant named in or speaking around the cited turn. Any failure of the model leaves the
draft as it was.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.actions import action_owners, make_action
from services.minutes.pipeline.draft.sentences import clean_sentence
from services.minutes.pipeline.draft.summary import ChatClient
from services.minutes.pipeline.draft.turns import Meeting
from services.minutes.pipeline.draft.words import content_tokens
from services.minutes.pipeline.types import ActionItem, Decision

log = logging.getLogger(__name__)

SUPPORT_THRESHOLD = 0.5  # share of a proposal's content words that must have been said in its segment(s)
_CHUNK_TURNS = 120  # turns per request, so a long meeting fits the model's context
_STEM = 5  # words compare by their first letters, so "godkendt" supports "godkendes"
_PROPOSAL_TURNS = 2  # turns before a decision's segment whose words also support it (what it settles)


@dataclass(frozen=True)
class Proposal:
    kind: str  # "decision" or "action"
    text: str  # what was decided, or the task
    segment: int
    who: str | None = None


ItemProposer = Callable[[Sequence[tuple[int, str, str]]], list[Proposal]]
"""(segment, speaker, text) of the turns → proposed decisions and action items."""

_SYSTEM_PROMPT = (
    "Du læser en udskrift af et dansk kommunalt møde. Hver linje er [segmentnummer] taler: tekst. Find de "
    "beslutninger, mødet traf, og de opgaver, nogen påtog sig eller fik. Et forslag, der blev afvist eller "
    "udsat, og løse hensigter ('vi burde nok engang') er hverken beslutninger eller opgaver. Svar KUN med "
    'JSON: {"decisions": [{"text": "hvad der blev besluttet", "segment": n}], "actions": [{"who": "navn", '
    '"what": "opgaven", "segment": n}]}, hvor segment er nummeret på linjen, hvor det blev sagt. Brug kun '
    "ord og oplysninger fra udskriften, og gengiv aldrig personnumre."
)


def _parse(reply: str) -> list[Proposal]:
    """The proposals in a model's reply (the first JSON object in it); malformed items are skipped."""
    m = re.search(r"\{.*\}", reply, re.DOTALL)
    if m is None:
        raise ValueError("no JSON object in the reply")
    data = json.loads(m.group(0))
    proposals = []
    for kind, key, text_key in (("decision", "decisions", "text"), ("action", "actions", "what")):
        for item in data.get(key, []) if isinstance(data, dict) else []:
            if not isinstance(item, dict):
                continue
            text, segment, who = item.get(text_key), item.get("segment"), item.get("who")
            if (
                isinstance(text, str)
                and text.strip()
                and isinstance(segment, int)
                and not isinstance(segment, bool)
            ):
                proposals.append(Proposal(kind, text.strip(), segment, who if isinstance(who, str) else None))
    return proposals


def llm_proposer(client: ChatClient) -> ItemProposer:
    """An ``ItemProposer`` asking an OpenAI-compatible chat model (``services.common.llm.LlmClient``)."""

    def propose(turns: Sequence[tuple[int, str, str]]) -> list[Proposal]:
        proposals: list[Proposal] = []
        for start in range(0, len(turns), _CHUNK_TURNS):
            lines = "\n".join(
                f"[{i}] {speaker}: {text}" for i, speaker, text in turns[start : start + _CHUNK_TURNS]
            )
            messages = [
                {"role": "system", "content": _SYSTEM_PROMPT},
                {"role": "user", "content": f"Udskrift:\n{lines}"},
            ]
            proposals += _parse(client.chat(messages))
        return proposals

    return propose


def _stems(text: str) -> set[str]:
    return {w[:_STEM] for w in content_tokens(text)}


def support(proposal_text: str, said: str) -> float:
    """The share of the proposal's content words (by stem) that were said."""
    wanted = _stems(proposal_text)
    return len(wanted & _stems(said)) / len(wanted) if wanted else 0.0


def _supported(proposal: Proposal, meeting: Meeting) -> bool:
    turns = meeting.turns
    i = proposal.segment
    if not 0 <= i < len(turns):
        return False
    said = turns[i].text
    if proposal.kind == "decision":
        said = " ".join(t.text for t in turns[max(0, i - _PROPOSAL_TURNS) : i + 1])
    return support(proposal.text, said) >= SUPPORT_THRESHOLD


def _owner(proposal: Proposal, meeting: Meeting) -> str | None:
    """The model's owner when the transcript names that participant around the turn, else the draft's own."""
    i = proposal.segment
    nearby = {t.speaker for t in meeting.turns[max(0, i - 1) : i + 2]}
    nearby |= {name for _, name in meeting.names.mentions(meeting.turns[i].text)}
    claimed = meeting.names.full(proposal.who)
    if claimed and claimed in nearby:
        return claimed
    return action_owners(i, meeting).names[0]


def add_proposals(
    meeting: Meeting, decisions: list[Decision], actions: list[ActionItem], proposer: ItemProposer
) -> tuple[list[Decision], list[ActionItem]]:
    """``decisions`` and ``actions`` with the proposer's supported, new items added, in segment order."""
    position = {t.segment_id: t.index for t in meeting.turns}
    try:
        proposals = proposer([(t.index, t.speaker or "", t.text) for t in meeting.turns])
    except Exception as exc:  # any failure of the optional model leaves the draft as it was
        # The type only: messages of arbitrary exceptions may quote the transcript.
        log.warning("LLM proposals failed (%s); keeping the draft's own items", type(exc).__name__)
        return decisions, actions
    # What the draft holds already: decisions by turn, actions by (turn, owner); a proposal within one turn of
    # one of its kind (and, for an action, the same owner) is the same item.
    taken_decisions = [position.get(d.segment, -9) for d in decisions]
    taken_actions = [(position.get(a.segment, -9), a.who) for a in actions]
    decisions, actions = list(decisions), list(actions)
    for proposal in proposals:
        if not _supported(proposal, meeting):
            continue
        turn = meeting.turns[proposal.segment]
        if proposal.kind == "decision":
            if any(abs(proposal.segment - j) <= 1 for j in taken_decisions):
                continue
            taken_decisions.append(proposal.segment)
            text = mask_cpr(clean_sentence(proposal.text))
            decisions.append(
                Decision(text=text, start=turn.start, speaker=turn.speaker, segment=turn.segment_id)
            )
            continue
        owner = _owner(proposal, meeting)
        if any(abs(proposal.segment - j) <= 1 and who == owner for j, who in taken_actions):
            continue
        taken_actions.append((proposal.segment, owner))
        item = make_action(proposal.segment, meeting, owner)
        item.what = mask_cpr(clean_sentence(proposal.text))
        actions.append(item)
    decisions.sort(key=lambda d: position.get(d.segment, 0))
    actions.sort(key=lambda a: position.get(a.segment, 0))
    return decisions, actions
