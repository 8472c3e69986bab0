"""Swedish personal identity numbers (personnummer) and coordination numbers.

A personnummer is validated (format, date, Luhn check digit), stored whole and shown only
masked (`20190312-****`). It never appears in logs or error messages: errors name the
field and describe the problem, `repr` and `str` are masked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from essence.domain.errors import InvalidInput
from essence.domain.messages import N_

_FIELD = "personnummer"
_PATTERN = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$"
)
COORDINATION_DAY_OFFSET = 60


def luhn_check_digit(nine_digits: str) -> int:
    """Return the Luhn check digit for the nine digits YYMMDDNNN.

    Args:
        nine_digits: The short birth date and the three-digit serial number.

    Returns:
        The digit that makes the ten-digit number pass the Luhn test.
    """
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Personnummer:
    """A validated personnummer or samordningsnummer in the canonical form YYYYMMDDNNNC.

    Use `Personnummer.parse(text, today=...)`; construct directly only from stored values.
    """

    digits: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, *, today: date | None = None) -> Personnummer:
        """Validate `text` and return the canonical personnummer.

        Accepts YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC (century from `today`, `+` means
        100 years or older) and coordination numbers (day + 60).

        Args:
            text: What the user typed.
            today: Reference date for two-digit years and for rejecting future births.

        Raises:
            InvalidInput: naming the field, never echoing the number.
        """
        cleaned = text.strip().replace(" ", "")
        match = _PATTERN.match(cleaned)
        if match is None:
            raise InvalidInput(_FIELD, "", N_("must look like YYYYMMDD-NNNC (12 digits)"))
        yymmdd = match["yymmdd"]
        serial, check = match["serial"], int(match["check"])
        century = match["century"]
        reference = today or date.today()
        if century is None:
            year = _resolve_century(int(yymmdd[:2]), yymmdd[2:], match["sep"] == "+", reference)
        else:
            year = int(century + yymmdd[:2])
        if luhn_check_digit(yymmdd + serial) != check:
            raise InvalidInput(_FIELD, "", N_("the check digit does not match (Luhn)"))
        birth = _birth_date(year, int(yymmdd[2:4]), int(yymmdd[4:6]))
        if birth > reference:
            raise InvalidInput(_FIELD, "", N_("the birth date lies in the future"))
        return cls(f"{year:04d}{yymmdd[2:]}{serial}{check}")

    @property
    def is_coordination_number(self) -> bool:
        """True for a samordningsnummer (birth day + 60)."""
        return int(self.digits[6:8]) > COORDINATION_DAY_OFFSET

    @property
    def birth_date(self) -> date:
        """The birth date encoded in the number (day − 60 for coordination numbers)."""
        return _birth_date(int(self.digits[:4]), int(self.digits[4:6]), int(self.digits[6:8]))

    @property
    def masked(self) -> str:
        """The form shown everywhere: `YYYYMMDD-****` (the true date part, serial hidden)."""
        return f"{self.digits[:8]}-****"

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Personnummer({self.masked})"


def _resolve_century(yy: int, mmdd: str, hundred_plus: bool, today: date) -> int:
    year = today.year - (today.year - yy) % 100
    candidate_month, candidate_day = int(mmdd[:2]), int(mmdd[2:]) % COORDINATION_DAY_OFFSET or 1
    try:
        if date(year, candidate_month, min(candidate_day, 28)) > today:
            year -= 100
    except ValueError:
        pass
    return year - 100 if hundred_plus else year


def _birth_date(year: int, month: int, day: int) -> date:
    if day > COORDINATION_DAY_OFFSET:
        day -= COORDINATION_DAY_OFFSET
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput(_FIELD, "", N_("the date part is not a real date")) from None


def synthetic_personnummer(birth: date, serial: int) -> Personnummer:
    """Build a checksum-valid, made-up personnummer for demo and test data.

    Args:
        birth: The invented child's birth date.
        serial: Any number 0–999 (the three-digit serial).
    """
    yymmdd = birth.strftime("%y%m%d")
    body = f"{yymmdd}{serial % 1000:03d}"
    return Personnummer(f"{birth.year:04d}{yymmdd[2:]}{serial % 1000:03d}{luhn_check_digit(body)}")
