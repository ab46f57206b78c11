"""Danish calendar words: the minutes draft reads dates said aloud with them, the exports write dates."""

from __future__ import annotations

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
