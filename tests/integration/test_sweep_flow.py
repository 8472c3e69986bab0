"""The daily sweep as a Prefect flow, on a real database and a temporary Prefect server."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from essence import bootstrap
from essence.services import cases, steps
from tests.factories import FixedClock, referral


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    bootstrap.initialise(database_url=url, demo_team=True)
    return url


def test_the_sweep_flow_writes_a_report_and_an_artifact(
    prefect_harness: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    from flows.sweep import daily_sweep_flow

    clock = FixedClock(now=None)  # type: ignore[arg-type]
    clock.set(date.today() - timedelta(days=40))
    ctx = bootstrap.context(user_id="coord-1", database_url=sqlite_url, clock=clock)
    case_id = cases.open_case(ctx, referral(referral_date=clock.now.date())).id
    steps.complete_step(ctx, case_id, "intake")
    monkeypatch.setenv("ESSENCE_DATABASE_URL", sqlite_url)

    sweep = daily_sweep_flow(report_dir=str(tmp_path / "reports"))

    assert sweep.waiting_steps_completed == 1
    assert any(o.case_id == case_id and o.step_key == "medical_exam" for o in sweep.overdue_steps)
    written = json.loads((tmp_path / "reports" / f"sweep-{sweep.as_of}.json").read_text())
    assert written["open_cases"] == 1
    assert "Overdue steps" in (tmp_path / "reports" / f"sweep-{sweep.as_of}.md").read_text()
    from essence.services.scheduling import show_schedule

    booked = show_schedule(
        bootstrap.context(user_id="coord-1", database_url=sqlite_url), case_id=case_id
    )
    assert {a.step_key for a in booked} >= {"medical_exam", "feedback_meeting"}, "re-planned"

    async def read_artifact() -> str:
        async with get_client() as client:
            artifact = await client.read_latest_artifacts()
            return next(a.data for a in artifact if a.key == "daily-sweep")

    import asyncio

    assert case_id in asyncio.run(read_artifact())


def test_the_serve_deployments_put_the_sweep_on_weekday_mornings_in_stockholm() -> None:
    from flows.serve import SWEEP_CRON, TIMEZONE, deployments

    sweep, *_ = deployments()
    schedule = sweep.schedules[0].schedule  # type: ignore[attr-defined]
    assert (
        (schedule.cron, schedule.timezone)
        == (SWEEP_CRON, TIMEZONE)
        == ("0 7 * * 1-5", "Europe/Stockholm")
    )


def test_the_intake_flow_reads_the_referral_from_a_file_not_from_parameters(
    prefect_harness: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.cases import advance_flow, intake_flow
    from tests.factories import personnummer

    pnr = personnummer().digits
    referral_file = tmp_path / "referral.json"
    referral_file.write_text(
        json.dumps(
            {
                "personnummer": pnr,
                "child_name": "Testa Testsson",
                "municipality": "Åsele",
                "referring_unit": "BHV Åsele",
                "referral_date": date.today().isoformat(),
            }
        )
    )
    monkeypatch.setenv("ESSENCE_DATABASE_URL", sqlite_url)
    case_id = intake_flow(str(referral_file), "coord-1")
    assert case_id.startswith("c-")
    assert advance_flow(case_id) == []
    with pytest.raises(Exception, match=r"referral file: missing\.json: does not exist"):
        intake_flow(str(tmp_path / "missing.json"), "coord-1")
