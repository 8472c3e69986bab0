"""What every CLI command shares: the acting user, the service context, error handling.

Errors of the essence hierarchy become one line on stderr and an exit code (2 for bad
input, 1 for infrastructure); heavy modules are imported only when a command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from essence.domain.errors import EssenceError, InvalidInput

if TYPE_CHECKING:
    from essence.services.context import ServiceContext


@dataclass
class CliState:
    """Options given before the command (`essence --as psy-1 worklist`)."""

    user: str | None = None


STATE = CliState()

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")
]
ReplanOption = Annotated[
    bool,
    typer.Option(
        "--replan/--no-replan", help="Re-plan the schedule afterwards (kept bookings stay)."
    ),
]
ReplanBudgetOption = Annotated[
    float, typer.Option("--budget-s", help="Seconds the re-plan may take.")
]


def report_error(error: EssenceError) -> None:
    """Print an essence error as one plain line on stderr."""
    from essence.cli.render import error_console

    error_console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)


class EssenceGroup(TyperGroup):
    """The root command group: turns essence errors of every subcommand into one stderr
    line and the error's exit code (2 bad input, 1 infrastructure)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EssenceError as error:
            report_error(error)
            raise typer.Exit(code=error.exit_code) from None


def service_context(user: str | None = None) -> ServiceContext:
    """The service context for this process, acting as `--as`/ESSENCE_USER."""
    from essence import bootstrap

    return bootstrap.context(user_id=user or STATE.user)


def parse_date(field: str, value: str) -> date:
    """Parse YYYY-MM-DD, naming the field in the error."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "expected a date as YYYY-MM-DD") from None


def check_writable(field: str, path: Path | None) -> None:
    """Refuse an output file whose folder does not exist (before anything is done).

    Raises:
        InvalidInput: naming the option and the folder.
    """
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(field, str(path), f"folder {folder} does not exist")
    if path.is_dir():
        raise InvalidInput(field, str(path), "is a folder, not a file")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 case``, ``2 cases`` (`many` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def emit(data: Any, as_json: bool, render: Any) -> None:
    """Print `data` as JSON or through the rich `render(data)` function."""
    if as_json:
        from essence.cli.render import print_json

        print_json(data)
    else:
        render(data)


def replan_if_asked(replan: bool, budget_s: float, as_json: bool) -> None:
    """Re-plan inline within the budget, as the system; report it unless printing JSON."""
    if not replan:
        return
    from essence.services.scheduling import plan_schedule

    view = plan_schedule(service_context().as_system(), budget_s=budget_s, use_cpsat=budget_s >= 1)
    if not as_json:
        from essence.cli.render import console

        console.print(
            f"re-planned: {len(view.appointments)} appointments, {view.moved} moved, "
            f"{len(view.not_scheduled_yet)} not scheduled yet ({view.wall_seconds} s)"
        )


def _render_change(change: object) -> None:
    from essence.cli.render_cases import render_step_change

    render_step_change(change)
