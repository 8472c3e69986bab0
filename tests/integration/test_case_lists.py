"""Cases read for lists give the same lines as whole aggregates (SQLite and PostgreSQL)."""

from __future__ import annotations

from essence.domain.calendar import local_date
from essence.services import cases, steps
from essence.services.case_views import case_summary
from essence.services.context import ServiceContext
from essence.services.views import CaseSummary
from tests.factories import referral


def _cases_in_every_state(ctx: ServiceContext) -> dict[str, str]:
    """Case ids by what is special about them: waiting for consent, working (held,
    started, needs review), paused, withdrawn, and one from another municipality."""
    made = {
        "referred": cases.open_case(ctx, referral(consenting=1)).id,
        "working": cases.open_case(ctx, referral()).id,
        "paused": cases.open_case(ctx, referral()).id,
        "withdrawn": cases.open_case(ctx, referral()).id,
        "elsewhere": cases.open_case(ctx, referral(municipality="Sorsele")).id,
    }
    working, physician = made["working"], ctx.as_user("md-1")
    steps.complete_step(ctx, working, "intake", "met both guardians")
    steps.start_step(physician, working, "medical_exam")
    steps.complete_step(physician, working, "medical_exam", "no findings")
    cognitive = next(s for s in cases.show_case(ctx, working).steps if s.key == "cognitive_test")
    psychologist = ctx.as_user(cognitive.assignees["psychologist"])
    steps.start_step(psychologist, working, "cognitive_test")
    steps.revert_step(ctx, working, "medical_exam", "wrong child")  # cognitive_test: review
    steps.hold_step(ctx, working, "language_assessment", "interpreter needed")
    cases.record_guardian_consent(ctx, made["paused"], guardian=2, given=False)
    cases.withdraw_case(ctx, made["withdrawn"], "family moved")
    return made


def _lines(ctx: ServiceContext, *, light: bool, **query: object) -> list[CaseSummary]:
    today = local_date(ctx.clock())
    with ctx.uow_factory() as uow:
        if light:
            found = uow.case_lists.cases(**query)  # type: ignore[arg-type]
        else:
            home = query.pop("municipality", None)
            found = [c for c in uow.cases.list(**query) if home in (None, c.municipality)]  # type: ignore[arg-type]
        return [case_summary(case, today) for case in found]


def test_a_list_shows_each_case_as_its_whole_aggregate_would(app_context: ServiceContext) -> None:
    made = _cases_in_every_state(app_context)
    for query in (
        {},
        {"open_only": True},
        {"municipality": "Sorsele"},
        {"ids": [made["working"], made["paused"], "c-nosuchcase"]},
        {"ids": list(made.values()), "open_only": True, "municipality": "Umeå"},
    ):
        light = _lines(app_context, light=True, **query)
        assert light == _lines(app_context, light=False, **query), query
    everything = {line.id: line for line in _lines(app_context, light=True)}
    assert everything[made["referred"]].waiting_on == ["consent (1 of 2)"]
    assert everything[made["working"]].needs_review == ["cognitive_test"]
    assert any("(on hold)" in wait for wait in everything[made["working"]].waiting_on)
    assert everything[made["paused"]].paused
    assert everything[made["withdrawn"]].state == "withdrawn"


def test_a_clinician_lists_every_case_they_have_a_step_in_whatever_its_state(
    app_context: ServiceContext,
) -> None:
    made = _cases_in_every_state(app_context)
    physician = app_context.as_user("md-1")  # the team's physician: a step in every case
    listed = [line.id for line in cases.list_cases(physician, open_only=False)]
    assert sorted(listed) == sorted(made.values())
    open_elsewhere = cases.list_cases(physician, municipality_name="sorsele")
    assert [line.id for line in open_elsewhere] == [made["elsewhere"]]
