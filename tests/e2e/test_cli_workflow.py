"""The coordinator and clinician workflows through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

from tests.e2e.conftest import Cli


def test_a_case_goes_from_referral_to_the_worklist_and_report(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    shown = json.loads(cli("case", "show", case_id, "--json").stdout)
    assert shown["personnummer"].endswith("-****")
    assert shown["state"] == "consented"
    assert (
        cli("step", "complete", case_id, "intake", "--outcome", "met both guardians").exit_code == 0
    )
    physician = shown["steps"][4]["assignees"]["physician"]
    worklist = json.loads(cli("worklist", "--json", user=physician).stdout)
    assert [(w["case_id"], w["step_key"]) for w in worklist] == [(case_id, "medical_exam")]
    started = cli("step", "start", case_id, "medical_exam", user=physician)
    assert started.exit_code == 0 and "in-progress" in started.stdout
    done = json.loads(
        cli("step", "complete", case_id, "medical_exam", "--json", user=physician).stdout
    )
    assert set(done["newly_ready"]) == {"cognitive_test", "autism_observation"}
    report = json.loads(cli("report", "--json").stdout)
    assert report["cohort"]["cases"] == 1
    assert report["cases"][0]["projected_lead_time_days"] > 0
    planner = json.loads(cli("report", "--json", user="planner-1").stdout)
    assert planner["cases"] == [] and planner["cohort"]["suppressed"]
    audit = json.loads(cli("audit", "--case", case_id, "--json").stdout)
    assert [line["action"] for line in audit][:3] == ["case.open", "case.show", "step.complete"]


def test_tables_render_for_people(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    listing = cli("case", "list")
    assert listing.exit_code == 0 and case_id in listing.stdout and "-****" in listing.stdout
    tree = cli("pathway", "show")
    assert "critical path" in tree.stdout and "45 days" in tree.stdout
    team = cli("clinician", "list")
    assert "psy-1" in team.stdout
    assert cli("sweep").exit_code == 0


def test_clinicians_and_absences_can_be_added(cli: Cli) -> None:
    added = cli(
        "clinician", "add", "psy-4", "--name", "Nova Test", "--profession", "psychologist",
        "--organisation", "BUP", "--base", "Lycksele", "--roster", "mon=480,wed=240", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["weekly_minutes"] == 720
    assert (
        cli("clinician", "absence", "psy-4", "--from", "2026-07-06", "--to", "2026-08-07").exit_code
        == 0
    )


def test_a_held_step_leaves_the_worklist_state_and_comes_back(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    assert cli("step", "hold", case_id, "intake", "--reason", "interpreter needed").exit_code == 0
    assert "on-hold" in cli("case", "show", case_id).stdout
    assert cli("step", "resume", case_id, "intake").exit_code == 0


def test_the_installed_console_script_runs_as_a_process(cli: Cli) -> None:
    env = {**os.environ, "ESSENCE_DATABASE_URL": cli.url, "ESSENCE_USER": "coord-1"}
    result = subprocess.run(
        [sys.executable, "-m", "essence.cli.app", "case", "list", "--json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_interactive_commands_never_import_prefect(cli: Cli) -> None:
    code = (
        "import sys; from essence.cli.app import app; from typer.testing import CliRunner;"
        "CliRunner().invoke(app, ['--as', 'coord-1', 'case', 'list']);"
        "print('prefect' in sys.modules)"
    )
    env = {**os.environ, "ESSENCE_DATABASE_URL": cli.url}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"


def test_the_coordinator_books_shows_and_exports_the_plan(cli: Cli, opened_case, tmp_path) -> None:
    case_id = opened_case()
    planned = cli("schedule", "plan", "--budget-s", "2", "--workers", "1", "--json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["booked"] and plan["status"] in ("OPTIMAL", "FEASIBLE")
    assert {"objective", "best_bound", "gap", "wall_seconds"} <= set(plan)
    shown = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    assert shown and all(row["case_id"] == case_id for row in shown)
    week = date.fromisoformat(shown[0]["day"]).isocalendar()
    by_week = cli("schedule", "show", "--week", f"{week.year}-W{week.week:02d}")
    assert by_week.exit_code == 0 and case_id in by_week.stdout
    clinician = shown[0]["clinicians"][0]
    ics = tmp_path / "calendar.ics"
    assert cli("schedule", "export", "--clinician", clinician, "--out", str(ics)).exit_code == 0
    assert ics.read_text().startswith("BEGIN:VCALENDAR")
    letter = cli("schedule", "letter", case_id, "--ics", str(tmp_path / "family.ics"))
    assert letter.exit_code == 0 and "Dear family" in letter.stdout
    assert "-****" not in letter.stdout and "Testsson" not in letter.stdout
    mine = json.loads(
        cli("schedule", "show", "--clinician", clinician, "--json", user=clinician).stdout
    )
    assert mine


def test_completing_with_replan_keeps_the_bookings(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    before = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    done = cli("step", "complete", case_id, "intake", "--replan", "--budget-s", "0.5")
    assert done.exit_code == 0, done.output
    assert "re-planned" in done.stdout and "0 moved" in done.stdout
    after = json.loads(cli("schedule", "show", "--case", case_id, "--json").stdout)
    assert [(a["step_key"], a["day"], a["start"]) for a in after] == [
        (a["step_key"], a["day"], a["start"]) for a in before if a["step_key"] != "intake"
    ], "the held intake leaves the booked calendar; every other booking stays"
    history = json.loads(cli("schedule", "show", "--case", case_id, "--history", "--json").stdout)
    assert [a["status"] for a in history if a["step_key"] == "intake"] == ["attended"]


def test_logins_get_passwords_for_the_web_app(cli: Cli) -> None:
    from typer.testing import CliRunner

    from essence import bootstrap
    from essence.cli.app import app
    from essence.services.auth import authenticate

    runner_input = "correct horse battery\ncorrect horse battery\n"  # typed twice, hidden

    env = {"ESSENCE_DATABASE_URL": cli.url}
    made = CliRunner().invoke(
        app, ["--as", "admin", "user", "add", "planner-3", "--role", "planner", "--password"],
        input=runner_input, env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    ctx = bootstrap.context(database_url=cli.url)
    assert authenticate(ctx, "planner-3", "correct horse battery").id == "planner-3"
    reset = CliRunner().invoke(
        app, ["--as", "planner-3", "user", "password", "planner-3"],
        input="another long phrase\nanother long phrase\n", env=env,
    )  # fmt: skip
    assert reset.exit_code == 0, reset.output
    assert authenticate(ctx, "planner-3", "another long phrase").id == "planner-3"
