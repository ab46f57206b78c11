"""Danish calendar and number words: the minutes draft reads dates and numbers said aloud with them, the WER
normaliser reads number words as digits, the exports write dates; and waits as a person reads them."""

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


# Number words as Danish says them: units, ten to nineteen, the tens in their short and old long forms.
UNIT_WORDS = {
    "en": 1,
    "et": 1,
    "ét": 1,
    "to": 2,
    "tre": 3,
    "fire": 4,
    "fem": 5,
    "seks": 6,
    "syv": 7,
    "otte": 8,
    "ni": 9,
}
TEEN_WORDS = {
    "ti": 10,
    "elleve": 11,
    "tolv": 12,
    "tretten": 13,
    "fjorten": 14,
    "femten": 15,
    "seksten": 16,
    "sytten": 17,
    "atten": 18,
    "nitten": 19,
}
TENS_WORDS = {
    "tyve": 20,
    "tredive": 30,
    "tredve": 30,
    "fyrre": 40,
    "fyrretyve": 40,
    "halvtreds": 50,
    "halvtredsindstyve": 50,
    "tres": 60,
    "tresindstyve": 60,
    "halvfjerds": 70,
    "halvfjerdsindstyve": 70,
    "firs": 80,
    "firsindstyve": 80,
    "halvfems": 90,
    "halvfemsindstyve": 90,
}
# Every one-word number below 100, the compounds included ("niogtyve" = 29: the unit before the tens).
WORDS_BELOW_HUNDRED: dict[str, int] = {
    **UNIT_WORDS,
    **TEEN_WORDS,
    **TENS_WORDS,
    **{f"{u}og{t}": uv + tv for u, uv in UNIT_WORDS.items() for t, tv in TENS_WORDS.items()},
}


def danish_date(value: date) -> str:
    """``value`` the Danish way: "18. november 2025"."""
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def danish_wait(seconds: int) -> str:
    """A wait the way a person says it: "1 sekund", "45 sekunder", "15 minutter" (rounded up)."""
    if seconds < 120:
        return f"{seconds} sekund" if seconds == 1 else f"{seconds} sekunder"
    return f"{math.ceil(seconds / 60)} minutter"
