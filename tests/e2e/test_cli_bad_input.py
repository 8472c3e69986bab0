"""Bad input: one line on stderr naming field and value, exit 2, no traceback, nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from essence.domain.personnummer import luhn_check_digit
from tests.e2e.conftest import Cli
from tests.factories import personnummer

FUTURE = "2099-01-01"


def _open(cli: Cli, **fields: str):
    values = {
        "personnummer": personnummer().digits,
        "name": "Testa Testsson",
        "municipality": "Umeå",
        "referring-unit": "BHV",
        "referral-date": "2026-10-01",
    }
    values.update(fields)
    args = [item for key, value in values.items() for item in (f"--{key}", value)]
    return cli("case", "open", *args)


def _assert_refused(
    result, cli: Cli, before: dict[str, int], *fragments: str, code: int = 2
) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert cli.counts() == before


def _bad_checksum() -> str:
    good = personnummer().digits
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def _impossible_date() -> str:
    body = "210231123"  # 31 February 2021
    return "20" + body + str(luhn_check_digit(body))


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        ({"personnummer": "BAD"}, ("personnummer",)),
        ({"municipality": "Atlantis"}, ("municipality: Atlantis: unknown",)),
        ({"referral-date": FUTURE}, ("referral date: 2099-01-01: lies in the future",)),
        ({"referral-date": "yesterday"}, ("referral date: yesterday",)),
    ],
)
def test_bad_referrals_are_refused(
    cli: Cli, fields: dict[str, str], fragments: tuple[str, ...]
) -> None:
    before = cli.counts()
    _assert_refused(_open(cli, **fields), cli, before, *fragments)


@pytest.mark.parametrize("make", [_bad_checksum, _impossible_date])
def test_invalid_personnummer_is_refused_without_echoing_it(cli: Cli, make) -> None:
    before = cli.counts()
    number = make()
    result = _open(cli, personnummer=number)
    _assert_refused(result, cli, before, "personnummer")
    assert number not in result.stderr and number[8:] not in result.stderr


def test_unknown_case_and_clinician_are_refused(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    before = cli.counts()
    _assert_refused(
        cli("case", "show", "c-doesnotexist"), cli, before, "case: c-doesnotexist: not found"
    )
    _assert_refused(
        cli("worklist", "--clinician", "psy-99"), cli, before, "clinician: psy-99: not found"
    )
    _assert_refused(
        cli("step", "assign", case_id, "intake", "--clinician", "nobody"),
        cli,
        before,
        "clinician: nobody",
    )
    _assert_refused(cli("case", "list", user="ghost"), cli, before, "user: ghost: unknown user")


def test_completing_a_step_that_is_not_ready_or_already_done_is_refused(
    cli: Cli, opened_case
) -> None:
    case_id = opened_case()
    before = cli.counts()
    _assert_refused(
        cli("step", "complete", case_id, "feedback_meeting"), cli, before, "feedback_meeting"
    )
    assert cli("step", "complete", case_id, "intake").exit_code == 0
    before = cli.counts()
    _assert_refused(cli("step", "complete", case_id, "intake"), cli, before, "already completed")
    _assert_refused(cli("step", "complete", case_id, "nap_time"), cli, before, "step: nap_time")


def test_starting_without_consent_is_refused(cli: Cli, opened_case) -> None:
    case_id = opened_case("--consent", "1")
    before = cli.counts()
    _assert_refused(cli("step", "start", case_id, "intake"), cli, before, "consent")


def test_a_malformed_or_cyclic_pathway_file_is_refused(cli: Cli, tmp_path) -> None:
    cyclic = tmp_path / "cyclic.yaml"
    cyclic.write_text(
        "name: loop\nversion: 1\nsteps:\n"
        "  - {key: a, title: A, professions: [psychologist], minutes: 10, requires: [b]}\n"
        "  - {key: b, title: B, professions: [psychologist], minutes: 10, requires: [a],"
        " milestone: feedback}\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsteps: [unclosed\n")
    before = cli.counts()
    _assert_refused(cli("pathway", "validate", str(cyclic)), cli, before, "cycle", "a -> b -> a")
    _assert_refused(cli("pathway", "validate", str(broken)), cli, before, "broken.yaml")
    _assert_refused(cli("pathway", "load", str(cyclic)), cli, before, "cycle")


def test_an_unreachable_database_names_the_host_but_not_the_password(tmp_path) -> None:
    from typer.testing import CliRunner

    from essence.cli.app import app

    url = "postgresql+psycopg://essence:s3cret@127.0.0.1:1/nowhere"
    result = CliRunner().invoke(
        app, ["--as", "coord-1", "case", "list"], env={"ESSENCE_DATABASE_URL": url}
    )
    assert result.exit_code == 1
    assert "127.0.0.1" in result.stderr and "s3cret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_permission_denied_is_one_line_and_logged(cli: Cli, opened_case) -> None:
    case_id = opened_case()
    result = cli("case", "show", case_id, user="planner-1")
    assert result.exit_code == 2 and "permission denied" in result.stderr
    import json

    audit = json.loads(cli("audit", "--case", case_id, "--json").stdout)
    assert ("planner-1", "denied") in [(a["user_id"], a["outcome"]) for a in audit]
    assert date.today()


def test_schedule_bad_input_is_refused(cli: Cli, opened_case) -> None:
    opened_case()
    before = cli.counts()
    _assert_refused(
        cli("schedule", "plan", "--horizon-weeks", "0"), cli, before, "horizon-weeks: 0"
    )
    _assert_refused(cli("schedule", "plan", "--budget-s", "0"), cli, before, "budget-s: 0")
    _assert_refused(
        cli("schedule", "show", "--clinician", "ghost"), cli, before, "clinician: ghost"
    )
    _assert_refused(cli("schedule", "show", "--case", "c-ghost"), cli, before, "case: c-ghost")
    _assert_refused(cli("schedule", "show", "--week", "May"), cli, before, "week: May")
    _assert_refused(
        cli("clinician", "absence", "psy-1", "--from", "2027-03-10", "--to", "2027-03-01"),
        cli, before, "ends before it starts",
    )  # fmt: skip
    _assert_refused(
        cli("clinician", "add", "psy-9", "--name", "X", "--profession", "psychologist",
            "--organisation", "BUP", "--roster", "mon=-60"),
        cli, before, "roster.mon: -60",
    )  # fmt: skip


def test_a_database_without_schema_asks_for_init(tmp_path) -> None:
    from typer.testing import CliRunner

    from essence.cli.app import app

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(
        app, ["--as", "coord-1", "case", "list"], env={"ESSENCE_DATABASE_URL": url}
    )
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("run `essence init`")
