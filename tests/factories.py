"""Small factories for tests: synthetic referrals, clocks and service contexts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime

from essence.adapters.pathway_files import default_template
from essence.domain.calendar import at_local
from essence.domain.case import Case, Consent
from essence.domain.personnummer import Personnummer, synthetic_personnummer
from essence.services.cases import Referral

_serials = itertools.count(100)


@dataclass
class FixedClock:
    """A clock tests move by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, hour: int = 10) -> None:
        self.now = at_local(day, hour)


def personnummer(birth: date = date(2021, 5, 17)) -> Personnummer:
    """A checksum-valid, made-up personnummer (a new serial each call)."""
    return synthetic_personnummer(birth, next(_serials))


def referral(**overrides: object) -> Referral:
    """A synthetic referral with both guardians' consent given; override any field."""
    values: dict[str, object] = {
        "personnummer": personnummer().digits,
        "child_name": "Testa Testsson",
        "municipality": "Umeå",
        "referring_unit": "BHV Ålidhem",
        "referral_date": date(2026, 3, 2),
        "consenting": 2,
    }
    values.update(overrides)
    return Referral(**values)  # type: ignore[arg-type]


def new_case(
    *, consenting: int = 2, referral_date: date = date(2026, 3, 2), case_id: str = "c-test"
) -> Case:
    """A case of the default pathway opened on the referral date."""
    return Case.open(
        case_id=case_id,
        personnummer=personnummer(),
        child_name="Testa Testsson",
        municipality="Umeå",
        referring_unit="BHV",
        referral_date=referral_date,
        template=default_template(),
        consent=Consent.given_by(2, consenting, referral_date),
        now=at_local(referral_date, 9),
    )


def migrate(database_url: str, target: str) -> None:
    """Move the database at `database_url` to `target`: ``head`` upgrades, any other
    revision (an id, or ``rev-1``) downgrades; through the adapter's own migration calls."""
    from essence import bootstrap
    from essence.adapters.migrations import downgrade, upgrade

    engine = bootstrap.engine_for(database_url)
    (upgrade if target == "head" else downgrade)(engine, target)
