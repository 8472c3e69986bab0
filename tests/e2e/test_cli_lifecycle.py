"""A real week on the engine, through the CLI: one test per sequence of issue 9 that once
let the records or the bookings drift from what really happened."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date

from tests.e2e.conftest import Cli
from tests.factories import personnummer


def _json(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _steps(cli: Cli, case_id: str) -> dict[str, dict]:
    shown = _json(cli("case", "show", case_id, "--json"))
    return {s["key"]: s for s in shown["steps"]}  # type: ignore[index]


def _rows(cli: Cli, sql: str) -> list[tuple]:
    with sqlite3.connect(cli.database_file) as connection:
        return connection.execute(sql).fetchall()


def _booked(cli: Cli, case_id: str) -> dict[str, dict]:
    rows = _json(cli("schedule", "show", "--case", case_id, "--json"))
    return {a["step_key"]: a for a in rows}  # type: ignore[union-attr]


# --- 1. cancelling: skippable steps only, and nothing jumps ahead -------------------------


def test_a_step_every_assessment_needs_cannot_be_cancelled(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    _refused(
        cli("step", "cancel", case_id, "team_conference", "--reason", "x", "--no-replan"),
        "team_conference",
        "withdraw the case instead",
    )


def test_a_cancelled_step_lets_nothing_jump_ahead_of_work_not_done(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    cancelled = _json(
        cli("step", "cancel", case_id, "preschool_observation", "--reason", "not needed",
            "--no-replan", "--json")
    )  # fmt: skip
    assert cancelled["state"] == "cancelled" and cancelled["newly_ready"] == []  # type: ignore[index]
    steps = _steps(cli, case_id)
    assert steps["intake"]["state"] == "ready"
    assert steps["team_conference"]["state"] == "requested"
    assert steps["feedback_meeting"]["state"] == "requested"
    done = _json(cli("step", "complete", case_id, "intake", "--json"))
    assert "preschool_observation" not in done["newly_ready"]  # type: ignore[index]
    assert _steps(cli, case_id)["team_conference"]["state"] == "requested"


# --- 2. consent: per guardian, nothing unless given, withdrawal pauses ---------------------


def test_opening_a_case_records_no_consent_unless_given(cli: Cli) -> None:
    opened = _json(
        cli("case", "open", "--personnummer", personnummer().digits, "--name", "Testa Testsson",
            "--municipality", "Umeå", "--referring-unit", "BHV", "--referral-date",
            "2026-10-01", "--json")
    )  # fmt: skip
    assert opened["state"] == "referred" and opened["consenting"] == 0  # type: ignore[index]
    case_id = opened["id"]  # type: ignore[index]
    one = _json(cli("case", "consent", case_id, "--guardian", "1", "--given",
                    "--date", "2026-10-02", "--json"))  # fmt: skip
    assert one["state"] == "referred" and one["consenting"] == 1  # type: ignore[index]
    both = _json(cli("case", "consent", case_id, "--guardian", "2", "--given", "--json"))
    assert both["state"] == "consented"  # type: ignore[index]
    assert [(c["guardian"], c["status"], c["recorded_by"]) for c in both["consent"]] == [  # type: ignore[index]
        (1, "given", "coord-1"),
        (2, "given", "coord-1"),
    ]


def test_cancelling_before_consent_is_refused_and_consent_still_works(
    cli: Cli, opened_case
) -> None:
    case_id = opened_case("--consent", "0")
    _refused(
        cli("step", "cancel", case_id, "motor_assessment", "--reason", "x", "--no-replan"),
        "consent",
    )
    assert all(s["state"] == "requested" for s in _steps(cli, case_id).values())
    _json(cli("case", "consent", case_id, "--consenting", "2", "--json"))
    assert _steps(cli, case_id)["intake"]["state"] == "ready"


def test_one_guardian_withdrawing_pauses_the_case_and_releases_its_bookings(
    cli: Cli, opened_case
) -> None:
    case_id = opened_case()
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    assert _booked(cli, case_id)
    paused = _json(cli("case", "consent", case_id, "--consenting", "1", "--json"))
    assert paused["state"] == "paused" and paused["paused"]  # type: ignore[index]
    assert "intake ← waiting on consent (1 of 2)" in paused["waiting_on"]  # type: ignore[index]
    assert _booked(cli, case_id) == {}, "future bookings are released at once"
    work = _json(cli("worklist", "--clinician", "coord-1", "--json"))
    assert all(item["case_id"] != case_id for item in work)  # type: ignore[union-attr]
    _refused(cli("step", "start", case_id, "intake"), "consent", "1 of 2")
    resumed = _json(cli("case", "consent", case_id, "--guardian", "2", "--given", "--json"))
    assert resumed["state"] == "consented"  # type: ignore[index]
    assert _json(cli("step", "start", case_id, "intake", "--json"))["state"] == "in-progress"  # type: ignore[index]


def test_sole_custody_needs_one_guardian_only(cli: Cli) -> None:
    opened = _json(
        cli("case", "open", "--personnummer", personnummer().digits, "--name", "Testa Testsson",
            "--municipality", "Umeå", "--referring-unit", "BHV", "--referral-date",
            "2026-10-01", "--guardians", "1", "--json")
    )  # fmt: skip
    case_id = opened["id"]  # type: ignore[index]
    _refused(cli("case", "consent", case_id, "--guardian", "2", "--given"), "sole custody")
    consented = _json(cli("case", "consent", case_id, "--guardian", "1", "--given", "--json"))
    assert consented["state"] == "consented"  # type: ignore[index]


# --- 3. corrections -------------------------------------------------------------------------


def test_reverting_a_completion_flags_later_work_for_review(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    assert cli("step", "complete", case_id, "intake").exit_code == 0
    assert cli("--as", "md-1", "step", "complete", case_id, "medical_exam").exit_code == 0
    reverted = _json(cli("step", "revert", case_id, "intake", "--reason", "wrong child", "--json"))
    assert reverted["state"] == "ready"  # type: ignore[index]
    assert reverted["needs_review"] == ["medical_exam"]  # type: ignore[index]
    assert "language_assessment" in reverted["back_to_requested"]  # type: ignore[index]
    steps = _steps(cli, case_id)
    assert steps["medical_exam"]["needs_review"] and steps["medical_exam"]["state"] == "completed"
    assert steps["cognitive_test"]["state"] == "ready", "its prerequisite is still completed"
    listed = _json(cli("case", "list", "--json"))
    assert listed[0]["needs_review"] == ["medical_exam"]  # type: ignore[index]
    assert "needs review" in cli("case", "show", case_id).stdout
    swept = _json(cli("sweep", "--json"))
    assert [r["step_key"] for r in swept["needs_review"]] == ["medical_exam"]  # type: ignore[index]
    audit = _json(cli("audit", "--case", case_id, "--json"))
    assert any(
        a["action"] == "step.revert" and "wrong child" in a["detail"]
        for a in audit  # type: ignore[union-attr]
    )
    _refused(cli("--as", "md-1", "step", "revert", case_id, "medical_exam", "--reason", "x"),
             "permission denied")  # fmt: skip
    assert _json(cli("step", "reviewed", case_id, "medical_exam", "--json"))["needs_review"] == []  # type: ignore[index]


def test_reverting_the_feedback_makes_the_lead_time_undefined_again(cli: Cli) -> None:
    from essence import bootstrap
    from essence.services import steps as step_service

    case_id = _json(
        cli("case", "open", "--personnummer", personnummer().digits, "--name", "Testa Testsson",
            "--municipality", "Umeå", "--referring-unit", "BHV", "--referral-date",
            "2026-10-01", "--consent", "2", "--json")
    )["id"]  # type: ignore[index]  # fmt: skip
    ctx = bootstrap.context(user_id="coord-1", database_url=cli.url)
    for key in ("intake", "questionnaires", "bhv_records", "preschool_observation",
                "medical_exam", "parent_interview", "cognitive_test", "autism_observation",
                "language_assessment", "motor_assessment", "vineland", "team_conference",
                "feedback_meeting"):  # fmt: skip
        step_service.complete_step(ctx, case_id, key, "done")
    held = _json(cli("case", "show", case_id, "--json"))
    assert held["state"] == "feedback-given" and held["lead_time_days"] is not None  # type: ignore[index]
    assert _json(cli("report", "--json"))["cohort"]["with_feedback"] == 1  # type: ignore[index]
    _json(cli("step", "revert", case_id, "feedback_meeting", "--reason", "not held", "--json"))
    shown = _json(cli("case", "show", case_id, "--json"))
    assert shown["state"] == "assessing" and shown["lead_time_days"] is None  # type: ignore[index]
    assert _json(cli("report", "--json"))["cohort"]["with_feedback"] == 0  # type: ignore[index]


# --- 4. bookings follow the steps ---------------------------------------------------------


def test_bookings_follow_completion_cancellation_reassignment_and_withdrawal(
    cli: Cli, opened_case
) -> None:
    case_id = opened_case()
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    booked = _booked(cli, case_id)
    assert {"intake", "motor_assessment", "cognitive_test"} <= set(booked)
    assert cli("step", "complete", case_id, "intake").exit_code == 0
    assert "intake" not in _booked(cli, case_id)
    assert cli("step", "cancel", case_id, "motor_assessment", "--reason", "not needed",
               "--no-replan").exit_code == 0  # fmt: skip
    assert "motor_assessment" not in _booked(cli, case_id)
    slot = booked["cognitive_test"]
    first = slot["clinicians"][0]
    other = next(p for p in ("psy-1", "psy-2", "psy-3") if p != first)
    calendar = _json(cli("schedule", "show", "--clinician", other, "--json"))
    busy = any(
        a["start"] < slot["end"] and slot["start"] < a["end"]
        for a in calendar  # type: ignore[union-attr]
    )
    assert cli("step", "assign", case_id, "cognitive_test", "--clinician", other).exit_code == 0
    moved = _booked(cli, case_id).get("cognitive_test")
    if busy:
        assert moved is None, "released for the next plan: the new clinician is busy then"
    if moved is not None:  # kept only when the new clinician's day keeps every rule with it
        assert (moved["clinicians"], moved["start"]) == ([other], slot["start"])
    history = _json(cli("schedule", "show", "--case", case_id, "--history", "--json"))
    statuses = {(a["step_key"], a["status"]) for a in history}  # type: ignore[union-attr]
    assert {("intake", "attended"), ("motor_assessment", "cancelled")} <= statuses
    ics = cli("schedule", "export", "--clinician", first)
    assert ics.exit_code == 0
    cancelled = [e for e in ics.stdout.split("BEGIN:VEVENT") if "cognitive_test" in e]
    assert cancelled and "STATUS:CANCELLED" in cancelled[0] and "SEQUENCE:1" in cancelled[0]
    assert cli("case", "withdraw", case_id, "--reason", "family moved").exit_code == 0
    assert _booked(cli, case_id) == {}
    letter = cli("schedule", "letter", case_id)
    assert letter.exit_code == 0 and "Place:" not in letter.stdout
    assert "planned for" not in letter.stdout
    shown = cli("case", "show", case_id)
    assert "None d" not in shown.stdout and "withdrawn" in shown.stdout
    open_booked = _rows(
        cli, f"SELECT count(*) FROM appointment WHERE case_id = '{case_id}' AND status = 'booked'"
    )
    assert open_booked == [(0,)]


def test_a_no_show_is_counted_and_frees_the_step_for_booking(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    assert "intake" in _booked(cli, case_id)
    _json(cli("step", "no-show", case_id, "intake", "--json"))
    assert "intake" not in _booked(cli, case_id)
    assert _steps(cli, case_id)["intake"]["no_shows"] == 1
    assert _json(cli("report", "--json"))["cohort"]["no_shows"] == 1  # type: ignore[index]
    _refused(cli("step", "no-show", case_id, "intake"), "no booked appointment")
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    assert "intake" in _booked(cli, case_id), "the next plan books it again"


# --- 5. one open case per child -------------------------------------------------------------


def test_a_second_open_case_for_the_same_child_is_refused_and_audited(cli: Cli) -> None:
    number = personnummer().digits
    args = ["case", "open", "--personnummer", number, "--name", "Testa Testsson",
            "--municipality", "Umeå", "--referring-unit", "BHV",
            "--referral-date", "2026-10-01"]  # fmt: skip
    first = _json(cli(*args, "--json"))["id"]  # type: ignore[index]
    line = _refused(cli(*args), "already has open case")
    assert first in line and number not in line
    assert _rows(
        cli, f"SELECT outcome, detail FROM audit_event WHERE case_id = '{first}' "
        "AND action = 'case.open' ORDER BY id"
    ) == [("ok", ""), ("refused", "duplicate open case")]  # fmt: skip


# --- 7. who may do what, and clean edges ------------------------------------------------------


def test_the_sweep_runs_as_a_real_coordinator_and_is_audited_as_them(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    _refused(cli("sweep", "--json", user="nobody"), "unknown user")
    _refused(cli("sweep", "--json", user="psy-1"), "permission denied")
    swept = _json(cli("sweep", "--json"))
    assert swept["open_cases"] == 1  # type: ignore[index]
    assert _rows(
        cli, f"SELECT user_id FROM audit_event WHERE action = 'sweep' AND case_id = '{case_id}'"
    ) == [("coord-1",)]
    assert _rows(cli, "SELECT user_id FROM audit_event WHERE action = 'sweep' AND "
                 "outcome = 'denied'") == [("psy-1",)]  # fmt: skip


def test_init_never_prints_or_resets_existing_passwords(cli: Cli) -> None:
    added = cli("clinician", "add", "psy-9", "--name", "Nils Testman", "--profession",
                "psychologist", "--organisation", "BUP")  # fmt: skip
    assert added.exit_code == 0
    hashes = _rows(cli, "SELECT id, password_hash FROM app_user ORDER BY id")
    again = cli("init", user=None)
    assert again.exit_code == 0
    assert "password" not in again.stdout.lower()
    assert _rows(cli, "SELECT id, password_hash FROM app_user ORDER BY id") == hashes


def test_a_child_must_be_0_to_17_at_referral(cli: Cli) -> None:
    from essence.domain.personnummer import synthetic_personnummer

    old = synthetic_personnummer(date(1899, 5, 1), 123).digits
    line = _refused(
        cli("case", "open", "--personnummer", old, "--name", "Testa Testsson", "--municipality",
            "Umeå", "--referring-unit", "BHV", "--referral-date", "2026-10-01"),
        "0–17",
    )  # fmt: skip
    assert old not in line


def test_an_output_file_in_a_missing_folder_is_one_clean_line(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    _refused(cli("schedule", "letter", case_id, "--out", "missing-dir/x.txt"), "missing-dir")
    _refused(cli("schedule", "export", "--clinician", "psy-1", "--out", "nope/psy.ics"), "nope")


def test_one_case_is_one_case(cli: Cli, opened_case) -> None:
    opened_case()
    listed = cli("case", "list")
    assert re.search(r"\b1 case\b", listed.stdout) and "1 cases" not in listed.stdout
    swept = cli("sweep")
    assert "1 open case," in swept.stdout
