from datetime import date

import pytest

from services.common.danish import danish_date


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2025, 11, 18), "18. november 2025"),
        (date(2026, 1, 1), "1. januar 2026"),
        (date(2024, 3, 31), "31. marts 2024"),
    ],
)
def test_danish_date(value: date, text: str) -> None:
    assert danish_date(value) == text
