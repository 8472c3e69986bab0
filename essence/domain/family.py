"""What a family needs from the plan: days they cannot come, an interpreter, a site or video.

Pure data, validated on construction; the planner honours it as hard rules and the family
letter says what was taken into account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from essence.domain.errors import InvalidInput
from essence.domain.geography import municipality
from essence.domain.messages import N_

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")
#: Longest interpreter addition to one step, minutes.
INTERPRETER_MINUTES_MAX = 120


@dataclass(frozen=True)
class FamilyNeeds:
    """A family's needs, honoured as hard constraints by the planner.

    Attributes:
        blocked_weekdays: Weekdays the family cannot come (0 = Monday .. 6 = Sunday).
        blocked_dates: Calendar days the family cannot come.
        interpreter_language: Language of the interpreter ("" when none is needed).
        interpreter_minutes: Extra minutes added to every family-facing step when an
            interpreter takes part (0..120).
        preferred_site: Clinic site the family prefers ("" for the nearest one).
        video_preferred: Hold the steps that allow video by video.
    """

    blocked_weekdays: frozenset[int] = field(default_factory=frozenset)
    blocked_dates: frozenset[date] = field(default_factory=frozenset)
    interpreter_language: str = ""
    interpreter_minutes: int = 0
    preferred_site: str = ""
    video_preferred: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocked_weekdays", frozenset(self.blocked_weekdays))
        object.__setattr__(self, "blocked_dates", frozenset(self.blocked_dates))
        for weekday in self.blocked_weekdays:
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise InvalidInput("blocked weekday", weekday, N_("must be 0 (Monday) .. 6"))
        if len(self.blocked_weekdays) >= 5 and all(d in self.blocked_weekdays for d in range(5)):
            raise InvalidInput(
                "blocked weekdays", self.describe_weekdays(), N_("blocks every weekday")
            )
        if not 0 <= self.interpreter_minutes <= INTERPRETER_MINUTES_MAX:
            raise InvalidInput(
                "interpreter minutes",
                self.interpreter_minutes,
                N_("must be 0..%(most)s", most=INTERPRETER_MINUTES_MAX),
            )
        language = self.interpreter_language.strip()
        if len(language) > 40:
            raise InvalidInput(
                "interpreter language", language, N_("at most %(most)s characters", most=40)
            )
        object.__setattr__(self, "interpreter_language", language)
        if self.interpreter_minutes and not language:
            raise InvalidInput(
                "interpreter minutes", self.interpreter_minutes, N_("name a language")
            )
        if self.preferred_site:
            object.__setattr__(self, "preferred_site", municipality(self.preferred_site).name)

    @property
    def needs_interpreter(self) -> bool:
        """True when an interpreter takes part in family-facing steps."""
        return bool(self.interpreter_language)

    @property
    def is_empty(self) -> bool:
        """True when nothing is asked for."""
        return self == FamilyNeeds()

    def blocks(self, day: date) -> bool:
        """True when the family cannot come on `day`."""
        return day.weekday() in self.blocked_weekdays or day in self.blocked_dates

    def describe_weekdays(self) -> str:
        """Blocked weekdays as ``fri,sat``."""
        return ",".join(WEEKDAY_NAMES[d] for d in sorted(self.blocked_weekdays))

    def taken_into_account(self) -> list[str]:
        """Plain sentences for the family letter, one per need."""
        lines = []
        if self.blocked_weekdays:
            names = [
                _LONG_WEEKDAYS[d] if d < 6 else "Sundays" for d in sorted(self.blocked_weekdays)
            ]
            lines.append("You cannot come on " + _join(names) + ": no visit is on those days.")
        if self.blocked_dates:
            days = ", ".join(d.isoformat() for d in sorted(self.blocked_dates))
            lines.append(f"You cannot come on {days}: no visit is on those dates.")
        if self.interpreter_language:
            lines.append(
                f"An interpreter ({self.interpreter_language}) takes part; each meeting with "
                f"you is {self.interpreter_minutes} minutes longer for it."
            )
        if self.preferred_site:
            lines.append(f"Visits are at the clinic in {self.preferred_site}, as you asked.")
        if self.video_preferred:
            lines.append("Meetings that can be held by video are held by video.")
        return lines


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse ``fri`` or ``mon,fri`` (English three-letter names) into weekday numbers."""
    days = set()
    for part in text.split(","):
        name = part.strip().lower()[:3]
        if not name:
            continue
        if name not in WEEKDAY_NAMES:
            raise InvalidInput("blocked weekday", part.strip(), N_("use mon,tue,wed,thu,fri"))
        days.add(WEEKDAY_NAMES.index(name))
    return frozenset(days)


def parse_dates(text: str) -> frozenset[date]:
    """Parse ``2027-04-02,2027-04-09`` into dates."""
    days = set()
    for part in text.split(","):
        cleaned = part.strip()
        if not cleaned:
            continue
        try:
            days.add(date.fromisoformat(cleaned))
        except ValueError:
            raise InvalidInput("blocked date", cleaned, N_("expected YYYY-MM-DD")) from None
    return frozenset(days)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
