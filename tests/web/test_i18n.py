"""Swedish first: every string of the web app has a Swedish translation, checked from source.

The strings are extracted from the templates and the web modules, and the error texts the
domain and the services mark with `N_`, the way `pybabel extract` does (babel.cfg); a new
string without a Swedish translation fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from essence.web import i18n, terms

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


WEB = [("essence/web/**.py", "python"), ("essence/web/templates/**.html", "jinja2")]
ENGINE = [("essence/domain/**.py", "python"), ("essence/services/**.py", "python")]


def _extracted(method_map: list[tuple[str, str]] | None = None) -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    options = {"essence/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map or WEB + ENGINE, options_map=options, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message[:2]))
    return found


def test_babel_cfg_extracts_what_this_test_checks() -> None:
    sections = re.findall(r"^\[(\w+): ([^\]]+)\]", (ROOT / "babel.cfg").read_text(), re.M)
    assert sorted((path, method) for method, path in sections) == sorted(WEB + ENGINE)


def _catalogue() -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    path = ROOT / "essence" / "web" / "locale" / "sv" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return {
            (m.id if isinstance(m.id, str) else tuple(m.id)): m.string
            for m in read_po(source, locale="sv")
            if m.id
        }


def test_every_string_of_the_web_app_has_a_swedish_translation() -> None:
    extracted = _extracted()
    catalogue = _catalogue()
    assert len(extracted) > 300
    missing = sorted(str(m) for m in extracted if not catalogue.get(m))
    assert missing == [], f"no Swedish for: {missing[:10]}"


def test_every_error_text_of_the_domain_and_services_has_a_swedish_translation() -> None:
    marked = _extracted(ENGINE)
    assert "must be 0..%(most)s" in marked and "its prerequisites are not completed yet" in marked
    catalogue = _catalogue()
    missing = sorted(str(m) for m in marked if not catalogue.get(m))
    assert missing == [], f"no Swedish for the marked error texts: {missing[:10]}"


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in _catalogue().items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = msgstr if isinstance(msgstr, tuple) else (msgstr,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (msgid, text)


def test_the_interface_words_follow_the_domain_word_list() -> None:
    i18n.set_language("sv")
    assert terms.step_title("medical_exam") == "Läkarbesök"
    assert terms.profession("speech_therapist") == "logoped"
    assert terms.region_group("inland") == "inlandet"
    assert terms.state("cancelled") == "inställd – behövs inte"
    assert terms.state("feedback-given") == "återgivning klar"
    assert terms.organisation("BUP").startswith("BUP")
    i18n.set_language("en")
    assert terms.step_title("medical_exam") == "Medical history and examination"
    i18n.set_language("sv")


def test_dates_and_times_are_swedish_and_in_stockholm() -> None:
    i18n.set_language("sv")
    winter = datetime(2026, 12, 1, 8, 15, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 8, 15, tzinfo=UTC)
    assert i18n.format_moment(winter) == "2026-12-01 09:15"
    assert i18n.format_moment(summer) == "2026-07-01 10:15"
    assert i18n.format_time(winter) == "09:15"
    assert i18n.format_day(date(2026, 12, 1)) == "2026-12-01"
    assert i18n.format_weekday(date(2026, 12, 1)) == "tisdag 1 december 2026"


def test_accept_language_picks_the_first_supported_language_by_quality() -> None:
    assert i18n.from_accept_language("en-GB,en;q=0.9,sv;q=0.8") == "en"
    assert i18n.from_accept_language("de, sv;q=0.5, en;q=0.4") == "sv"
    assert i18n.from_accept_language("fr,de") is None
    assert i18n.from_accept_language(None) is None
