"""`essence case import|export` and `essence report --term` through the CLI.

Bad bundles give one line naming the element path and exit code 2; nothing is written.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fhir" / "referral-sorsele.json"


@pytest.fixture
def referral_file(tmp_path: Path) -> Path:
    """The region's referral with its dates moved to yesterday (the CLI's clock is real)."""
    bundle = json.loads(FIXTURE.read_text(encoding="utf-8"))
    yesterday = date.fromordinal(date.today().toordinal() - 1).isoformat()
    bundle["entry"][4]["resource"]["authoredOn"] = f"{yesterday}T09:10:00+01:00"
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def test_import_then_export_the_care_plan(cli: Cli, referral_file: Path, tmp_path: Path) -> None:
    imported = cli("case", "import", str(referral_file), "--json")
    assert imported.exit_code == 0, imported.output
    case = json.loads(imported.stdout)
    assert (case["municipality"], case["consenting"]) == ("Sorsele", 2)
    out = tmp_path / "careplan.json"
    exported = cli("case", "export", case["id"], "--fhir", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "ServiceRequest", "CarePlan", "Task", "PractitionerRole"} <= kinds
    to_stdout = cli("case", "export", case["id"], "--fhir")
    assert json.loads(to_stdout.stdout)["type"] == "collection"


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ("{oops", "Bundle"),
        ('{"resourceType": "Bundle", "type": "transaction", "entry": []}', "Bundle.entry.where"),
    ],
)
def test_a_bad_bundle_is_one_line_with_the_path_and_exit_2(
    cli: Cli, tmp_path: Path, content: str, path: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    before = cli.counts()
    result = cli("case", "import", str(bad))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), result.stderr
    assert "Traceback" not in result.output
    assert cli.counts() == before


def test_a_bad_personnummer_names_the_identifier_and_not_the_number(
    cli: Cli, referral_file: Path
) -> None:
    bundle = json.loads(referral_file.read_text(encoding="utf-8"))
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "202204182387"
    referral_file.write_text(json.dumps(bundle), encoding="utf-8")
    result = cli("case", "import", str(referral_file))
    assert result.exit_code == 2
    assert "Bundle.entry[0].resource.identifier[0].value" in result.stderr
    assert "202204182387" not in result.output


def test_export_needs_a_format_and_respects_roles(cli: Cli, referral_file: Path) -> None:
    case_id = json.loads(cli("case", "import", str(referral_file), "--json").stdout)["id"]
    no_format = cli("case", "export", case_id)
    assert no_format.exit_code == 2 and "--fhir" in no_format.stderr
    planner = cli("case", "export", case_id, "--fhir", user="planner-1")
    assert planner.exit_code == 2 and "permission denied" in planner.stderr


def test_term_report_in_tables_json_csv_and_xlsx(
    cli: Cli, referral_file: Path, tmp_path: Path
) -> None:
    cli("case", "import", str(referral_file))
    today = date.today()
    term = f"{today.year}H{1 if today.month <= 6 else 2}"
    table = cli("report", "--term", term, user="planner-1")
    assert table.exit_code == 0, table.output
    assert f"Term follow-up {term}" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    as_json = cli("report", "--term", term, "--json", user="planner-1")
    view = json.loads(as_json.stdout)
    assert view["period"] == term and view["overall"]["suppressed"] is True
    files = cli(
        "report", "--term", term, "--csv", str(tmp_path / "csv"), "--xlsx",
        str(tmp_path / "f.xlsx"), user="planner-1",
    )  # fmt: skip
    assert files.exit_code == 0, files.output
    assert len(list((tmp_path / "csv").glob("*.csv"))) == 5
    assert (tmp_path / "f.xlsx").stat().st_size > 0
    bad = cli("report", "--term", "2026H3", user="planner-1")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: term")


def test_report_without_a_period_is_still_the_lead_time_report(cli: Cli) -> None:
    result = cli("report", "--json")
    assert result.exit_code == 0, result.output
    assert "cohort" in json.loads(result.stdout)
