"""The term follow-up against case data with known figures (SQLite and PostgreSQL).

Thirteen children referred in 2026H2, worked to known points, plus two outside the term:
  A  6 boys, Umeå, 4 years, feedback after 50, 60, 70, 80, 90, 100 days, SIP for the first 4
  B  5 girls, Sorsele (inland), 4 years, feedback after 110, 115, 120, 130, 200 days, no SIP
  C  1 boy, Vännäs (coast), 2 years, consented, no feedback yet
  D  1 girl, Umeå, 4 years, one guardian of two has consented
Attended visits: the five girls of B from Sorsele to Umeå (560 km each), one boy of A to
Lycksele (280 km); one boy of A did not come to his parent interview (a no-show).
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from essence.adapters.followup_files import tables, write_csv, write_xlsx
from essence.domain.calendar import at_local
from essence.domain.errors import PermissionDenied
from essence.domain.followup import term_period
from essence.scheduling.clinic_problem import Appointment, Place
from essence.services.context import ServiceContext
from essence.services.followup import FollowUpView, follow_up_report
from essence.services.ports import AppointmentStatus
from tests.factories import FixedClock
from tests.followup_factories import worked_case

TERM = term_period("2026H2")
ATTENDED, NO_SHOW = AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW
REFERRED = date(2026, 8, 3)
FOUR_YEARS = date(2022, 5, 1)
TWO_YEARS = date(2024, 5, 1)


def _visit(case_id: str, step: str, day: date, municipality: str) -> Appointment:
    start: datetime = at_local(day, 9)
    return Appointment(
        case_id=case_id,
        step_key=step,
        title=step,
        day=day,
        start=start,
        end=start + timedelta(minutes=90),
        clinician_ids=("md-1",),
        place=Place("clinic", municipality),
        family_facing=True,
    )


@pytest.fixture
def term_data(app_context: ServiceContext, clock: FixedClock) -> ServiceContext:
    """The cohort above stored through the repositories, as of 2027-01-15."""
    clock.set(date(2027, 1, 15))
    with app_context.uow_factory() as uow:
        template = uow.pathways.get("essence-default")
        serial = iter(range(201, 400, 2))  # odd: boys
        girls = iter(range(400, 600, 2))  # even: girls

        def add(case_id: str, **kwargs: object) -> None:
            uow.cases.add(worked_case(case_id, template, **kwargs))  # type: ignore[arg-type]

        for i, lead in enumerate((50, 60, 70, 80, 90, 100)):
            add(f"c-a{i}", referral_date=REFERRED, birth=FOUR_YEARS, serial=next(serial),
                lead_days=lead, sip=i < 4)  # fmt: skip
        for i, lead in enumerate((110, 115, 120, 130, 200)):
            add(f"c-b{i}", referral_date=REFERRED, birth=FOUR_YEARS, serial=next(girls),
                municipality="Sorsele", lead_days=lead)  # fmt: skip
        add("c-c0", referral_date=REFERRED, birth=TWO_YEARS, serial=next(serial),
            municipality="Vännäs")  # fmt: skip
        add("c-d0", referral_date=date(2026, 12, 30), birth=FOUR_YEARS, serial=next(girls),
            consenting=1)  # fmt: skip
        add("c-x0", referral_date=date(2026, 6, 30), birth=FOUR_YEARS, serial=next(serial),
            lead_days=10)  # fmt: skip
        add("c-x1", referral_date=date(2027, 1, 2), birth=FOUR_YEARS, serial=next(serial))
        exam_day = REFERRED + timedelta(days=40)
        now = at_local(REFERRED, 8)
        visits = [(f"c-b{i}", "medical_exam", exam_day, "Umeå", ATTENDED) for i in range(5)]
        visits += [
            ("c-a0", "medical_exam", exam_day, "Lycksele", ATTENDED),
            ("c-a1", "parent_interview", exam_day, "Umeå", NO_SHOW),
            ("c-c0", "medical_exam", date(2027, 2, 1), "Umeå", None),
        ]
        for case_id, step, day, place, status in visits:
            uow.appointments.book(_visit(case_id, step, day, place), now)
            if status is not None:
                uow.appointments.mark(case_id, step, status, now, on=day)
        uow.commit()
    return app_context


def _rows(view: FollowUpView, dimension: str) -> dict[str, object]:
    return {r.group: r for r in view.breakdowns[dimension]}


def test_the_term_follow_up_matches_the_case_data(term_data: ServiceContext) -> None:
    view = follow_up_report(term_data, TERM)
    o = view.overall
    assert (view.period, view.first_day, view.last_day) == (
        "2026H2",
        date(2026, 7, 1),
        date(2026, 12, 31),
    )
    assert (o.children, o.with_feedback, o.suppressed) == (13, 11, False)
    assert (o.consent_share, o.sip_share) == (round(12 / 13, 3), round(4 / 13, 3))
    assert (o.median_lead_time_days, o.p90_lead_time_days) == (100, 130.0)
    assert (o.share_within_90_days, o.share_within_140_days) == (
        round(5 / 11, 3),
        round(10 / 11, 3),
    )
    assert o.median_days_saved == 40
    assert o.visit_days_mean == round(26 / 11, 2)
    assert (o.family_km_total, o.family_km_mean) == (5 * 560 + 280, round(3080 / 13, 1))
    assert o.no_shows == 1
    boys, girls = _rows(view, "gender")["boy"], _rows(view, "gender")["girl"]
    assert (boys.children, boys.with_feedback, boys.median_lead_time_days) == (7, 6, 75)
    assert (boys.p90_lead_time_days, boys.share_within_90_days) == (95.0, round(5 / 6, 3))
    assert (boys.consent_share, boys.sip_share, boys.family_km_mean) == (1.0, round(4 / 7, 3), 40.0)
    assert (boys.no_shows, girls.no_shows) == (1, 0)
    assert (girls.children, girls.with_feedback, girls.median_lead_time_days) == (6, 5, 120)
    assert (girls.consent_share, girls.sip_share) == (round(5 / 6, 3), 0.0)
    assert (girls.share_within_90_days, girls.share_within_140_days) == (0.0, 0.8)
    assert girls.family_km_total == 2800
    places = _rows(view, "municipality_group")
    assert (places["umea"].children, places["umea"].consent_share) == (7, round(6 / 7, 3))
    assert places["umea"].median_lead_time_days == 75
    # Sorsele's 5 shown beside Vännäs's 1 would reveal the 1: both are hidden.
    assert places["coast"].suppressed and places["inland"].suppressed
    assert places["inland"].family_km_total is None and places["inland"].children is None
    ages = _rows(view, "age_band")
    assert set(ages) == {"0–2", "3–5"}
    assert ages["0–2"].suppressed and ages["3–5"].suppressed, "one small cell hides its complement"


def test_planners_get_the_same_aggregates_and_clinicians_none(term_data: ServiceContext) -> None:
    coordinator = follow_up_report(term_data, TERM)
    planner = follow_up_report(term_data.as_user("planner-1"), TERM)
    assert planner == coordinator
    with pytest.raises(PermissionDenied):
        follow_up_report(term_data.as_user("psy-1"), TERM)


def test_an_empty_term_is_all_suppressed(term_data: ServiceContext) -> None:
    view = follow_up_report(term_data, term_period("2025H1"))
    assert view.overall.suppressed and view.overall.children is None
    assert all(rows == [] for rows in view.breakdowns.values())


def test_csv_and_workbook_hold_the_figures_as_numbers(
    term_data: ServiceContext, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    view = follow_up_report(term_data, TERM)
    files = write_csv(view, tmp_path / "csv")
    assert sorted(p.name for p in files) == sorted(f"followup-2026H2-{n}.csv" for n in tables(view))
    with (tmp_path / "csv" / "followup-2026H2-by_gender.csv").open(encoding="utf-8") as f:
        by_gender = {row["group"]: row for row in csv.DictReader(f)}
    assert by_gender["boy"]["median_lead_time_days"] == "75.0"
    assert by_gender["girl"]["median_lead_time_days"] == "120.0"
    book = load_workbook(write_xlsx(view, tmp_path / "followup.xlsx"))
    assert book.sheetnames == [
        "about",
        "overall",
        "by_gender",
        "by_age_band",
        "by_municipality_group",
    ]
    overall = book["overall"]
    header = [c.value for c in overall[1]]
    values = dict(zip(header, [c.value for c in overall[2]], strict=True))
    assert values["children"] == 13 and isinstance(values["children"], int)
    assert values["median_lead_time_days"] == 100.0
    assert values["consent_share"] == round(12 / 13, 3)
    share_cell = overall.cell(2, header.index("consent_share") + 1)
    assert share_cell.number_format == "0.0%"
    inland = next(
        r for r in book["by_municipality_group"].iter_rows(values_only=True) if r[0] == "inland"
    )
    assert inland[header.index("median_lead_time_days")] is None
