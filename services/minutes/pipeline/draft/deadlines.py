"""Deadlines: the first deadline phrase in a sentence, resolved to an ISO date against the meeting date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from services.common.danish import MONTHS, WEEKDAYS
from services.minutes.pipeline.draft.words import NUMBER_WORDS

_MONTH_ALT = "|".join(MONTHS)
_WEEKDAY_ALT = "|".join(WEEKDAYS)
_DEADLINE_PREP = r"(?:(?:senest|inden|før|til|på)\s+)"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"


@dataclass(frozen=True)
class Deadline:
    start: int
    end: int
    phrase: str  # as said
    value: str  # ISO date when resolvable, else the phrase


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _future_date(meeting: date | None, month: int, day: int, year: int | None) -> date | None:
    """A day and month said at a meeting: this year, or next year when that day has passed."""
    if year is not None:
        return _safe_date(year, month, day)
    if meeting is None:
        return None
    candidate = _safe_date(meeting.year, month, day)
    if candidate is not None and candidate < meeting:
        candidate = _safe_date(meeting.year + 1, month, day)
    return candidate


def _resolve_deadline(groups: dict[str, str], meeting: date | None) -> date | None:
    """The date a deadline's named groups denote, when the meeting date (or a said year) pins it down."""
    if "month_name" in groups:
        year = int(groups["year"]) if "year" in groups else None
        month = MONTHS.index(groups["month_name"].lower()) + 1
        return _future_date(meeting, month, int(groups["day"]), year)
    if "month_num" in groups:
        year = int(groups["year"]) if "year" in groups else None
        if year is not None and year < 100:
            year += 2000
        return _future_date(meeting, int(groups["month_num"]), int(groups["day"]), year)
    if meeting is None:
        return None
    if "tomorrow" in groups:
        return meeting + timedelta(days=2 if groups["tomorrow"].lower().startswith("over") else 1)
    if "today" in groups:
        return meeting
    if "weekday" in groups:
        if "next" in groups:
            return None  # "næste fredag" is this or next week's Friday, depending on who says it
        target = WEEKDAYS.index(groups["weekday"].lower())
        ahead = (target - meeting.weekday()) % 7 or 7
        if "next_week" in groups:
            ahead = 7 - meeting.weekday() + target
        return meeting + timedelta(days=ahead)
    if "month_end" in groups:
        return meeting.replace(day=calendar.monthrange(meeting.year, meeting.month)[1])
    if "year_end" in groups:
        return date(meeting.year, 12, 31)
    if "weeks" in groups:
        raw = groups["weeks"].lower()
        count = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw, 0)
        return meeting + timedelta(weeks=count) if count else None
    return None


_DEADLINE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b" + _DEADLINE_PREP + r"*(?:den\s+|d\.\s*)?(?P<day>" + _DAY + r")\.?\s*"
        r"(?P<month_name>" + _MONTH_ALT + r")(?:\s+(?P<year>\d{4}))?\b",
        r"\b" + _DEADLINE_PREP + r"+(?:den\s+|d\.\s*)?(?P<day>" + _DAY + r")[./](?P<month_num>0?[1-9]|1[0-2])"
        r"(?:[./](?P<year>\d{2,4}))?\b",
        r"(?:(?:senest|inden)\s+)?\bi\s+(?P<tomorrow>(?:over)?morgen)\b",
        r"\b(?:senest|inden|allerede)\s+(?P<today>i\s+dag)\b|\b(?P<today2>senere\s+i\s+dag|i\s+løbet\s+af\s+dagen)\b",
        r"\b" + _DEADLINE_PREP + r"?(?P<next>næste\s+)?(?P<weekday>" + _WEEKDAY_ALT + r")"
        r"(?P<next_week>\s+i\s+næste\s+uge)?\b",
        r"\b(?:(?:senest|inden|til|i)\s+)?uge\s+\d{1,2}\b",
        r"\b(?:inden|før|ved|til|senest\s+ved)\s+(?:udgangen\s+af\s+(?:(?P<month_end>måneden)|(?P<year_end>året))"
        r"|(?P<month_end2>månedens\s+udgang))",
        r"\b(?:(?:til|på|inden|før)\s+)(?:det\s+)?næste\s+møde\b",
        r"\b(?:om|inden\s+for)\s+(?P<weeks>en|to|tre|fire|\d{1,2})\s+uger?\b",
        r"\bi\s+(?:næste|denne)\s+uge\b",
        r"\b(?:inden|før|til)\s+(?:jul(?:en)?|nytår|påske(?:n)?|sommerferien|efterårsferien|vinterferien"
        r"|weekenden)\b",
    )
]


def find_deadline(text: str, meeting_date: date | None) -> Deadline | None:
    """The first deadline expression in ``text``: an ISO date when it can be resolved against the meeting
    date, else the phrase as said ("til næste møde", "i uge 48")."""
    found: list[tuple[int, int, re.Match[str]]] = []
    for pattern in _DEADLINE_PATTERNS:
        for m in pattern.finditer(text):
            found.append((m.start(), -(m.end() - m.start()), m))
    if not found:
        return None
    m = min(found, key=lambda f: (f[0], f[1]))[2]
    # Alternatives of one meaning share a name up to a "2" suffix ("today"/"today2").
    groups = {k.rstrip("2"): v for k, v in m.groupdict().items() if v is not None}
    resolved = _resolve_deadline(groups, meeting_date)
    phrase = m.group(0).strip()
    return Deadline(m.start(), m.end(), phrase, resolved.isoformat() if resolved else phrase)
