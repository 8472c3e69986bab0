"""Behaviour of the pathway engine on the default pathway: conservation, seeds, policies."""

from __future__ import annotations

import numpy as np
import pytest

from essence.simulation.engine import run_replication
from essence.simulation.model import compile_model
from essence.simulation.scenario import Scenario, parse_scenario


def _short(**changes) -> Scenario:
    return parse_scenario({"years": 0.5, "warmup_days": 60, "replications": 2, **changes})


def test_every_arrival_is_either_finished_or_still_in_the_system() -> None:
    model = compile_model(_short())
    for policy in ("sequential", "coordinated"):
        result = run_replication(model, policy, 0)
        assert result.arrived == result.finished + result.in_system
        assert result.finished > 0
        assert result.completed.all()


def test_an_overloaded_team_leaves_children_in_the_system_and_censors_them() -> None:
    staff = {"coordinator": 1, "psychologist": 1, "speech_therapist": 1, "physician": 1,
             "physiotherapist": 1, "bhv_nurse": 1, "habilitation": 1}  # fmt: skip
    scenario = _short(teams=[{"base": "Umeå", "staff": staff}], max_cooldown_days=100)
    result = run_replication(compile_model(scenario), "coordinated", 0)
    assert result.in_system > 0
    assert result.arrived == result.finished + result.in_system
    assert not result.completed.all()
    assert result.lead_days[~result.completed].min() > 0


def test_same_seed_gives_the_same_figures_and_another_seed_differs() -> None:
    model = compile_model(_short())
    first = run_replication(model, "coordinated", 1)
    again = run_replication(model, "coordinated", 1)
    other = run_replication(model, "coordinated", 2)
    np.testing.assert_array_equal(first.lead_days, again.lead_days)
    assert first.lead_days.size != other.lead_days.size or not np.array_equal(
        first.lead_days, other.lead_days
    )


def test_policies_share_referrals_so_differences_are_not_noise() -> None:
    model = compile_model(_short())
    sequential = run_replication(model, "sequential", 0)
    coordinated = run_replication(model, "coordinated", 0)
    np.testing.assert_array_equal(sequential.municipality, coordinated.municipality)


def test_coordinated_team_is_faster_and_needs_fewer_visit_days_than_sequential() -> None:
    model = compile_model(_short())
    sequential = run_replication(model, "sequential", 0)
    coordinated = run_replication(model, "coordinated", 0)
    assert np.median(coordinated.lead_days) < 0.6 * np.median(sequential.lead_days)
    assert coordinated.visit_days.mean() < sequential.visit_days.mean()


@pytest.mark.slow
def test_default_sequential_policy_reproduces_the_twenty_week_baseline() -> None:
    model = compile_model(Scenario())
    medians = [np.median(run_replication(model, "sequential", r).lead_days) for r in range(3)]
    assert 120 <= np.mean(medians) <= 160


def test_ambulating_team_travels_instead_of_the_families() -> None:
    central = run_replication(compile_model(_short()), "coordinated", 0)
    ambulating = run_replication(
        compile_model(_short(setup={"kind": "ambulating"})), "coordinated", 0
    )
    assert ambulating.family_km.sum() < 0.2 * central.family_km.sum()
    assert ambulating.staff_km.sum() > central.staff_km.sum()


def test_satellite_teams_serve_the_nearest_children() -> None:
    staff = {"coordinator": 1, "psychologist": 2, "speech_therapist": 2, "physician": 1,
             "physiotherapist": 1, "bhv_nurse": 1, "habilitation": 1}  # fmt: skip
    scenario = _short(
        setup={"kind": "satellites"},
        teams=[{"base": b, "staff": staff} for b in ("Umeå", "Skellefteå", "Lycksele")],
    )
    model = compile_model(scenario)
    assert model.team_of_municipality[model.municipalities.index("Skellefteå")] == 1
    assert model.team_of_municipality[model.municipalities.index("Sorsele")] == 2
    assert model.team_of_municipality[model.municipalities.index("Vännäs")] == 0


def test_psychologists_are_busy_with_exactly_the_offered_work() -> None:
    scenario = _short(
        years=2,
        no_show_rate=0,
        referrals={"seasonality": 0},
        calendar={"holidays": False, "vacation_weeks": 0, "sick_leave_rate": 0},
        setup={"no_show_per_100km": 0},
    )
    model = compile_model(scenario)
    psychologist = model.professions.index("psychologist")
    minutes_per_child = 120 + 60 + 60 + 40 + 90 + 90 + 120
    available_per_year = 4 * 300 * 5 * 365.25 / 7
    expected = 300 * minutes_per_child / available_per_year
    measured = np.mean(
        [run_replication(model, "coordinated", r).utilisation[psychologist] for r in range(3)]
    )
    assert measured == pytest.approx(expected, rel=0.05)
