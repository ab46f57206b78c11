"""Turn features for the decision and action classifiers: the cue phrases of a turn and of its neighbours,
who speaks (the chair, someone just named, the same person again), names, deadlines, and the turn's words.

Features are named strings with values (a sparse dictionary per turn); ``model`` hashes them into weights.
"""

from __future__ import annotations

import itertools
import math

from services.minutes.pipeline.draft.cues import cues, normalise
from services.minutes.pipeline.draft.deadlines import DateContext, find_deadlines
from services.minutes.pipeline.draft.turns import Meeting, Turn
from services.minutes.pipeline.draft.words import tokenize

Features = dict[str, float]

_CONTEXT = (-2, -1, 1, 2)  # neighbours whose cues count, besides the turn itself
# Flags that describe the turn itself; a neighbour's length says little about this turn.
_OWN_ONLY = frozenset({"len_short", "len_mid", "len_long"})
_PAIRS = (
    ("chair", "close"),
    ("chair", "we_inverted"),
    ("chair", "formal"),
    ("chair", "from_now"),
    ("chair", "request"),
    ("chair", "commit_first_person"),
    ("chair", "defer"),
    ("chair", "reject"),
    ("chair", "propose"),
    ("commit_first_person", "deadline"),
    ("commit_we", "deadline"),
    ("request", "deadline"),
    ("request", "names_other"),
    ("commit_first_person", "vague"),
    ("commit_we", "chair"),
    ("chair", "question"),
    ("close", "reject"),
    ("close", "defer"),
    ("we_inverted", "reject"),
    ("we_inverted", "defer"),
    ("formal", "negation"),
    ("formal", "question"),
    ("formal", "past"),
    ("commit_first_person", "question"),
    ("request", "question"),
    ("consensus", "question"),
)


def _addressed(turn: Turn, meeting: Meeting) -> list[str]:
    """Participants named in the turn, other than its speaker."""
    return [name for _, name in meeting.names.mentions(turn.text) if name != turn.speaker]


def _turn_flags(turn: Turn, meeting: Meeting) -> set[str]:
    flags = set(cues(turn.text))
    if "question_word" in flags or "yes_no_question" in flags:
        flags.add("question")
    if meeting.chair and turn.speaker == meeting.chair:
        flags.add("chair")
    named = _addressed(turn, meeting)
    if named:
        flags.add("names_other")
        words = tokenize(turn.text)
        first = named[0].split()[0].lower()
        if first in words[:3]:
            flags.add("name_first")
    ctx = DateContext(meeting.meeting_date, meeting.next_meeting)
    deadlines = find_deadlines(turn.text, ctx)
    if any(d.marked for d in deadlines):
        flags.add("deadline")
    if any(d.date for d in deadlines):
        flags.add("deadline_resolved")
    count = len(turn.words)
    flags.add("len_short" if count <= 4 else "len_mid" if count <= 15 else "len_long")
    return flags


def _ngrams(text: str) -> list[str]:
    words = tokenize(normalise(text))
    grams = list(words)
    grams += [f"{a}_{b}" for a, b in itertools.pairwise(words)]
    return grams


def meeting_features(meeting: Meeting, *, ngrams: bool = True) -> list[Features]:
    """One feature dictionary per turn of ``meeting``."""
    turns = meeting.turns
    flags = [_turn_flags(t, meeting) for t in turns]
    n = len(turns)
    rows: list[Features] = []
    for i, turn in enumerate(turns):
        row: Features = {"bias_turn": 1.0}
        own = flags[i]
        for flag in own:
            row[f"0:{flag}"] = 1.0
        for offset in _CONTEXT:
            j = i + offset
            if 0 <= j < n:
                for flag in flags[j] - _OWN_ONLY:
                    row[f"{offset:+d}:{flag}"] = 1.0
                if turns[j].speaker == turn.speaker:
                    row[f"{offset:+d}:same_speaker"] = 1.0
            else:
                row[f"{offset:+d}:none"] = 1.0
        for a, b in _PAIRS:
            if a in own and b in own:
                row[f"0:{a}&{b}"] = 1.0
        if i > 0:
            before = flags[i - 1]
            for a, b in (
                ("consensus_question", "agree"),
                ("request", "accept"),
                ("propose", "close"),
                ("propose", "agree"),
                ("request", "commit_first_person"),
                ("consensus_question", "close"),
            ):
                if a in before and b in own:
                    row[f"-1:{a}&0:{b}"] = 1.0
            if turn.speaker and turn.speaker in _addressed(turns[i - 1], meeting):
                row["-1:named_this_speaker"] = 1.0
        if i + 1 < n:
            after = flags[i + 1]
            nxt = turns[i + 1]
            if nxt.speaker and nxt.speaker in _addressed(turn, meeting):
                row["+1:named_speaker_replies"] = 1.0
                if "accept" in after or "agree" in after:
                    row["+1:named_speaker_accepts"] = 1.0
            if nxt.speaker != turn.speaker and ("accept" in after or "commit_first_person" in after):
                row["+1:other_commits"] = 1.0
        row["position"] = i / max(1, n - 1)
        row["position_edge"] = 1.0 if i < 0.08 * n or i > 0.94 * n else 0.0
        row["log_length"] = math.log1p(len(turn.words)) / 4
        if ngrams:
            for gram in _ngrams(turn.text):
                row[f"w:{gram}"] = row.get(f"w:{gram}", 0.0) + 1.0
        rows.append(row)
    return rows
