"""The team: clinicians with profession, organisation, base and weekly roster.

A roster gives the clinical minutes a clinician has for ESSENCE work on each weekday;
absences (vacation, courses, sick leave) remove whole days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from essence.domain.calendar import is_working_day
from essence.domain.errors import InvalidInput
from essence.domain.geography import municipality
from essence.domain.professions import Organisation, Profession

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY_MAX = 24 * 60


@dataclass(frozen=True)
class Absence:
    """Days a clinician is away, both ends included (vacation, course, sick leave)."""

    first_day: date
    last_day: date
    reason: str = "absence"

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise InvalidInput(
                "absence", f"{self.first_day}..{self.last_day}", "ends before it starts"
            )

    def covers(self, day: date) -> bool:
        """True when `day` falls inside the absence."""
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class Roster:
    """Clinical minutes available per weekday (Monday first).

    Attributes:
        minutes_by_weekday: Seven numbers, minutes of ESSENCE work Monday..Sunday.
    """

    minutes_by_weekday: tuple[int, ...] = (360, 360, 360, 360, 360, 0, 0)

    def __post_init__(self) -> None:
        if len(self.minutes_by_weekday) != 7:
            raise InvalidInput("roster", self.describe(), "needs seven weekday values")
        for name, minutes in zip(WEEKDAYS, self.minutes_by_weekday, strict=True):
            if minutes < 0 or minutes > MINUTES_PER_DAY_MAX:
                raise InvalidInput(f"roster.{name}", minutes, "minutes must be 0..1440")

    @classmethod
    def uniform(cls, minutes_per_weekday: int, days: int = 5) -> Roster:
        """The same minutes on the first `days` weekdays (Mon–Fri by default)."""
        if minutes_per_weekday < 0:
            raise InvalidInput("roster", minutes_per_weekday, "minutes must not be negative")
        return cls(tuple(minutes_per_weekday if i < days else 0 for i in range(7)))

    @classmethod
    def parse(cls, text: str) -> Roster:
        """Parse `360` (Mon–Fri), `mon=360,tue=240` or seven comma-separated numbers."""
        cleaned = text.strip()
        try:
            if "=" in cleaned:
                values = dict.fromkeys(WEEKDAYS, 0)
                for part in cleaned.split(","):
                    day, minutes = part.split("=")
                    if day.strip().lower()[:3] not in values:
                        raise InvalidInput("roster", text, f"unknown weekday {day.strip()}")
                    values[day.strip().lower()[:3]] = int(minutes)
                return cls(tuple(values[d] for d in WEEKDAYS))
            numbers = [int(part) for part in cleaned.split(",")]
        except ValueError:
            raise InvalidInput(
                "roster", text, "expected minutes like 360 or mon=360,tue=240"
            ) from None
        if len(numbers) == 1:
            return cls.uniform(numbers[0])
        return cls(
            tuple(numbers + [0] * (7 - len(numbers))) if len(numbers) <= 7 else tuple(numbers)
        )

    @property
    def weekly_minutes(self) -> int:
        """Clinical minutes in a full week."""
        return sum(self.minutes_by_weekday)

    def describe(self) -> str:
        """Compact text form, e.g. `mon=360,tue=360,…`."""
        return ",".join(
            f"{d}={m}" for d, m in zip(WEEKDAYS, self.minutes_by_weekday, strict=False) if m
        )


@dataclass
class Clinician:
    """A member of the ESSENCE team.

    Attributes:
        id: Short staff id used on the command line (e.g. ``psy-1``); not personal data.
        name: Display name (synthetic in demo data).
        profession: What the clinician does in the pathway.
        organisation: Which care organisation employs them.
        base: Municipality of the clinician's base (Umeå for the central team).
        roster: Weekly clinical minutes.
        absences: Vacation and other absences.
        daily_cap_minutes: Upper limit of clinical minutes on any day.
        active: False once the clinician has left the team.
    """

    id: str
    name: str
    profession: Profession
    organisation: Organisation
    base: str = "Umeå"
    roster: Roster = field(default_factory=Roster)
    absences: list[Absence] = field(default_factory=list)
    daily_cap_minutes: int = 360
    active: bool = True

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("-", "").replace("_", "").isalnum():
            raise InvalidInput("clinician id", self.id, "use letters, digits, - and _")
        self.base = municipality(self.base).name
        if self.daily_cap_minutes <= 0:
            raise InvalidInput("daily cap", self.daily_cap_minutes, "minutes must be positive")

    def minutes_on(self, day: date) -> int:
        """Clinical minutes available on `day`: roster, capped, 0 on holidays and absences."""
        if not is_working_day(day) and day.weekday() < 5:
            return 0
        if any(absence.covers(day) for absence in self.absences):
            return 0
        return min(self.roster.minutes_by_weekday[day.weekday()], self.daily_cap_minutes)
