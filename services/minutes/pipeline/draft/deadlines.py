"""Deadlines: Danish date expressions, as said in a meeting, resolved against the meeting's date.

Spoken and written forms alike: "på fredag" (the coming Friday), "fredag i næste uge", "senest den tyvende
marts", "inden den første maj", "torsdag den tredivte", "15/12", "i dag", "lige efter mødet", "i morgen",
"i løbet af ugen" (that Friday), "inden udgangen af måneden", "uge 12" / "i uge otte" (that week's Friday),
"om fjorten dage", "inden næste møde" (the next meeting's date, when it was said), "en uge før" (a date said
just before). Expressions without a date ("efter sommerferien", "inden jul") are kept as said, unresolved.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from services.common.danish import MONTHS, WEEKDAYS
from services.minutes.pipeline.draft.words import ORDINALS, spoken_number, spoken_ordinal

_MONTH = "(?:" + "|".join(MONTHS) + ")"
_WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"
_ORDINAL_WORD = "(?:" + "|".join(sorted(ORDINALS, key=len, reverse=True)) + ")"
_DAY = rf"(?:{_ORDINAL_WORD}|(?:0?[1-9]|[12]\d|3[01])\.?)"
_NUMBER = r"(?:\d{1,2}|[a-zæøå]+)"
# Words that make a date a deadline ("senest fredag", "inden den 1. maj", "til næste møde", "fra på mandag").
_PREP = r"(?:senest|inden|før|til|på|fra|allerede|ved|i\s+løbet\s+af|inden\s+for)"
_PREPS = rf"(?:{_PREP}\s+)*"
_END = r"(?![\wæøå-])"


@dataclass(frozen=True)
class Deadline:
    start: int
    end: int
    phrase: str  # as said
    value: str  # ISO date when resolvable, else the phrase
    marked: bool = True  # introduced by a deadline word ("senest", "inden", "til", "på" …)

    @property
    def date(self) -> str | None:
        """The ISO date, or None when the phrase could not be resolved."""
        return self.value if re.fullmatch(r"\d{4}-\d\d-\d\d", self.value) else None


@dataclass(frozen=True)
class DateContext:
    """What resolving a phrase may need besides its words."""

    meeting: date | None
    next_meeting: date | None = None
    recent: tuple[date, ...] = ()  # dates said just before, newest last ("en uge før" counts back from them)


# --- calendar arithmetic ---------------------------------------------------------------------------------


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _coming(meeting: date, month: int, day: int) -> date | None:
    """A day and month said at a meeting: this year, or next year when that day has passed."""
    candidate = _safe_date(meeting.year, month, day)
    if candidate is not None and candidate < meeting:
        candidate = _safe_date(meeting.year + 1, month, day)
    return candidate


def _coming_day(meeting: date, day: int, weekday: int | None) -> date | None:
    """A day of the month said without its month ("senest den tyvende", "torsdag den tredivte"): the first
    such day from the meeting on whose weekday, when one was said, fits."""
    year, month = meeting.year, meeting.month
    fallback = None
    for _ in range(13):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= meeting:
            fallback = fallback or candidate
            if weekday is None or candidate.weekday() == weekday:
                return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return fallback


def coming_weekday(meeting: date, weekday: int) -> date:
    """The coming ``weekday`` after the meeting ("på fredag"); the meeting's own weekday means next week."""
    return meeting + timedelta(days=(weekday - meeting.weekday()) % 7 or 7)


def _weekday_next_week(meeting: date, weekday: int) -> date:
    return meeting - timedelta(days=meeting.weekday()) + timedelta(days=7 + weekday)


def _week_friday(meeting: date, week: int) -> date | None:
    """The Friday of ISO week ``week`` in the meeting's year, or next year when that week is long past."""
    for year in (meeting.year, meeting.year + 1):
        try:
            friday = date.fromisocalendar(year, week, 5)
        except ValueError:
            continue
        if friday >= meeting - timedelta(days=7):
            return friday
    return None


def _end_of_week(meeting: date, weeks_ahead: int = 0) -> date:
    """Friday of the meeting's week (or a later one); a weekend meeting's week is the next one."""
    friday = meeting - timedelta(days=meeting.weekday()) + timedelta(days=4 + 7 * weeks_ahead)
    return friday if meeting.weekday() <= 4 else friday + timedelta(days=7)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _month_index(name: str) -> int:
    return MONTHS.index(name.lower()) + 1


def _weekday_index(name: str) -> int:
    return WEEKDAYS.index(name.lower())


# --- the expressions -------------------------------------------------------------------------------------


def _explicit(g: dict[str, str], ctx: DateContext) -> date | None:
    day = spoken_ordinal(g["day"])
    if day is None:
        return None
    if "year" in g:
        return _safe_date(int(g["year"]), _month_index(g["month"]), day) if "month" in g else None
    if ctx.meeting is None:
        return None
    if "month" in g:
        return _coming(ctx.meeting, _month_index(g["month"]), day)
    return _coming_day(ctx.meeting, day, _weekday_index(g["weekday"]) if "weekday" in g else None)


def _numeric(g: dict[str, str], ctx: DateContext) -> date | None:
    day, month = int(g["day"]), int(g["month_num"])
    if "year" in g:
        year = int(g["year"])
        return _safe_date(year + 2000 if year < 100 else year, month, day)
    return _coming(ctx.meeting, month, day) if ctx.meeting else None


def _weekday(g: dict[str, str], ctx: DateContext) -> date | None:
    if ctx.meeting is None:
        return None
    weekday = _weekday_index(g["weekday"])
    if "next_week" in g or "next" in g:
        return _weekday_next_week(ctx.meeting, weekday)
    return coming_weekday(ctx.meeting, weekday)


def _today(g: dict[str, str], ctx: DateContext) -> date | None:
    return ctx.meeting


def _tomorrow(g: dict[str, str], ctx: DateContext) -> date | None:
    if ctx.meeting is None:
        return None
    return ctx.meeting + timedelta(days=2 if g["tomorrow"].lower().startswith("over") else 1)


def _this_week(g: dict[str, str], ctx: DateContext) -> date | None:
    return _end_of_week(ctx.meeting) if ctx.meeting else None


def _next_week(g: dict[str, str], ctx: DateContext) -> date | None:
    if ctx.meeting is None:
        return None
    if "from" in g:
        return _weekday_next_week(ctx.meeting, 0)
    return _end_of_week(ctx.meeting, 1)


def _month_end_of(g: dict[str, str], ctx: DateContext) -> date | None:
    if "month" in g:
        month = _month_index(g["month"])
        if ctx.meeting is None:
            return None
        year = ctx.meeting.year + (month < ctx.meeting.month)
        return _month_end(year, month)
    if ctx.meeting is None:
        return None
    if "year_end" in g:
        return date(ctx.meeting.year, 12, 31)
    return _month_end(ctx.meeting.year, ctx.meeting.month)


def _month_start(g: dict[str, str], ctx: DateContext) -> date | None:
    return _coming(ctx.meeting, _month_index(g["month"]), 1) if ctx.meeting else None


def _week_number(g: dict[str, str], ctx: DateContext) -> date | None:
    week = spoken_number(g["week"])
    if ctx.meeting is None or week is None or not 1 <= week <= 53:
        return None
    return _week_friday(ctx.meeting, week)


def _relative(g: dict[str, str], ctx: DateContext) -> date | None:
    count = spoken_number(g["count"])
    if ctx.meeting is None or count is None or count > 60:
        return None
    days = count * 7 if g["unit"].lower().startswith("uge") else count
    return ctx.meeting + timedelta(days=days)


def _before_event(g: dict[str, str], ctx: DateContext) -> date | None:
    count = spoken_number(g["count"])
    if not ctx.recent or count is None:
        return None
    days = count * 7 if g["unit"].lower().startswith("uge") else count
    return ctx.recent[-1] - timedelta(days=days)


def _next_meeting(g: dict[str, str], ctx: DateContext) -> date | None:
    return ctx.next_meeting


def _unresolved(g: dict[str, str], ctx: DateContext) -> date | None:
    return None


_I = re.IGNORECASE
_EXPRESSIONS = [
    (re.compile(p, _I), resolve)
    for p, resolve in (
        # "senest fredag den tyvende marts", "inden den 1. maj 2027", "til den fjortende april"
        (
            rf"\b{_PREPS}(?:(?P<weekday>{_WEEKDAY})\s+)?(?:den\s+|d\.\s*)?(?P<day>{_DAY})\s+"
            rf"(?P<month>{_MONTH})(?:\s+(?P<year>\d{{4}}))?{_END}",
            _explicit,
        ),
        # "senest den tyvende", "torsdag den tredivte" (the month is the coming one with that day)
        (rf"\b{_PREPS}(?P<weekday>{_WEEKDAY})\s+den\s+(?P<day>{_DAY}){_END}", _explicit),
        (rf"\b(?:{_PREP}\s+)+den\s+(?P<day>{_ORDINAL_WORD}|(?:0?[1-9]|[12]\d|3[01])\.){_END}", _explicit),
        # "inden 15/12", "til 1.3.2027"
        (
            rf"\b(?:{_PREP}\s+)+(?:den\s+|d\.\s*)?(?P<day>0?[1-9]|[12]\d|3[01])[./](?P<month_num>0?[1-9]|1[0-2])"
            r"(?:[./](?P<year>\d{2,4}))?\b",
            _numeric,
        ),
        # "fredag i næste uge", "på tirsdag", "næste fredag", "fra på mandag"
        (
            rf"\b{_PREPS}(?P<next>næste\s+)?(?P<weekday>{_WEEKDAY})"
            r"(?P<next_week>\s+i\s+næste\s+uge|\s+i\s+den\s+kommende\s+uge)?" + _END,
            _weekday,
        ),
        (
            r"(?<!\baf\s)(?<!\bfor\s)\b(?:senest\s+|inden\s+|allerede\s+|fra\s+)?(?:i\s+dag|i\s+eftermiddag|i\s+aften|i\s+formiddag"
            r"|senere\s+i\s+dag|i\s+løbet\s+af\s+dagen|(?:lige|straks|umiddelbart)\s+efter\s+mødet|inden\s+jeg\s+går"
            r"|med\s+det\s+samme|straks)" + _END,
            _today,
        ),
        (r"\b(?:fra\s+|senest\s+|inden\s+)?i\s+(?P<tomorrow>(?:over)?morgen)" + _END, _tomorrow),
        (
            r"\b(?:(?:i\s+løbet\s+af|inden\s+udgangen\s+af|ved\s+udgangen\s+af|inden|før|senest)\s+"
            r"(?:ugen|weekenden|denne\s+uge|den\s+her\s+uge)|i\s+(?:denne|den\s+her)\s+uge)" + _END,
            _this_week,
        ),
        (
            r"\b(?:(?:i\s+løbet\s+af|inden\s+udgangen\s+af|ved\s+udgangen\s+af|inden|senest|i)\s+"
            r"|(?P<from>fra)\s+)næste\s+uge" + _END,
            _next_week,
        ),
        (
            rf"\b(?:inden|før|ved|til|senest(?:\s+ved)?)\s+(?:udgangen\s+af\s+(?:måneden|(?P<year_end>året)"
            rf"|(?P<month>{_MONTH}))|månedens\s+udgang)" + _END,
            _month_end_of,
        ),
        (rf"\bultimo\s+(?P<month>{_MONTH})" + _END, _month_end_of),
        (
            rf"\b(?:primo\s+|(?:inden|til|senest|før)\s+(?:starten|begyndelsen)\s+af\s+)(?P<month>{_MONTH})"
            + _END,
            _month_start,
        ),
        (rf"\b{_PREPS}(?:i\s+)?uge\s+(?P<week>{_NUMBER}){_END}", _week_number),
        (
            rf"\b(?:om|inden\s+for|indenfor|inden)\s+(?P<count>{_NUMBER})\s+(?P<unit>uger?|dage)" + _END,
            _relative,
        ),
        (
            rf"\b(?:senest\s+)?(?P<count>{_NUMBER})\s+(?P<unit>uger?|dage)\s+(?:før|inden){_END}",
            _before_event,
        ),
        (
            r"\b(?:(?:senest\s+)?(?:til|inden|før|på)\s+(?:det\s+|den\s+)?næste\s+(?:gang|[\wæøå]*møde"
            r"|[\wæøå]*samråd)|inden\s+vi\s+ses\s+igen)" + _END,
            _next_meeting,
        ),
        (
            r"\b(?:(?:inden|før|til|efter|hen\s+over|i\s+løbet\s+af)\s+(?:jul(?:en)?|nytår|påske(?:n)?"
            r"|sommerferien|sommeren|efterårsferien|vinterferien|efteråret|foråret|vinteren)|efter\s+ferien)"
            + _END,
            _unresolved,
        ),
    )
]
_MARKED = re.compile(rf"(?i)^(?:{_PREP}|i\s|om\s|lige\s|efter\s|næste\s|primo|ultimo|hen\s)")


def find_deadlines(text: str, ctx: DateContext) -> list[Deadline]:
    """Every deadline expression in ``text``, in order; where two overlap the longer one is kept."""
    return list(_find_deadlines(text, ctx))


@lru_cache(maxsize=16384)
def _find_deadlines(text: str, ctx: DateContext) -> tuple[Deadline, ...]:
    found: list[tuple[int, int, re.Match[str], object]] = []
    for pattern, resolve in _EXPRESSIONS:
        for m in pattern.finditer(text):
            found.append((m.start(), -(m.end() - m.start()), m, resolve))
    found.sort(key=lambda f: (f[0], f[1]))
    deadlines: list[Deadline] = []
    covered_to = -1
    for start, _, m, resolve in found:
        if start < covered_to:
            continue
        covered_to = m.end()
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        resolved = resolve(groups, ctx)  # type: ignore[operator]
        phrase = m.group(0).strip()
        value = resolved.isoformat() if resolved else phrase
        deadlines.append(Deadline(m.start(), m.end(), phrase, value, bool(_MARKED.match(phrase))))
    return tuple(deadlines)


def find_deadline(
    text: str, meeting_date: date | None, next_meeting: date | None = None, recent: Sequence[date] = ()
) -> Deadline | None:
    """The deadline ``text`` states: the first expression introduced by a deadline word ("senest", "inden",
    "til", "på" …), else the first date said. Its value is an ISO date when it could be resolved against the
    meeting date (and the next meeting's date, and dates said just before), else the phrase as said."""
    deadlines = find_deadlines(text, DateContext(meeting_date, next_meeting, tuple(recent)))
    marked = [d for d in deadlines if d.marked]
    chosen = (marked or deadlines or [None])[0]
    if chosen is None or chosen.date is not None:
        return chosen
    # "til næste møde, det er den fjortende april": a date said right after explains an unresolved phrase.
    following = next((d for d in deadlines if d.start >= chosen.end and d.date), None)
    if following is not None and re.fullmatch(
        r"[\s,]*(?:det\s+er\s+|altså\s+|som\s+er\s+)?", text[chosen.end : following.start]
    ):
        return Deadline(
            chosen.start, following.end, text[chosen.start : following.end], following.value, True
        )
    return chosen


_EXPLICIT = re.compile(rf"(?i)\bden\b|\d|{_MONTH}")


def dates_in(text: str, meeting_date: date | None) -> list[tuple[int, date]]:
    """(position, date) of the explicit calendar dates said in ``text`` (a day with a month or a weekday)."""
    found = find_deadlines(text, DateContext(meeting_date))
    return [(d.start, date.fromisoformat(d.date)) for d in found if d.date and _EXPLICIT.search(d.phrase)]


_NEXT_MEETING = re.compile(
    r"(?i)\bnæste\s+(?:møde|gang|[\wæøå]*møde|[\wæøå]*samråd)\b|\bvi\s+ses\b|\bses\s+igen\b"
)
_NEAR_WORDS = 6  # the date must follow the cue closely ("næste møde er den fjortende april")


def next_meeting_date(texts: Sequence[str], meeting_date: date | None) -> date | None:
    """The next meeting's date, when the meeting said it ("næste møde er den fjortende april", "vi ses
    tirsdag den sjette oktober"): the date said most often right after such a phrase (the later one on a
    tie), after the meeting's own date."""
    if meeting_date is None:
        return None
    said: list[date] = []
    for text in texts:
        for cue in _NEXT_MEETING.finditer(text):
            for position, found in dates_in(text[cue.end() :], meeting_date):
                if (
                    found > meeting_date
                    and len(text[cue.end() : cue.end() + position].split()) <= _NEAR_WORDS
                ):
                    said.append(found)
                    break
    if not said:
        return None
    return max(said, key=lambda d: (said.count(d), max(i for i, s in enumerate(said) if s == d)))
