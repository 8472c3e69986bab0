"""`essence step …` and `essence worklist`: clinicians work their assigned steps."""

from __future__ import annotations

from typing import Annotated

import typer

from essence.cli.common import (
    JsonOption,
    ReplanBudgetOption,
    ReplanOption,
    emit,
    replan_if_asked,
    service_context,
)

app = typer.Typer(
    help="Start, complete, hold, resume, cancel, revert and assign steps; record no-shows.",
    no_args_is_help=True,
)

CaseArg = Annotated[str, typer.Argument(help="Case id.")]
StepArg = Annotated[str, typer.Argument(help="Step key, e.g. medical_exam.")]


def _render_change(change: object) -> None:
    from essence.cli.render_cases import render_step_change

    render_step_change(change)


@app.command("start")
def start(case_id: CaseArg, step: StepArg, as_json: JsonOption = False) -> None:
    """Start a ready step assigned to you."""
    from essence.services.steps import start_step

    emit(start_step(service_context(), case_id, step), as_json, _render_change)


@app.command("complete")
def complete(
    case_id: CaseArg,
    step: StepArg,
    outcome: Annotated[
        str, typer.Option(help="Short outcome note (no personal identifiers).")
    ] = "",
    replan: ReplanOption = False,
    budget_s: ReplanBudgetOption = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Complete a step with an outcome note; the steps after it become ready."""
    from essence.services.steps import complete_step

    emit(complete_step(service_context(), case_id, step, outcome), as_json, _render_change)
    replan_if_asked(replan, budget_s, as_json)


@app.command("hold")
def hold(
    case_id: CaseArg,
    step: StepArg,
    reason: Annotated[str, typer.Option(help="Why the step waits.")],
    as_json: JsonOption = False,
) -> None:
    """Put a step on hold with a reason."""
    from essence.services.steps import hold_step

    emit(hold_step(service_context(), case_id, step, reason), as_json, _render_change)


@app.command("resume")
def resume(case_id: CaseArg, step: StepArg, as_json: JsonOption = False) -> None:
    """Take a held step back to where it was."""
    from essence.services.steps import resume_step

    emit(resume_step(service_context(), case_id, step), as_json, _render_change)


@app.command("cancel")
def cancel(
    case_id: CaseArg,
    step: StepArg,
    reason: Annotated[str, typer.Option(help="Why the step is not needed.")],
    replan: ReplanOption = True,
    budget_s: ReplanBudgetOption = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Cancel a skippable step this child does not need (coordinator, after consent)."""
    from essence.services.steps import cancel_step

    emit(cancel_step(service_context(), case_id, step, reason), as_json, _render_change)
    replan_if_asked(replan, budget_s, as_json)


@app.command("revert")
def revert(
    case_id: CaseArg,
    step: StepArg,
    reason: Annotated[str, typer.Option(help="What was entered in error.")],
    as_json: JsonOption = False,
) -> None:
    """Correct a completion or cancellation entered in error (coordinator): the step goes
    back to ready, later steps back to requested or flagged "needs review"."""
    from essence.services.steps import revert_step

    emit(revert_step(service_context(), case_id, step, reason), as_json, _render_change)


@app.command("no-show")
def no_show(case_id: CaseArg, step: StepArg, as_json: JsonOption = False) -> None:
    """Record that the family missed the step's appointment; the step can be booked again."""
    from essence.services.steps import record_no_show

    emit(record_no_show(service_context(), case_id, step), as_json, _render_change)


@app.command("reviewed")
def reviewed(case_id: CaseArg, step: StepArg, as_json: JsonOption = False) -> None:
    """Clear a step's "needs review" flag after a correction (coordinator)."""
    from essence.services.steps import mark_reviewed

    emit(mark_reviewed(service_context(), case_id, step), as_json, _render_change)


@app.command("assign")
def assign(
    case_id: CaseArg,
    step: StepArg,
    clinician: Annotated[
        str, typer.Option(help="Clinician id; their profession's part is assigned.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Assign a step (the part for the clinician's profession) to a clinician (coordinator);
    its booking moves along when they are free then, else it is released."""
    from essence.cli.render_cases import render_case
    from essence.services.cases import assign_step

    emit(assign_step(service_context(), case_id, step, clinician), as_json, render_case)


def worklist_command(
    clinician: Annotated[
        str | None, typer.Option(help="Whose worklist (default: the acting clinician).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Your steps that can be worked on now: ready, in progress and on hold."""
    from essence.cli.render_cases import render_worklist
    from essence.services.steps import worklist

    emit(worklist(service_context(), clinician), as_json, render_worklist)
