"""Working days in Sweden: weekends and public holidays, timezone Europe/Stockholm."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def now_stockholm() -> datetime:
    """The current time as a timezone-aware datetime in Europe/Stockholm."""
    return datetime.now(UTC).astimezone(STOCKHOLM)


def local_date(moment: datetime) -> date:
    """The calendar date in Stockholm of an aware datetime."""
    return moment.astimezone(STOCKHOLM).date()


def local_minute(moment: datetime) -> int:
    """Minutes after midnight in Stockholm of an aware datetime (seconds rounded up, so
    nothing planned "from now" starts in the past)."""
    local = moment.astimezone(STOCKHOLM)
    return local.hour * 60 + local.minute + (1 if local.second or local.microsecond else 0)


def at_local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware datetime for a clock time on a Stockholm calendar day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


@lru_cache(maxsize=64)
def _swedish_holidays(year: int) -> frozenset[date]:
    import holidays  # loaded on first use: commands that never ask about a day skip it

    # Public holidays plus the de facto ones clinics close on (Midsummer, Christmas and
    # New Year's Eve); the half days ("from 2pm") stay working days.
    public = holidays.country_holidays("SE", years=year, include_sundays=False)
    de_facto = holidays.country_holidays("SE", years=year, categories=("de_facto",))
    closed = {day for day, name in de_facto.items() if "(from 2pm)" not in name}
    return frozenset(set(public.keys()) | closed)


def is_public_holiday(day: date) -> bool:
    """True on a Swedish public holiday (röd dag), e.g. midsummer eve, Christmas Eve."""
    return day in _swedish_holidays(day.year)


def is_working_day(day: date) -> bool:
    """True on Monday–Friday that is not a Swedish public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


def add_working_days(start: date, working_days: int) -> date:
    """The date `working_days` working days after `start` (0 gives `start` itself)."""
    day = start
    remaining = working_days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the next working day."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
