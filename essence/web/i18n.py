"""Languages of the web app: Swedish first, English as the alternative.

The message catalogues are Babel `.po` files shipped in the package (`essence/web/locale`);
they are compiled in memory on first use, so a plain `pip install .` needs no build step.
Message ids are the English texts, so English needs no catalogue of its own. The language
of a request lives in a context variable that the middleware sets for each request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from importlib.resources import files
from io import BytesIO
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LANGUAGE_COOKIE = "essence_lang"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}
_current: ContextVar[str] = ContextVar("essence_language", default=DEFAULT_LANGUAGE)


def catalogue_path(language: str) -> object:
    """Where the `.po` catalogue of `language` lies inside the installed package."""
    return files("essence.web") / "locale" / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (English: the message ids themselves)."""
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    with catalogue_path(language).open("rb") as source:  # type: ignore[attr-defined]
        catalogue = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def set_language(language: str) -> None:
    """Use `language` for the rest of this request (unknown ones fall back to Swedish)."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of the request being handled."""
    return _current.get()


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Use `language` inside the block only (a problem detail, a message stored for later)."""
    token = _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` in the request's language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n`, in the request's language."""
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it yet."""
    return message


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by its q-values."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > 0:
            choices.append((-quality, index, language))
    return min(choices)[2] if choices else None


def local(moment: datetime) -> datetime:
    """`moment` in Europe/Stockholm (naive values are taken as UTC, as databases return)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(STOCKHOLM)


def format_day(value: date | datetime | None) -> str:
    """A date as 2026-12-01 (ISO, as Swedes write it); '' for None."""
    if value is None:
        return ""
    day = local(value).date() if isinstance(value, datetime) else value
    return day.isoformat()  # the same in both languages; Babel took 0.1 ms a call


def format_weekday(value: date | None) -> str:
    """A date with its weekday, e.g. 'måndag 1 december 2026'."""
    if value is None:
        return ""
    return format_date(value, "EEEE d MMMM y", locale=_LOCALES[_current.get()])


def format_time(value: datetime | None) -> str:
    """A clock time on the 24-hour clock in Stockholm, e.g. 09:15."""
    if value is None:
        return ""
    return f"{local(value):%H:%M}"


def format_moment(value: datetime | None) -> str:
    """A date and time in Stockholm, e.g. 2026-12-01 09:15."""
    if value is None:
        return ""
    return f"{local(value):%Y-%m-%d %H:%M}"


def load_locales() -> None:
    """Load every language's catalogue and Babel's calendar data now (about 0.15 s the
    first time a weekday is written), so the first page after a start is not slow."""
    moment = datetime(2026, 1, 5, 9, 0, tzinfo=STOCKHOLM)
    for language in LANGUAGES:
        with speaking(language):
            gettext("Today")
            format_day(moment.date())
            format_weekday(moment.date())
            format_time(moment)
            format_moment(moment)
