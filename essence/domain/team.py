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
from essence.domain.messages import N_
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
                "absence", f"{self.first_day}..{self.last_day}", N_("ends before it starts")
            )

    def covers(self, day: date) -> bool:
        """True when `day` falls inside the absence."""
        return self.first_day <= day <= self.last_day


#: Working hours of a day when none are given: 08:00-17:00 (minutes after midnight).
DEFAULT_HOURS = (480, 1020)
#: Lunch break when none is given: 12:00, 30 minutes.
DEFAULT_LUNCH = (720, 30)
#: The lunch break may move this many minutes either way around its time.
LUNCH_SLACK_MINUTES = 60


def working_span(start: int, end: int, lunch: tuple[int, int, int] | None) -> int:
    """Minutes from `start` to `end` (minutes after midnight) less the lunch break, if any
    (`Roster.lunch_on`: earliest start, latest end, minutes)."""
    return max(0, end - start - (lunch[2] if lunch else 0))


@dataclass(frozen=True)
class Roster:
    """Clinical minutes and working hours per weekday (Monday first), and a lunch break.

    Attributes:
        minutes_by_weekday: Seven numbers, minutes of ESSENCE work Monday..Sunday.
        hours: Seven (start, end) pairs, minutes after midnight: appointments and travel
            fit between them (default 08:00-17:00).
        lunch: (time, minutes) of the daily lunch break: that many free minutes within an
            hour either side of the time (default 12:00 for 30 minutes; 0 for none).
    """

    minutes_by_weekday: tuple[int, ...] = (360, 360, 360, 360, 360, 0, 0)
    hours: tuple[tuple[int, int], ...] = (DEFAULT_HOURS,) * 7
    lunch: tuple[int, int] = DEFAULT_LUNCH

    def __post_init__(self) -> None:
        if len(self.minutes_by_weekday) != 7:
            raise InvalidInput("roster", self.describe(), N_("needs seven weekday values"))
        for name, minutes in zip(WEEKDAYS, self.minutes_by_weekday, strict=True):
            if minutes < 0 or minutes > MINUTES_PER_DAY_MAX:
                raise InvalidInput(f"roster.{name}", minutes, N_("minutes must be 0..1440"))
        object.__setattr__(self, "hours", tuple(tuple(h) for h in self.hours))
        if len(self.hours) != 7:
            raise InvalidInput("roster hours", len(self.hours), N_("needs seven weekday values"))
        for name, (start, end) in zip(WEEKDAYS, self.hours, strict=True):
            if not 0 <= start < end <= MINUTES_PER_DAY_MAX:
                raise InvalidInput(
                    f"roster.{name} hours",
                    f"{_clock(start)}-{_clock(end)}",
                    N_("must start before end"),
                )
        start, minutes = self.lunch
        if not (0 <= start < MINUTES_PER_DAY_MAX and 0 <= minutes <= 180):
            raise InvalidInput("lunch", f"{_clock(start)}+{minutes}", N_("expected HH:MM+0..180"))

    def window(self, weekday: int) -> tuple[int, int]:
        """(start, end) of the working day on a weekday, minutes after midnight."""
        return self.hours[weekday]

    def lunch_on(self, weekday: int) -> tuple[int, int, int] | None:
        """(earliest start, latest end, minutes) of the lunch break on a weekday: `minutes`
        free minutes somewhere within an hour either side of the lunch time, None when
        there is no lunch that day."""
        start, end = self.hours[weekday]
        lunch_start, minutes = self.lunch
        low = max(start, lunch_start - LUNCH_SLACK_MINUTES)
        high = min(end, lunch_start + minutes + LUNCH_SLACK_MINUTES)
        if minutes == 0 or high - low < minutes:
            return None
        return low, high, minutes

    def span_minutes(self, weekday: int) -> int:
        """Minutes between start and end of the working day, lunch excluded."""
        return working_span(*self.hours[weekday], self.lunch_on(weekday))

    @classmethod
    def uniform(cls, minutes_per_weekday: int, days: int = 5) -> Roster:
        """The same minutes on the first `days` weekdays (Mon–Fri by default)."""
        if minutes_per_weekday < 0:
            raise InvalidInput("roster", minutes_per_weekday, N_("minutes must not be negative"))
        return cls(tuple(minutes_per_weekday if i < days else 0 for i in range(7)))

    @classmethod
    def parse(cls, text: str) -> Roster:
        """Parse `360` (Mon–Fri), `mon=360,tue=240` or seven comma-separated numbers.

        Working hours and lunch may follow: `mon=480@07:30-16:00,tue=480,lunch=11:30+45`
        or `hours=07:30-16:00` for every weekday (defaults 08:00-17:00, lunch 12:00+30).
        """
        cleaned = text.strip()
        try:
            if "=" in cleaned:
                return cls._parse_named(text, cleaned)
            numbers = [int(part) for part in cleaned.split(",")]
        except ValueError:
            raise InvalidInput(
                "roster", text, N_("expected minutes like 360 or mon=360,tue=240")
            ) from None
        if len(numbers) == 1:
            return cls.uniform(numbers[0])
        return cls(
            tuple(numbers + [0] * (7 - len(numbers))) if len(numbers) <= 7 else tuple(numbers)
        )

    @classmethod
    def _parse_named(cls, text: str, cleaned: str) -> Roster:
        values = dict.fromkeys(WEEKDAYS, 0)
        hours = dict.fromkeys(WEEKDAYS, DEFAULT_HOURS)
        lunch = DEFAULT_LUNCH
        for part in cleaned.split(","):
            key, value = (p.strip() for p in part.split("="))
            name = key.lower()
            if name == "lunch":
                clock, _, minutes = value.partition("+")
                lunch = (parse_clock(clock), int(minutes or "30"))
                continue
            if name == "hours":
                hours = dict.fromkeys(WEEKDAYS, _parse_hours(value))
                continue
            if name[:3] not in values:
                raise InvalidInput("roster", text, N_("unknown weekday %(day)s", day=key))
            minutes, _, window = value.partition("@")
            values[name[:3]] = int(minutes)
            if window:
                hours[name[:3]] = _parse_hours(window)
        return cls(tuple(values[d] for d in WEEKDAYS), tuple(hours[d] for d in WEEKDAYS), lunch)

    def describe_hours(self) -> str:
        """Working hours and lunch as text (`mon=08:00-17:00,…,lunch=12:00+30`)."""
        days = [
            f"{d}={_clock(s)}-{_clock(e)}" for d, (s, e) in zip(WEEKDAYS, self.hours, strict=True)
        ]
        return ",".join([*days, f"lunch={_clock(self.lunch[0])}+{self.lunch[1]}"])

    @classmethod
    def with_hours_text(cls, minutes: tuple[int, ...], text: str) -> Roster:
        """A roster from stored minutes and `describe_hours()` text ("" for the defaults)."""
        if not text:
            return cls(minutes)
        hours = []
        lunch = DEFAULT_LUNCH
        for part in text.split(","):
            key, value = part.split("=")
            if key == "lunch":
                clock, _, extra = value.partition("+")
                lunch = (parse_clock(clock), int(extra))
            else:
                hours.append(_parse_hours(value))
        return cls(minutes, tuple(hours), lunch)

    @property
    def weekly_minutes(self) -> int:
        """Clinical minutes in a full week."""
        return sum(self.minutes_by_weekday)

    def describe(self) -> str:
        """Compact text form, e.g. `mon=360,tue=360,…`."""
        return ",".join(
            f"{d}={m}" for d, m in zip(WEEKDAYS, self.minutes_by_weekday, strict=False) if m
        )


def parse_clock(text: str) -> int:
    """Minutes after midnight of ``HH:MM`` (24-hour clock)."""
    try:
        hours, minutes = text.strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise InvalidInput("time", text, N_("expected HH:MM")) from None
    if not 0 <= value <= MINUTES_PER_DAY_MAX or not 0 <= int(minutes) < 60:
        raise InvalidInput("time", text, N_("expected HH:MM between 00:00 and 24:00"))
    return value


def _parse_hours(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    return parse_clock(start), parse_clock(end)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


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
            raise InvalidInput("clinician id", self.id, N_("use letters, digits, - and _"))
        self.base = municipality(self.base).name
        if self.daily_cap_minutes <= 0:
            raise InvalidInput("daily cap", self.daily_cap_minutes, N_("minutes must be positive"))

    def minutes_on(self, day: date) -> int:
        """Clinical minutes available on `day`: roster, capped, 0 on holidays and absences."""
        if not is_working_day(day) and day.weekday() < 5:
            return 0
        if any(absence.covers(day) for absence in self.absences):
            return 0
        return min(self.roster.minutes_by_weekday[day.weekday()], self.daily_cap_minutes)

    def hours_on(self, day: date) -> tuple[int, int]:
        """(start, end) of the working day on `day`, minutes after midnight."""
        return self.roster.window(day.weekday())

    def lunch_on(self, day: date) -> tuple[int, int, int] | None:
        """(earliest start, latest end, minutes) of the lunch break on `day`, or None."""
        return self.roster.lunch_on(day.weekday())
