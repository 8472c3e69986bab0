"""Through the CLI: a plan shows 15-minute clock times and honours what a family needs."""

from __future__ import annotations

import json
from datetime import date

from tests.e2e.conftest import Cli


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def test_a_cli_plan_keeps_the_familys_blocked_weekday_arrival_and_interpreter(
    cli: Cli, opened_case
) -> None:
    case_id = opened_case(
        "--municipality", "Sorsele", "--blocked-weekdays", "fri",
        "--interpreter", "somali", "--interpreter-minutes", "15", "--preferred-site", "Umeå",
    )  # fmt: skip
    planned = cli("schedule", "plan", "--budget-s", "3", "--workers", "1", "--json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["booked"]
    # where the gap sits: the bound and the objective by parts, the objective by stage
    assert plan["bound_parts"]["total"] <= plan["objective"] == plan["objective_parts"]["total"]
    assert plan["stage_objectives"]["polished"] == plan["objective"]
    shown = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    family = [row for row in shown if row["family_facing"]]
    assert family
    for row in shown:
        assert minutes(row["start"]) % 15 == 0
    # Sorsele -> Umeå is 280 km (210 min): leave at 07:00, arrive 10:30; home by 18:00.
    for row in family:
        assert date.fromisoformat(row["day"]).weekday() != 4
        assert minutes(row["start"]) >= 10 * 60 + 30
        assert minutes(row["end"]) <= 14 * 60 + 30
        assert "Umeå" in row["place"]
    intake = next(r for r in family if r["step_key"] == "intake")
    assert minutes(intake["end"]) - minutes(intake["start"]) == 45 + 15
    letter = cli("schedule", "letter", case_id)
    assert "Fridays" in letter.stdout and "interpreter (somali)" in letter.stdout
    clinician = intake["clinicians"][0]
    items = json.loads(cli("worklist", "--clinician", clinician, "--json").stdout)
    booked = [i for i in items if i["case_id"] == case_id and i["planned_on"]]
    assert all(i["planned_start"] for i in booked)


def test_case_edit_changes_the_needs_and_refuses_a_bad_weekday(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    changed = cli("case", "edit", case_id, "--blocked-weekdays", "mon,fri", "--video", "--json")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout)["blocked_weekdays"] == ["mon", "fri"]
    shown = json.loads(cli("case", "needs", case_id, "--json").stdout)
    assert shown["video_preferred"] is True
    bad = cli("case", "edit", case_id, "--blocked-weekdays", "funday")
    assert bad.exit_code == 2 and "blocked weekday" in bad.output
    assert json.loads(cli("case", "needs", case_id, "--json").stdout) == shown


def test_a_plan_with_no_open_case_says_there_is_nothing_to_plan(cli: Cli) -> None:
    planned = cli("schedule", "plan", "--budget-s", "1", "--workers", "1")
    assert planned.exit_code == 0, planned.output
    assert "nothing to plan: no open case has steps left" in planned.stdout
    assert "referred" not in planned.stdout  # no empty table


def test_a_day_the_family_can_no_longer_come_loses_its_bookings_at_once(
    cli: Cli, opened_case
) -> None:
    """The family says they cannot come on the weekday of a booked visit: the edit
    releases it in the same transaction (the letter never shows it), and with --no-replan
    nothing is booked again until the next plan, which keeps clear of that weekday."""
    case_id = opened_case()
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    shown = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    visit = next(row for row in shown if row["family_facing"])
    weekday = _weekday(visit["day"])
    on_that_day = {r["step_key"] for r in shown if r["family_facing"] and r["day"] == visit["day"]}
    edited = cli("case", "edit", case_id, "--blocked-weekdays", weekday, "--no-replan", "--json")
    assert edited.exit_code == 0, edited.output
    assert on_that_day <= set(json.loads(edited.stdout)["released_steps"])
    left = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    blocked = [r for r in left if r["family_facing"] and _weekday(r["day"]) == weekday]
    assert blocked == [] and not on_that_day & {r["step_key"] for r in left}
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    again = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    assert on_that_day <= {r["step_key"] for r in again}, "booked again by the next plan"
    assert all(_weekday(r["day"]) != weekday for r in again if r["family_facing"])
    history = json.loads(cli("schedule", "show", "--case", case_id, "--history", "--json").stdout)
    assert {(r["step_key"], r["status"]) for r in history} >= {
        (key, "cancelled") for key in on_that_day
    }


def _weekday(day: str) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[date.fromisoformat(day).weekday()]
