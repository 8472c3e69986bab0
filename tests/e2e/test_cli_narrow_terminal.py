"""The everyday tables stay readable in an 80-column terminal: every column keeps its header,
and no id, name, date or time is cut with "…" or squeezed out (wrapping is fine).

Each command runs twice on the same SQLite database: with `--json`, for what the table
must show, and as a table at COLUMNS=80 (and at 200, where the wide layouts are drawn).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from essence.cli.app import app
from essence.domain.calendar import STOCKHOLM
from tests.e2e.conftest import Cli
from tests.factories import personnummer

CHILDREN = [
    ("Åsa Öberg-Lindqvist", "Robertsfors"),
    ("Maximiliana Johansson-Wikström", "Vilhelmina"),
    ("Li Ek", "Skellefteå"),
]


def _pieces(text: str) -> set[str]:
    """Words without brackets or commas, split after "-" and "/" too (a name wrapped at its
    hyphen, a date in brackets still count)."""
    return set(re.findall(r"[^\s/(),;-]+[/-]?", text))


def _drawn(cli: Cli, width: int, *args: str, user: str = "coord-1") -> str:
    result = CliRunner().invoke(
        app, ["--as", user, *args], env={"ESSENCE_DATABASE_URL": cli.url, "COLUMNS": str(width)}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _data(cli: Cli, *args: str, user: str = "coord-1") -> Any:
    result = cli(*args, "--json", user=user)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _fields(rows: list[dict[str, Any]], *keys: str) -> list[object]:
    """The values of `keys` in every row, lists spread out."""
    values: list[object] = []
    for row in rows:
        for key in keys:
            values += row[key] if isinstance(row[key], list) else [row[key]]
    return values


def _assert_readable(
    drawn: str, width: int, headers: Iterable[str], values: Iterable[object]
) -> None:
    """Nothing wider than the terminal, no word cut, every header and value there in full."""
    too_wide = [line for line in drawn.splitlines() if cell_len(line) > width]
    assert not too_wide, "\n".join(too_wide)
    cut = [word for word in drawn.split() if word.endswith("…") and word != "…"]
    assert not cut, f"cut at {width} columns: {cut}\n{drawn}"
    shown = _pieces(drawn)
    for text in [*headers, *(str(v) for v in values if v not in (None, ""))]:
        missing = _pieces(text) - shown
        assert not missing, f"{text!r} not shown in full at {width} columns: {missing}\n{drawn}"


@pytest.fixture
def busy_team(cli: Cli) -> tuple[Cli, str, str]:
    """Three open cases with long names, one under way with a held step, all planned:
    the database, the case under way and a clinician with work."""
    ids = []
    for name, home in CHILDREN:
        opened = _data(
            cli, "case", "open", "--personnummer", personnummer().digits, "--name", name,
            "--municipality", home, "--referring-unit", f"BHV {home}",
            "--referral-date", "2026-10-01", "--consent", "2",
        )  # fmt: skip
        ids.append(opened["id"])
    case_id = ids[0]
    assert cli("step", "complete", case_id, "intake", "--outcome", "both met").exit_code == 0
    held = cli("step", "hold", case_id, "language_assessment", "--reason", "interpreter needed")
    assert held.exit_code == 0, held.output
    assert cli("schedule", "plan", "--greedy").exit_code == 0
    steps = _data(cli, "case", "show", case_id)["steps"]
    ready = next(s for s in steps if s["key"] == "preschool_observation")  # ready, planned
    clinician = ready["assignees"]["speech_therapist"]
    return cli, case_id, clinician


@pytest.mark.parametrize("width", [80, 200])
def test_case_lists_and_worklists_keep_every_column_and_whole_names(
    busy_team: tuple[Cli, str, str], width: int
) -> None:
    cli, _case_id, clinician = busy_team
    cases = _data(cli, "case", "list")
    assert len(cases) == len(CHILDREN)
    _assert_readable(
        _drawn(cli, width, "case", "list"),
        width,
        ["case", "child", "home", "state", "done", "proj.", "risk", "waiting on"],
        _fields(cases, "id", "personnummer", "child_name", "municipality", "state")
        + [f"{c['steps_done']}/{c['steps_total']}" for c in cases]
        + [f"{c['projected_lead_time_days']} d" for c in cases]
        + [wait for c in cases for wait in c["waiting_on"][:4]],
    )
    work = _data(cli, "worklist", user=clinician)
    assert any(item["planned_start"] for item in work), work
    _assert_readable(
        _drawn(cli, width, "worklist", user=clinician),
        width,
        ["case", "child", "step", "state", "ready", "planned", "min", "with"],
        _fields(work, "case_id", "personnummer", "child_name", "title", "state", "ready_on")
        + _fields(work, "planned_on", "planned_start", "minutes", "joint_with"),
    )


@pytest.mark.parametrize("width", [80, 200])
def test_a_case_its_calendar_report_and_log_keep_every_column(
    busy_team: tuple[Cli, str, str], width: int
) -> None:
    cli, case_id, _clinician = busy_team
    steps = _data(cli, "case", "show", case_id)["steps"]
    _assert_readable(
        _drawn(cli, width, "case", "show", case_id),
        width,
        ["step", "state", "who", "min", "ready", "done", "note"],
        _fields(steps, "key", "state", "due_on", "ready_on", "outcome", "hold_reason")
        + [s["minutes"] or "" for s in steps]
        + [(s["completed_at"] or "")[:10] for s in steps]
        + [f"{p}:{c}" for s in steps for p, c in s["assignees"].items()],
    )
    calendar = _data(cli, "schedule", "show", "--case", case_id)
    assert calendar
    _assert_readable(
        _drawn(cli, width, "schedule", "show", "--case", case_id),
        width,
        ["time", "case", "step", "who", "place"],
        _fields(calendar, "case_id", "title", "place", "clinicians")
        + [f"{a['start']}-{a['end']}" for a in calendar],
    )
    cases = _data(cli, "report")["cases"]
    _assert_readable(
        _drawn(cli, width, "report"),
        width,
        ["case", "home", "state", "referred", "lead/projected", "saved", "visits"],
        _fields(cases, "case_id", "municipality", "state", "referral_date", "projected_feedback")
        + [f"~{c['projected_lead_time_days']} d" for c in cases],
    )
    log = _data(cli, "audit", "--case", case_id)
    _assert_readable(
        _drawn(cli, width, "audit", "--case", case_id),
        width,
        ["when (Stockholm)", "user", "role", "action", "outcome", "detail"],
        _fields(log, "user_id", "role", "action", "outcome", "detail")
        + [
            datetime.fromisoformat(e["at"]).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")
            for e in log
        ],
    )


@pytest.mark.parametrize("width", [80, 200])
def test_the_team_list_keeps_every_column(cli: Cli, width: int) -> None:
    team = _data(cli, "clinician", "list")
    _assert_readable(
        _drawn(cli, width, "clinician", "list"),
        width,
        ["id", "name", "profession", "organisation", "base", "min/week", "open min"],
        _fields(team, "id", "name", "profession", "organisation", "base")
        + _fields(team, "weekly_minutes", "open_minutes"),
    )
