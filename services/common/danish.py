"""Danish calendar words: the minutes draft reads dates said aloud with them, the exports write dates;
and waits as a person reads them."""

from __future__ import annotations

import math
from datetime import date

# Lower-case, as Danish writes them; index 0 is January.
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
# Index 0 is Monday, as in ``date.weekday()``.
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def danish_date(value: date) -> str:
    """``value`` the Danish way: "18. november 2025"."""
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def danish_wait(seconds: int) -> str:
    """A wait the way a person says it: "1 sekund", "45 sekunder", "15 minutter" (rounded up)."""
    if seconds < 120:
        return f"{seconds} sekund" if seconds == 1 else f"{seconds} sekunder"
    return f"{math.ceil(seconds / 60)} minutter"
