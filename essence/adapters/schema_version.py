"""Is the database at the code's schema revision? Answered without importing Alembic.

The head is read from the shipped revision files' headers, so every command can check it
in a millisecond; a test checks this reading against Alembic's own revision graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from sqlalchemy import Connection, inspect, text

_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.MULTILINE)


@dataclass(frozen=True)
class Revision:
    """One migration: its id, the one before it and its one-line title."""

    id: str
    down: str | None
    title: str


@cache
def revisions() -> tuple[Revision, ...]:
    """The shipped migrations, oldest first (read from the files' headers)."""
    found: dict[str, Revision] = {}
    for path in (files("models") / "migrations" / "versions").iterdir():
        if not path.name.endswith(".py") or path.name.startswith("__"):
            continue
        source = path.read_text(encoding="utf-8")
        rev = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if rev is None or down is None:
            continue
        title = source.split("\n", 1)[0].strip().strip('"').strip()
        found[rev.group(1)] = Revision(rev.group(1), down.group(1), title)
    ordered: list[Revision] = []
    children = {r.down: r for r in found.values()}
    step = children.get(None)
    while step is not None:
        ordered.append(step)
        step = children.get(step.id)
    return tuple(ordered)


def code_head() -> str:
    """The newest revision this version of essence ships."""
    return revisions()[-1].id


def database_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or None when it has no essence schema."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return row[0] if row else None


def schema_problem(revision: str | None) -> str | None:
    """Why a database at `revision` cannot be used by this code (None when it can)."""
    head = code_head()
    if revision is None:
        return "has no essence schema yet; run `essence init`"
    if revision == head:
        return None
    known = [r.id for r in revisions()]
    if revision in known:
        return (
            f"is at schema {revision}, behind this version of essence ({head}); "
            "run `essence db upgrade`"
        )
    return (
        f"schema is at {revision}, newer than this version of essence ({head}); "
        f"install the newer essence or run its `essence db downgrade --to {head}`"
    )
