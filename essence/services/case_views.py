"""Build the read models of cases from the domain (no queries, no audit here)."""

from __future__ import annotations

from datetime import date

from essence.domain.case import Case
from essence.domain.metrics import case_metrics, case_projection
from essence.domain.states import CaseState, StepState
from essence.services.ports import WorkItem
from essence.services.views import (
    CaseSummary,
    CaseView,
    GuardianConsentView,
    StepView,
    WorkItemView,
)


def waiting_on(case: Case) -> list[str]:
    """What the case waits for now: each ready, running or held step and on whom; in a
    paused case (or a ready step whose consent is missing) "waiting on consent (1 of 2)"."""
    waits: list[str] = []
    for step in case.steps.values():
        if step.state in (StepState.READY, StepState.IN_PROGRESS, StepState.ON_HOLD):
            if step.state is StepState.READY and not case.consent_covers(step.key):
                waits.append(f"{step.key} ← waiting on consent ({case.consent.describe()})")
                continue
            who = ", ".join(sorted(set(step.assignees.values()))) or (
                "family" if case.definition(step.key).is_waiting else "unassigned"
            )
            suffix = " (on hold)" if step.state is StepState.ON_HOLD else ""
            waits.append(f"{step.key} ← {who}{suffix}")
    if case.state is CaseState.REFERRED and not waits:
        waits.append(f"consent ({case.consent.describe()})")
    return waits


def case_summary(case: Case, today: date) -> CaseSummary:
    """A case's line in the coordinator's list (its steps' states and dates, the assignees
    of the steps that can be worked on now and the consent are all it reads)."""
    metrics = case_projection(case, today)
    done = sum(1 for s in case.steps.values() if s.state.is_terminal)
    return CaseSummary(
        id=case.id,
        personnummer=case.personnummer.masked,
        child_name=case.child_name,
        municipality=case.municipality,
        referral_date=case.referral_date,
        state=case.state.value,
        days_since_referral=(today - case.referral_date).days,
        steps_done=done,
        steps_total=len(case.steps),
        waiting_on=waiting_on(case),
        projected_feedback=metrics.projected_feedback,
        projected_lead_time_days=metrics.projected_lead_time_days,
        at_risk_90=metrics.at_risk_90,
        at_risk_140=metrics.at_risk_140,
        needs_review=[k for k, s in case.steps.items() if s.needs_review],
        paused=case.paused,
    )


def case_view(case: Case, today: date) -> CaseView:
    """Everything about one case."""
    metrics = case_metrics(case, today)
    done = [k for k, s in case.steps.items() if s.state is StepState.COMPLETED]
    return CaseView(
        **case_summary(case, today).model_dump(),
        referring_unit=case.referring_unit,
        pathway=case.template.name,
        pathway_version=case.template.version,
        guardians=case.consent.guardians,
        consenting=case.consent.consenting,
        consent=[
            GuardianConsentView(
                guardian=r.guardian, status=r.status.value, on=r.on, recorded_by=r.recorded_by
            )
            for _, r in sorted(case.consent.records.items())
        ],
        team_travels=case.team_travels,
        lead_time_days=metrics.lead_time_days,
        days_saved=metrics.days_saved,
        visit_days=metrics.visit_days,
        days_to_first_visit=metrics.days_to_first_visit,
        critical_path=list(case.template.critical_path(done).steps),
        steps=[step_view(case, key) for key in case.template.keys],
    )


def step_view(case: Case, key: str) -> StepView:
    """One step with its definition's title, professions and minutes."""
    step, definition = case.steps[key], case.definition(key)
    return StepView(
        key=key,
        title=definition.title,
        state=step.state.value,
        professions=[p.value for p in definition.professions],
        requires=list(definition.requires),
        assignees={p.value: cid for p, cid in step.assignees.items()},
        minutes=definition.minutes,
        ready_on=step.ready_on,
        due_on=step.due_on,
        planned_on=step.planned_on,
        started_at=step.started_at,
        completed_at=step.completed_at,
        outcome=step.outcome,
        hold_reason=step.hold_reason,
        needs_review=step.needs_review,
        no_shows=step.no_shows,
        skippable=definition.skippable,
    )


def work_item_view(item: WorkItem, clinician_id: str) -> WorkItemView:
    """A worklist line: the step and, for joint steps, who else takes part."""
    definition = item.template.step(item.step_key)
    return WorkItemView(
        case_id=item.case_id,
        personnummer=item.personnummer.masked,
        child_name=item.child_name,
        step_key=item.step_key,
        title=definition.title,
        state=item.state,
        ready_on=item.ready_on,
        planned_on=item.planned_on,
        minutes=definition.minutes,
        joint_with=[cid for cid in item.assignees if cid != clinician_id],
    )
