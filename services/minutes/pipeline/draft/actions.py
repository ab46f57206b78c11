"""Action items: who does what by when, for the turns the action classifier picked.

- Who: the person asked ("Mette, vil du tage den?" → Mette), else the speaker of a first-person commitment
  ("jeg sender det rundt"), else a named subject ("Lars sender tallene"), else the next speaker who takes it
  on ("… vil jeg gerne have status" — "ja, det kommer med"), else the speaker. Full participant names.
- What: the task as said, from the asking or committing clause ("Kan du lige tjekke tallene inden fredag?" →
  "Tjekke tallene"); an "ja, det gør jeg" takes the task of the request before it.
- By when: the deadline said in the turn, else in the reply or the request it answers (``deadlines``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.common.privacy import mask_cpr
from services.minutes.pipeline.draft.cues import TASK_VERBS, cue_span, cues, normalise
from services.minutes.pipeline.draft.deadlines import Deadline, dates_in, find_deadline
from services.minutes.pipeline.draft.sentences import clean_sentence, split_text
from services.minutes.pipeline.draft.turns import Meeting, Turn
from services.minutes.pipeline.draft.words import content_tokens, tokenize
from services.minutes.pipeline.types import ActionItem

_INFINITIVE = {("går" if v == "gå" else v + "r"): v for v in TASK_VERBS} | {"ser": "se", "slår": "slå"}
_INFINITIVE |= {"gennemgår": "gennemgå", "tager": "tage", "gør": "gøre", "får": "få"}
_REQUEST_FRAME = re.compile(
    r"(?i)^(?:og\s+|så\s+|men\s+)?(?:(?:kan|vil|gider|kunne|skal|må)\s+(?:du|i)|du\s+(?:skal|må|kan))"
    r"(?:\s+(?:ikke|lige|også|godt|så|eventuelt|måske|have|få|gerne|selv))*\s+"
)
_FIRST_PERSON = re.compile(
    r"(?i)^(?:og\s+|så\s+|men\s+|ja\s+)?(?:jeg|vi)(?:\s+(?:skal\s+nok|skal|kan\s+godt|kan|vil\s+gerne|vil|må"
    r"|lige|også|godt|så|selv|bare|nok|altså))*\s+"
)
_YOU_DO = re.compile(r"(?i)^(?:og\s+|så\s+)?du\s+(\w+er)\s+")  # "du sender referatet ud"
_VERB_FIRST = re.compile(r"(?i)^(\w+er)\s+(?:jeg|vi)\s+")  # "(så) skriver jeg til …"
# A task for everyone present ("senest den første marts, og det gælder alle sammen").
_EVERYONE = re.compile(
    r"(?i)\b(?:det\s+gælder\s+(?:alle|jer\s+alle)|alle\s+skal|i\s+skal\s+alle|hver\s+især)\b"
)
_INVERTED = re.compile(r"(?i)^(?:og\s+|så\s+|men\s+)?(?:så|det|den|dem)\s+(\w+)\s+(?:jeg|vi)\s+")
_ACCEPTANCE_ONLY = re.compile(
    r"(?i)^(?:ja|jo|okay|ok|fint|klart|godt|det\s+er\s+klart|selvfølgelig)?[\s,.]*(?:det|den)?\s*"
    r"(?:gør|tager|klarer|ordner|kan|når)\s+(?:jeg|vi)(?:\s+(?:godt|sagtens|nok|gerne))?[\s,.!]*$"
)
_LEADING = re.compile(r"(?i)^(?:(?:ja|jo|nå|okay|ok|godt|altså|jamen|men|og|så|tak)\b[\s,.]*)+")


@dataclass(frozen=True)
class Owners:
    names: tuple[str | None, ...]
    how: str  # "asked", "committed", "named", "took_on", "speaker"


def _is_named(name: str, turn: Turn) -> bool:
    return bool(name) and name != turn.speaker


def _asked(turn: Turn, meeting: Meeting) -> list[str]:
    """The participants a request in ``turn`` is addressed to (two joined by "og" are both asked)."""
    span = cue_span("request", turn.text)
    mentioned = [(p, name) for p, name in meeting.names.mentions(turn.text) if _is_named(name, turn)]
    if span is None or not mentioned:
        return []
    # The vocative nearest the request ("Mette, vil du …", "kan du sende det, Lars?"), before it preferred.
    anchor = span[0]
    position, nearest = min(
        mentioned, key=lambda m: (abs(m[0] - anchor) + (0 if m[0] <= anchor else 15), m[0])
    )
    asked = [nearest]
    for p, name in mentioned:
        between = turn.text[min(p, position) : max(p, position)].lower()
        if name != nearest and re.fullmatch(r"\w+(?:\s+\w+)?\s+og\s+", between or ""):
            asked.append(name)
    return asked


def action_owners(index: int, meeting: Meeting) -> Owners:
    turns = meeting.turns
    turn = turns[index]
    found = cues(turn.text)
    if _EVERYONE.search(turn.text) and not {"commit_first_person", "accept"} & found:
        return Owners((None,), "everyone")
    asked = _asked(turn, meeting) if "request" in found else []
    commits = [cue_span(c, turn.text) for c in ("commit_first_person", "accept") if c in found]
    committed_first = (
        bool(commits) and min(s[0] for s in commits if s) < (cue_span("request", turn.text) or (9999,))[0]
    )
    if asked and not committed_first:
        return Owners(tuple(asked), "asked")
    if commits:
        return Owners((turn.speaker,), "committed")
    subject = _named_subject(turn, meeting)
    if subject:
        return Owners((subject,), "named")
    following = turns[index + 1] if index + 1 < len(turns) else None
    if following is not None and following.speaker and following.speaker != turn.speaker:
        after = cues(following.text)
        # The next speaker takes it on: "det gør jeg", or, when this turn asks for something without naming
        # anyone, a "ja, …" or "jeg …" from someone other than the chair (whose "godt" closes the point).
        asks = "request" in found and following.speaker != meeting.chair
        if "accept" in after or (asks and {"agree", "commit_first_person", "commit_we"} & after):
            return Owners((following.speaker,), "took_on")
    return Owners((turn.speaker,), "speaker")


def _named_subject(turn: Turn, meeting: Meeting) -> str | None:
    """A participant said as the subject of a task verb ("Lars sender tallene", "så tager Mads …")."""
    for position, name in meeting.names.mentions(turn.text):
        rest = tokenize(turn.text[position:])[len(name.split()) : len(name.split()) + 3]
        if any(w in _INFINITIVE or w in ("skal", "tager", "står") for w in rest[:2]):
            return name
    return None


# --- the task --------------------------------------------------------------------------------------------


def _task_sentence(text: str) -> str:
    """The clause of a turn that asks for or takes on the task: the sentence with a request, else the part
    of a sentence from a commitment on ("send mig sagen, så ringer jeg hende op" → "ringer jeg hende op")."""
    text = clean_sentence(text)
    sentences = [text[a:b] for a, b in split_text(text)] or [text]
    for cue in ("request", "commit_first_person", "accept", "commit_we"):
        for sentence in sentences:
            if cue not in cues(sentence):
                continue
            span = cue_span(cue, sentence)
            if cue != "request" and span is not None:
                # cue_span is over the normalised sentence; the same words start at the same place once the
                # sentence is lower-cased and hesitation-free, which clean_sentence already made it.
                return sentence[span[0] :] if len(sentence) == len(normalise(sentence)) else sentence
            return sentence
    return sentences[-1]


def _infinitive_clause(sentence: str, names: Sequence[str]) -> str:
    """ "Mette, kan du sende referatet" → "sende referatet"; "så sender jeg den" → "sende den"."""
    text = _LEADING.sub("", re.sub(r"\s+", " ", sentence).strip())
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"^(?:[Oo]g\s+)?{re.escape(name)}[\s,.]*", "", text)
        text = re.sub(rf"[\s,]+{re.escape(name)}[\s?.!]*$", "", text)
    text = _LEADING.sub("", text)
    if m := _REQUEST_FRAME.match(text):
        text = text[m.end() :]
    elif m := _YOU_DO.match(text):
        text = f"{_INFINITIVE.get(m.group(1).lower(), m.group(1))} {text[m.end() :]}"
    elif m := _INVERTED.match(text):
        verb = m.group(1)
        text = f"{_INFINITIVE.get(verb, verb)} {text[m.end() :]}"
    elif m := _FIRST_PERSON.match(text):
        text = text[m.end() :]
    elif m := _VERB_FIRST.match(text):
        text = f"{_INFINITIVE.get(m.group(1).lower(), m.group(1))} {text[m.end() :]}"
    words = text.split()
    for k, word in enumerate(words):
        if word.lower() in _INFINITIVE and (k == 0 or words[k - 1].lower() == "og"):
            words[k] = _INFINITIVE[word.lower()]
    return " ".join(words)


def _tidy(task: str, deadline: Deadline | None) -> str:
    if deadline is not None:
        task = re.sub(re.escape(deadline.phrase.lower()), " ", task, count=1, flags=re.IGNORECASE)
    task = re.sub(r"\s+", " ", task).strip(" ,.;:!?")
    task = re.sub(r"(?i)(?:,?\s+(?:og|så|men|altså|ikke|lige))+$", "", task).strip(" ,.;:")
    task = clean_sentence(task)
    return task


def action_task(index: int, meeting: Meeting, deadline: Deadline | None) -> str:
    turns = meeting.turns
    sentence = _task_sentence(turns[index].text)
    bare = normalise(sentence.replace(deadline.phrase, " ") if deadline else sentence)
    if _ACCEPTANCE_ONLY.match(bare) and index > 0:
        sentence = _task_sentence(turns[index - 1].text)  # "ja, det gør jeg": the task asked for before
    names = [v for v in meeting.names.variants]
    task = _tidy(_infinitive_clause(sentence, names), deadline)
    if len(content_tokens(task)) == 0:
        task = clean_sentence(sentence)
    return mask_cpr(task)


# --- the deadline ----------------------------------------------------------------------------------------


def _recent_dates(index: int, meeting: Meeting, back: int = 4) -> list[date]:
    dates: list[date] = []
    for turn in meeting.turns[max(0, index - back) : index + 1]:
        dates += [d for _, d in dates_in(turn.text, meeting.meeting_date)]
    return dates


def action_deadline(index: int, meeting: Meeting, owner: str | None) -> Deadline | None:
    """The deadline in the turn; else in the owner's reply just after, or in the request just before."""
    turns = meeting.turns

    def in_turn(j: int) -> Deadline | None:
        return find_deadline(
            turns[j].text, meeting.meeting_date, meeting.next_meeting, _recent_dates(j, meeting)
        )

    found = in_turn(index)
    if found is not None and found.marked:
        return found
    speaker = turns[index].speaker
    # A reply by the owner ("Karsten, hvornår kan det komme ud" — "senest fredag"), or the request the
    # owner answers ("Lars, kan du … inden fredag" — "ja, det gør jeg"); never the speaker's next point.
    if index + 1 < len(turns) and owner and turns[index + 1].speaker == owner != speaker:
        reply = in_turn(index + 1)
        if reply is not None and reply.marked:
            return reply
    before = turns[index - 1] if index > 0 else None
    if before is not None and before.speaker != speaker and "request" in cues(before.text):
        asked = _asked(before, meeting)
        request = in_turn(index - 1)
        if request is not None and request.marked and (owner in asked or (not asked and owner == speaker)):
            return request
    return found


def make_action(index: int, meeting: Meeting, owner: str | None) -> ActionItem:
    turn = meeting.turns[index]
    deadline = action_deadline(index, meeting, owner)
    return ActionItem(
        what=action_task(index, meeting, deadline),
        who=mask_cpr(owner) if owner else None,
        deadline=mask_cpr(deadline.value) if deadline else None,
        start=turn.start,
        speaker=turn.speaker,
        deadline_text=mask_cpr(deadline.phrase) if deadline else None,
        segment=turn.segment_id,
    )


def action_turns(
    meeting: Meeting, probabilities: Sequence[float], threshold: float
) -> list[tuple[int, str | None]]:
    """(turn, owner) of each action item: the turns whose probability passes ``threshold``, one item per
    owner. Of two neighbouring turns for the same owner (a request and its "ja, det gør jeg") only the
    likelier one is kept."""
    owners = {i: action_owners(i, meeting).names for i, p in enumerate(probabilities) if p >= threshold}
    chosen = []
    for i, names in owners.items():
        for name in names:
            rivals = [j for j in (i - 1, i + 1) if j in owners and name in owners[j]]
            if any(
                probabilities[j] > probabilities[i] or (probabilities[j] == probabilities[i] and j < i)
                for j in rivals
            ):
                continue
            chosen.append((i, name))
    return chosen


def find_actions(meeting: Meeting, probabilities: Sequence[float], threshold: float) -> list[ActionItem]:
    return [make_action(i, meeting, name) for i, name in action_turns(meeting, probabilities, threshold)]
