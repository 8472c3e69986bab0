"""Personnummer: format, date and Luhn validation, coordination numbers, masking."""

from datetime import date

import pytest

from essence.domain.errors import InvalidInput
from essence.domain.personnummer import Personnummer, luhn_check_digit, synthetic_personnummer

TODAY = date(2026, 11, 23)


def test_a_valid_number_is_stored_canonically_and_shown_masked() -> None:
    pnr = synthetic_personnummer(date(2019, 3, 12), 239)
    parsed = Personnummer.parse(f"{pnr.digits[:8]}-{pnr.digits[8:]}", today=TODAY)
    assert parsed.digits == pnr.digits
    assert parsed.masked == "20190312-****"
    assert str(parsed) == "20190312-****"
    assert pnr.digits[8:] not in repr(parsed)


def test_the_luhn_digit_matches_the_textbook_example() -> None:
    # 811218-987: the check digit of the Skatteverket example 811218-9876 is 6.
    assert luhn_check_digit("811218987") == 6


def test_a_wrong_check_digit_is_rejected_without_echoing_the_number() -> None:
    good = synthetic_personnummer(date(2020, 1, 1), 5).digits
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as error:
        Personnummer.parse(bad, today=TODAY)
    assert "Luhn" in str(error.value)
    assert bad not in str(error.value) and bad[8:] not in str(error.value)


def test_an_impossible_date_is_rejected() -> None:
    body = "0202309" + "12"  # 30 February
    digits = "20" + body[:6] + body[6:9] + str(luhn_check_digit(body[:9]))
    with pytest.raises(InvalidInput, match="not a real date"):
        Personnummer.parse(digits, today=TODAY)


def test_a_birth_in_the_future_is_rejected() -> None:
    pnr = synthetic_personnummer(date(2027, 1, 1), 1)
    with pytest.raises(InvalidInput, match="future"):
        Personnummer.parse(pnr.digits, today=TODAY)


def test_a_coordination_number_has_day_plus_60() -> None:
    body = "190372" + "123"  # 12 March 2019 as a samordningsnummer
    digits = "20" + body + str(luhn_check_digit(body))
    parsed = Personnummer.parse(digits, today=TODAY)
    assert parsed.is_coordination_number
    assert parsed.birth_date == date(2019, 3, 12)


def test_the_short_form_gets_its_century_from_today() -> None:
    pnr = synthetic_personnummer(date(2021, 6, 30), 77)
    short = pnr.digits[2:8] + "-" + pnr.digits[8:]
    assert Personnummer.parse(short, today=TODAY).digits == pnr.digits


@pytest.mark.parametrize("text", ["", "abc", "2019031212", "20190312-12345"])
def test_malformed_text_is_rejected(text: str) -> None:
    with pytest.raises(InvalidInput, match="personnummer"):
        Personnummer.parse(text, today=TODAY)
