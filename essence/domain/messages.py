"""Texts of the errors essence raises, marked for translation while the domain stays pure.

`N_(template, **values)` marks an English text for the message catalogue (`babel.cfg`
extracts every `N_` call of `essence/domain` and `essence/services`) and returns it filled in.
The result is a plain `str` (what the CLI prints and tests read) that remembers its template
and values, so the web app can say the same thing in the user's language.

Templates use named placeholders (``%(name)s``), never f-strings, so that a translation may
put the values in another order. The web app shows some values as words, by their name:
``step`` (a step key: its title), ``profession`` / ``professions``, ``role`` / ``roles``,
``state``; other values are shown as they are and must never hold personal data.

Example:
    >>> reason = N_("must be 0..%(most)s", most=2)
    >>> reason, reason.template, dict(reason.values)
    ('must be 0..2', 'must be 0..%(most)s', {'most': 2})
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


class Text(str):
    """An English text as filled in, remembering its template and the values put into it.

    Attributes:
        template: The English message id, with ``%(name)s`` placeholders.
        values: The values by placeholder name (strings, numbers, or tuples of keys).
    """

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, values: Mapping[str, object] | None = None) -> Text:
        """Fill `template` with `values` (tuples are joined with ', '; no values: as it is)."""
        filled = template % {k: _plain(v) for k, v in values.items()} if values else template
        text = super().__new__(cls, filled)
        text.template = template
        text.values = MappingProxyType(dict(values or {}))
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as template and values (errors cross process pools)."""
        return (Text, (self.template, dict(self.values)))


def N_(template: str, **values: object) -> Text:
    """Mark `template` for the catalogue and fill in `values` (English, as the CLI prints it).

    Args:
        template: The English text, with ``%(name)s`` placeholders for `values`.
        **values: The values of the placeholders; a tuple is shown as a comma-separated list.

    Returns:
        The filled-in text, a `str` that keeps `template` and `values` for translation.
    """
    return Text(template, values)


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return value
