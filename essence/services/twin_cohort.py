"""The twin's children: the simulator's referrals turned into invented children and referrals.

Referral times, municipality, gender and age band come from the simulator's referral model
(`essence.simulation.referrals.draw_referrals`) on the replication's seeded streams; the rest
of an invented child (birth date inside the age band, a made-up personnummer whose serial
carries the gender, a name) and the guardians' consent delays come from the twin's own
seeded generator, so the simulator's streams stay exactly as the simulator uses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from essence.domain.personnummer import synthetic_personnummer
from essence.simulation.model import Model
from essence.simulation.referrals import Referrals

GIRL_NAMES = ("Alva", "Elsa", "Maja", "Wilma", "Saga", "Ebba", "Stella", "Alice", "Vera", "Freja")
BOY_NAMES = ("Noah", "Hugo", "William", "Liam", "Elias", "Lucas", "Oliver", "Alfred", "Nils")
LAST_NAMES = ("Testsson", "Påhittsson", "Exempelberg", "Provlund", "Fiktivsson", "Dummström")
REFERRING_UNITS = ("BHV", "BUP", "BUC", "Hälsocentral", "Förskola via BHV")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ConsentModel:
    """When the guardians consent (both are needed, OSL 25:11).

    Attributes:
        guardians_two_share: Share of children with two guardians with custody (0..1).
        at_referral_share: Share of guardians who have consented when the referral arrives.
        mean_delay_days: Mean days until a guardian who had not consented does (geometric).
    """

    guardians_two_share: float = 0.9
    at_referral_share: float = 0.6
    mean_delay_days: float = 6.0


@dataclass(frozen=True)
class TwinChild:
    """One invented child of the twin (no real person).

    Attributes:
        index: Position in the referral arrays (the simulator's case number).
        referral_date: Day the referral arrived (Europe/Stockholm calendar).
        referral_day: Simulation day of the referral (days since the scenario start, float).
        municipality: Home municipality name.
        boy: True for a boy (the personnummer's serial is odd).
        age_band: Index of the scenario's age band.
        personnummer: Made-up, checksum-valid digits.
        child_name: Invented name.
        referring_unit: Who referred.
        guardians: Guardians with custody (1 or 2).
        consent_days: Per guardian, days after the referral their consent arrives (0 = at once).
        in_cohort: Referred inside the scored window (after the warm-up).
    """

    index: int
    referral_date: date
    referral_day: float
    municipality: str
    boy: bool
    age_band: int
    personnummer: str
    child_name: str
    referring_unit: str
    guardians: int
    consent_days: tuple[int, ...]
    in_cohort: bool


def twin_children(
    model: Model,
    referrals: Referrals,
    window: tuple[float, float],
    rng: np.random.Generator,
    consent: ConsentModel | None = None,
) -> list[TwinChild]:
    """Invent one child per simulated referral (same order, same attributes).

    Args:
        model: The compiled scenario (municipality names, age bands, start date).
        referrals: The simulator's referrals of the replication.
        window: Scored window (first day, end day) in simulation days.
        rng: The twin's own generator for birth dates, serials, names and consent delays.
        consent: How and when guardians consent.
    """
    consent = consent or ConsentModel()
    bands = [_band_years(name) for name in model.scenario.referrals.age_bands]
    start = model.scenario.start_date
    used: set[str] = set()
    children = []
    for i, day in enumerate(referrals.days.tolist()):
        referral_date = start + timedelta(days=math.floor(day))
        boy = bool(referrals.boy[i])
        band = int(referrals.age_band[i])
        low, high = bands[band]
        youngest, oldest = max(1, round(low * DAYS_PER_YEAR)), round(high * DAYS_PER_YEAR)
        age_days = int(rng.integers(youngest, oldest))
        pnr = _unique_personnummer(referral_date - timedelta(days=age_days), boy, rng, used)
        first = GIRL_NAMES if not boy else BOY_NAMES
        guardians = 2 if rng.random() < consent.guardians_two_share else 1
        children.append(
            TwinChild(
                index=i,
                referral_date=referral_date,
                referral_day=float(day),
                municipality=model.municipalities[int(referrals.municipality[i])],
                boy=boy,
                age_band=band,
                personnummer=pnr,
                child_name=f"{first[int(rng.integers(len(first)))]} "
                f"{LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]}",
                referring_unit=REFERRING_UNITS[int(rng.integers(len(REFERRING_UNITS)))],
                guardians=guardians,
                consent_days=tuple(_consent_delay(consent, rng) for _ in range(guardians)),
                in_cohort=window[0] <= day < window[1],
            )
        )
    return children


def _band_years(name: str) -> tuple[float, float]:
    """Ages covered by a band such as ``3-5`` (years, the upper year included)."""
    try:
        low, high = (float(part) for part in name.split("-"))
    except ValueError:
        return 3.0, 6.0
    return low, high + 1


def _unique_personnummer(birth: date, boy: bool, rng: np.random.Generator, used: set[str]) -> str:
    serial = int(rng.integers(0, 500)) * 2 + (1 if boy else 0)
    while True:
        digits = synthetic_personnummer(birth, serial).digits
        if digits not in used:
            used.add(digits)
            return digits
        serial = (serial + 2) % 1000


def _consent_delay(consent: ConsentModel, rng: np.random.Generator) -> int:
    if rng.random() < consent.at_referral_share:
        return 0
    p = 1.0 / max(consent.mean_delay_days, 1.0)
    return int(rng.geometric(p))
