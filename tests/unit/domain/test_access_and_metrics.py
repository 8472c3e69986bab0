"""Access rules, lead-time metrics, rosters and the Swedish calendar."""

from datetime import date, timedelta

import pytest

from essence.domain.access import Role, User, require_case_access, require_step_access
from essence.domain.calendar import at_local, is_working_day
from essence.domain.errors import InvalidInput, PermissionDenied
from essence.domain.metrics import case_metrics, cohort_metrics, percentile, suppressed
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Absence, Clinician, Roster
from tests.factories import new_case

DAY = date(2026, 3, 2)


def _assigned_case():
    case = new_case()
    case.assign("medical_exam", Profession.PHYSICIAN, "md-1")
    case.assign("intake", Profession.COORDINATOR, "coord-1")
    return case


def test_a_clinician_sees_only_cases_they_take_part_in() -> None:
    case = _assigned_case()
    require_case_access(User("md-1", Role.CLINICIAN, "md-1"), case, "see")
    with pytest.raises(PermissionDenied, match="does not take part"):
        require_case_access(User("psy-9", Role.CLINICIAN, "psy-9"), case, "see")


def test_a_clinician_changes_only_their_own_steps() -> None:
    case = _assigned_case()
    physician = User("md-1", Role.CLINICIAN, "md-1")
    require_step_access(physician, case, "medical_exam", "complete")
    with pytest.raises(PermissionDenied, match="not assigned"):
        require_step_access(physician, case, "intake", "complete")


def test_planners_never_see_a_case() -> None:
    with pytest.raises(PermissionDenied, match="aggregates only"):
        require_case_access(User("planner-1", Role.PLANNER), _assigned_case(), "see")


def test_lead_time_counts_days_from_referral_to_feedback() -> None:
    case = new_case()
    day = DAY
    while case.feedback_step.completed_at is None:
        case.advance(day)
        for step in case.ready_steps():
            if not case.definition(step.key).is_waiting:
                case.complete_step(step.key, at_local(day), "tester")
        day += timedelta(days=1)
    metrics = case_metrics(case, day)
    assert metrics.feedback_date is not None
    assert metrics.lead_time_days == (metrics.feedback_date - DAY).days
    assert metrics.days_saved == 140 - metrics.lead_time_days
    assert metrics.days_to_first_visit == 0
    assert metrics.minutes_by_profession["psychologist"] > 0


def test_an_open_case_is_projected_along_the_critical_path() -> None:
    metrics = case_metrics(new_case(), DAY)
    assert metrics.projected_lead_time_days == 45
    assert not metrics.at_risk_90


def test_a_stalled_case_is_flagged_at_risk() -> None:
    late = DAY + timedelta(days=100)
    metrics = case_metrics(new_case(), late)
    assert metrics.at_risk_90 and metrics.at_risk_140


def test_percentiles_interpolate_like_numpy() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 90) == 46.0
    assert percentile([], 50) is None


def test_cohorts_under_five_are_suppressed_for_planners() -> None:
    metrics = [case_metrics(new_case(case_id=f"c-{i}"), DAY) for i in range(3)]
    cohort = suppressed(cohort_metrics(metrics))
    assert cohort.suppressed and cohort.cases is None and cohort.median_lead_time_days is None


def test_midsummer_eve_and_christmas_eve_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 6, 19))
    assert not is_working_day(date(2026, 12, 24))
    assert is_working_day(date(2026, 6, 22))


def test_roster_minutes_respect_holidays_absences_and_the_daily_cap() -> None:
    clinician = Clinician(
        "psy-1",
        "Test",
        Profession.PSYCHOLOGIST,
        Organisation.BUP,
        roster=Roster.parse("mon=480,tue=240"),
        absences=[Absence(date(2026, 7, 6), date(2026, 8, 7), "vacation")],
        daily_cap_minutes=360,
    )
    assert clinician.minutes_on(date(2026, 3, 2)) == 360
    assert clinician.minutes_on(date(2026, 3, 3)) == 240
    assert clinician.minutes_on(date(2026, 3, 4)) == 0
    assert clinician.minutes_on(date(2026, 7, 13)) == 0
    assert clinician.minutes_on(date(2026, 12, 24)) == 0


@pytest.mark.parametrize("text", ["-60", "mon=-1", "moon=60", "abc"])
def test_bad_rosters_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput, match="roster"):
        Roster.parse(text)


def test_an_absence_that_ends_before_it_starts_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="ends before it starts"):
        Absence(date(2026, 3, 5), date(2026, 3, 1))
