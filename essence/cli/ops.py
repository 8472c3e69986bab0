"""Operating commands: `essence db upgrade|downgrade|current|history`, `backup`, `restore`.

They act on ESSENCE_DATABASE_URL whatever its schema revision (that is their job), so they
do not go through the schema check every other command makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from essence.cli.common import JsonOption, emit

db_app = typer.Typer(
    help="The database schema: upgrade, downgrade, current revision, history.",
    no_args_is_help=True,
)


def _engine():  # type: ignore[no-untyped-def]
    from essence import bootstrap
    from essence.config import Settings

    settings = Settings()
    return bootstrap.engine_for(settings.database_url, settings)


def _status() -> dict[str, object]:
    from essence.adapters.database import describe_url, schema_revision
    from essence.adapters.schema_version import code_head, schema_problem

    engine = _engine()
    revision = schema_revision(engine)
    return {
        "database": describe_url(str(engine.url)),
        "revision": revision,
        "head": code_head(),
        "problem": schema_problem(revision),
    }


def _render_status(status: dict[str, object]) -> None:
    from essence.cli.render import console

    state = "at head" if status["problem"] is None else str(status["problem"])
    console.print(
        f"{status['database']}: revision {status['revision'] or '(none)'}, "
        f"code head {status['head']} — {state}",
        markup=False,
        highlight=False,
    )


@db_app.command("current")
def current_command(as_json: JsonOption = False) -> None:
    """The database's schema revision and whether it matches this version of essence."""
    emit(_status(), as_json, _render_status)


@db_app.command("history")
def history_command(as_json: JsonOption = False) -> None:
    """Every migration this version of essence ships, oldest first."""
    from essence.adapters.schema_version import revisions

    rows = [{"revision": r.id, "down_revision": r.down, "title": r.title} for r in revisions()]

    def render(items: list[dict[str, object]]) -> None:
        from rich.table import Table

        from essence.cli.render import console

        table = Table("revision", "after", "what it does")
        for item in items:
            table.add_row(str(item["revision"]), str(item["down_revision"] or "-"), item["title"])
        console.print(table)

    emit(rows, as_json, render)


@db_app.command("upgrade")
def upgrade_command(
    to: Annotated[str, typer.Option("--to", help="Target revision (default: head).")] = "head",
) -> None:
    """Migrate the schema up (to the code's head by default), in one transaction."""
    from essence.adapters.migrations import upgrade

    _check_revision("to", to, allow=("head",))
    upgrade(_engine(), to)
    _render_status(_status())


@db_app.command("downgrade")
def downgrade_command(
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Target revision, or -1 for one step (columns added later are dropped)."
        ),
    ],
) -> None:
    """Migrate the schema down to a revision, in one transaction (take a backup first)."""
    from essence.adapters.migrations import downgrade

    _check_revision("to", to, allow=("-1", "base"))
    downgrade(_engine(), to)
    _render_status(_status())


def _check_revision(field: str, value: str, *, allow: tuple[str, ...]) -> None:
    from essence.adapters.schema_version import revisions
    from essence.domain.errors import InvalidInput

    known = [r.id for r in revisions()]
    if value not in known and value not in allow:
        raise InvalidInput(field, value, "unknown revision; see `essence db history`")


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (must be new).")],
    as_json: JsonOption = False,
) -> None:
    """Back up the whole database (SQLite online backup, or pg_dump for PostgreSQL)."""
    from essence.adapters.backup import backup

    emit(backup(_engine(), out).__dict__, as_json, _render_backup("backed up"))


def restore_command(
    file: Annotated[Path, typer.Argument(help="A file written by `essence backup`.")],
    as_json: JsonOption = False,
) -> None:
    """Restore a backup into the empty database ESSENCE_DATABASE_URL names."""
    from essence.adapters.backup import restore

    emit(restore(_engine(), file).__dict__, as_json, _render_backup("restored"))
    if not as_json:
        _render_status(_status())  # an older backup says: run `essence db upgrade`


def _render_backup(verb: str):  # type: ignore[no-untyped-def]
    def render(result: dict[str, object]) -> None:
        from essence.cli.render import console

        console.print(
            f"{verb}: {result['database']} ⇄ {result['file']} "
            f"({result['format']}, {result['size_bytes']} bytes)",
            markup=False,
            highlight=False,
        )

    return render
