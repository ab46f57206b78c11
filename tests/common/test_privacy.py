import logging

import pytest

from services.common.privacy import CprMaskingFilter, contains_cpr, find_cpr_numbers, mask_cpr


@pytest.mark.parametrize(
    ("text", "born"),
    [
        ("Barnets CPR er 010190-1234.", "1990-01-01"),
        ("cpr 0101901234 i sagen", "1990-01-01"),
        ("født 290200-4123", "2000-02-29"),  # 7th digit 4, year 00 → 2000, a leap year
        ("311299-0123", "1999-12-31"),
        ("010158-5123", "1858-01-01"),  # 7th digit 5-8 and year > 57 → 1800s
        # Variants people type, each seen unmasked in kai before (issue 11, finding 5).
        ("CPR-0707614285", "1961-07-07"),
        ("cpr.nr. 070761 4285 i sagen", "1961-07-07"),
        ("barnet 070761-4285- mor", "1961-07-07"),
        ("070761\u00a04285", "1961-07-07"),  # a no-break space from a word processor
        ("070761–4285", "1961-07-07"),  # an en dash
    ],
)
def test_valid_cpr_numbers_are_found_with_their_birth_date(text: str, born: str) -> None:
    [match] = find_cpr_numbers(text)
    assert match.birth_date.isoformat() == born
    assert "[CPR]" in mask_cpr(text)
    assert not any(ch.isdigit() for ch in mask_cpr(text).replace("[CPR]", ""))


@pytest.mark.parametrize(
    "text",
    [
        "320190-1234",  # day 32
        "011390-1234",  # month 13
        "290201-1234",  # 29 February 1901 did not exist
        "tlf. 12345678",  # eight digits
        "konto 12345678901",  # eleven digits: not a CPR number
        "sag 2024-010190-1234",  # glued to other digits with a dash
        "sag 010190-1234-2024",  # the same, on the other side
        "mødet 2026-12-06 kl. 10.30",  # ISO date
        "tlf. 70 70 12 34 eller +45 43 59 10 00",  # phone numbers
        "beløb 1.234.567,00 kr. og 120000 kr.",  # amounts
        "ref 4c1d2e3f0707614285abcdef01234567",  # kai's own id (uuid4().hex) with ten digits inside
        "ref 0707614285abcdef0123456789abcdef",  # ... also at its start
        "id 12345678-0707-4614-8285-0123456789ab",  # a dashed uuid
    ],
)
def test_invalid_dates_and_other_numbers_are_not_cpr(text: str) -> None:
    assert not contains_cpr(text)
    assert mask_cpr(text) == text


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kai.test.privacy")
    caplog.handler.addFilter(CprMaskingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("Mail om barn med cpr %s modtaget", "0101901234")
    assert "0101901234" not in caplog.text
    assert "[CPR]" in caplog.text
