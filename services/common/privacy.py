"""CPR number detection and masking.

Every service passes text that may hold a CPR number through here before it is logged, shown in a preview or
exported, and the logging filter below masks anything that slips through into a log record.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

CPR_MASK = "[CPR]"

# DDMMYYXXXX, or with one dash, en dash or (no-break) space after the date as people type it
# ("CPR-0707614285", "070761 4285", "070761-4285-"); not glued to other digits, directly or by a dash, so
# account, case (2024-010190-1234) and phone numbers do not match halfway.
_CPR_PATTERN = re.compile(
    r"(?<!\d)(?<!\d[-\u2013])(\d{2})(\d{2})(\d{2})[-\u2013 \u00a0]?(\d{4})(?!\d)(?![-\u2013]\d)"
)
# kai's own ids (uuid4, 32 hex digits or dashed): about 1 in 900 holds ten digits that read as a CPR number.
_GENERATED_ID = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})(?![0-9A-Fa-f])"
)


@dataclass(frozen=True)
class CprMatch:
    start: int
    end: int
    birth_date: date


def _century(year2: int, seventh_digit: int) -> int:
    """The century of a CPR birth year, from the 7th digit (CPR-kontoret's table)."""
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year2 <= 36 else 1900
    return 2000 if year2 <= 57 else 1800


def _birth_date(day: str, month: str, year2: str, serial: str) -> date | None:
    year = _century(int(year2), int(serial[0])) + int(year2)
    try:
        return date(year, int(month), int(day))
    except ValueError:
        return None


def find_cpr_numbers(text: str) -> list[CprMatch]:
    """CPR numbers in ``text``: ten digits (optionally DDMMYY-XXXX) whose first six form a real date."""
    ids = [m.span() for m in _GENERATED_ID.finditer(text)]
    matches = []
    for m in _CPR_PATTERN.finditer(text):
        born = _birth_date(*m.groups())
        if born is not None and not any(start <= m.start() and m.end() <= end for start, end in ids):
            matches.append(CprMatch(m.start(), m.end(), born))
    return matches


def contains_cpr(text: str) -> bool:
    return bool(find_cpr_numbers(text))


def mask_cpr(text: str) -> str:
    """``text`` with every CPR number replaced by ``[CPR]``."""
    found = find_cpr_numbers(text)
    if not found:
        return text
    parts, last = [], 0
    for m in found:
        parts.append(text[last : m.start])
        parts.append(CPR_MASK)
        last = m.end
    parts.append(text[last:])
    return "".join(parts)


class CprMaskingFilter(logging.Filter):
    """Masks CPR numbers in every log record, whatever logger wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_cpr(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(level: int = logging.INFO) -> None:
    """Attach the CPR filter to every handler of the root logger (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, CprMaskingFilter) for f in handler.filters):
            handler.addFilter(CprMaskingFilter())
