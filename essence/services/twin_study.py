"""The twin beside the simulator: one scenario and seed, both scored the same way, with reasons.

`run_twin_study` runs the twin (essence.services.twin) and the simulator's coordinated
policy on the same scenario and seed, and explains the differences from what the twin
measured (consent delay, booking lead, bundling, re-plan horizon, no-shows, sickness).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel

from essence.scheduling.clinic_problem import PlanSettings
from essence.services.capacity import (
    BASELINE_DAYS,
    TARGET_DAYS,
    Estimate,
    PolicyReport,
    build_report,
    run_results,
)
from essence.services.context import ServiceContext
from essence.services.demo import SimulatedClock
from essence.services.twin import DayProgress, TwinOptions, run_twin
from essence.services.twin_report import TwinActivity, TwinChecks, score_twin
from essence.simulation.model import compile_model
from essence.simulation.scenario import Scenario
from essence.simulation.summary import equity_gap_days, summarise_policy

DEFAULT_SIMULATOR_REPLICATIONS = 10


class Difference(BaseModel):
    """One figure of the side-by-side table: twin, simulator (mean of replications), twin -
    simulator, and the simulator's replication with the twin's own referrals and calendars."""

    measure: str
    unit: str
    twin: float | None
    simulator: float | None
    simulator_low: float | None
    simulator_high: float | None
    difference: float | None
    same_referrals: float | None


class TwinReport(BaseModel):
    """What `essence twin` prints and dumps as JSON."""

    children_per_year: float
    years: float
    warmup_days: float
    seed: int
    setup: str
    teams: list[dict[str, Any]]
    staff_total: int
    baseline_days: float
    target_days: float
    options: dict[str, float | int]
    simulator_policy: str
    simulator_replications: int
    twin: PolicyReport
    simulator: PolicyReport
    same_referrals: PolicyReport
    differences: list[Difference]
    explanation: list[str]
    activity: TwinActivity
    checks: TwinChecks
    timings: list[dict[str, Any]]
    wall_seconds: float
    twin_seconds: float
    simulator_seconds: float
    load_average_start: list[float]
    load_average_end: list[float]


def run_twin_study(
    ctx: ServiceContext,
    clock: SimulatedClock,
    scenario: Scenario,
    options: TwinOptions | None = None,
    *,
    simulator_replications: int = DEFAULT_SIMULATOR_REPLICATIONS,
    on_day: DayProgress | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> TwinReport:
    """Run the twin and the simulator's coordinated policy on one scenario and seed.

    Args:
        ctx: A context on a fresh scratch database whose clock is `clock`.
        clock: The simulated clock.
        scenario: The scenario (the simulator side uses its coordinated policy).
        options: The twin's re-plan cadence, budget and horizon.
        simulator_replications: Replications of the simulator (>= 2 for a 95% CI).
        on_day: Progress of the twin (day, days at most, date).
        on_phase: Called with a short label when a phase starts.
    """
    options = options or TwinOptions()
    load_start = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    if on_phase:
        on_phase("twin")
    run = run_twin(ctx, clock, scenario, options, on_day)
    with run.timings("scoring + invariants"):
        twin, activity, checks = score_twin(ctx, run)
    twin_seconds = time.perf_counter() - started
    if on_phase:
        on_phase("simulator")
    sim_started = time.perf_counter()
    policy, simulator, same = _simulator(scenario, max(2, simulator_replications))
    simulator_seconds = time.perf_counter() - sim_started
    return TwinReport(
        children_per_year=scenario.children_per_year,
        years=scenario.years,
        warmup_days=scenario.warmup_days,
        seed=scenario.seed,
        setup=scenario.setup.kind,
        teams=[t.model_dump(mode="json") for t in scenario.teams],
        staff_total=len(run.team),
        baseline_days=BASELINE_DAYS,
        target_days=TARGET_DAYS,
        options={
            "replan_every_days": options.replan_every_days,
            "budget_s": options.budget_s,
            "horizon_weeks": options.horizon_weeks,
        },
        simulator_policy=policy,
        simulator_replications=simulator.replications,
        twin=twin,
        simulator=simulator,
        same_referrals=same,
        differences=differences(twin, simulator, same),
        explanation=explain(scenario, policy, twin, simulator, activity, options),
        activity=activity,
        checks=checks,
        timings=run.timings.rows(),
        wall_seconds=round(time.perf_counter() - started, 2),
        twin_seconds=round(twin_seconds, 2),
        simulator_seconds=round(simulator_seconds, 2),
        load_average_start=load_start,
        load_average_end=[round(x, 2) for x in os.getloadavg()],
    )


def _simulator(scenario: Scenario, replications: int) -> tuple[str, PolicyReport, PolicyReport]:
    """The simulator's coordinated policy: over `replications`, and replication 0 alone
    (the twin's own referrals and staff calendars: common random numbers)."""
    policy = "coordinated" if "coordinated" in scenario.policies else next(iter(scenario.policies))
    only = scenario.model_copy(
        update={"policies": {policy: scenario.policies[policy]}, "replications": replications}
    )
    results = run_results(only)
    report = build_report(only, results, 1.0).policies[0]
    summary = summarise_policy(compile_model(only), results[policy][:1], TARGET_DAYS)
    summary["policy"] = f"{policy} (replication 0)"
    summary["equity_gap_days"] = equity_gap_days(summary)
    return policy, report, PolicyReport.model_validate(summary)


def _mean(value: Estimate | None, scale: float = 1.0) -> float | None:
    if value is None or value.mean is None:
        return None
    return round(value.mean * scale, 2)


MEASURES: tuple[tuple[str, str, str, float], ...] = (
    ("median lead time", "days", "median_days", 1.0),
    ("p90 lead time", "days", "p90_days", 1.0),
    ("mean lead time", "days", "mean_days", 1.0),
    ("within 90 days", "%", "within_target_share", 100.0),
    ("visit days per child", "days", "visit_days", 1.0),
    ("family km per child", "km", "family_km_per_child", 1.0),
    ("staff km per year", "km", "staff_km_per_year", 1.0),
    ("feedback held", "%", "completed_share", 100.0),
)


def differences(
    twin: PolicyReport, simulator: PolicyReport, same: PolicyReport
) -> list[Difference]:
    """The side-by-side rows: lead times, visits, km, completion, equity gap, utilisation."""
    rows = []
    for label, unit, name, scale in MEASURES:
        sim: Estimate = getattr(simulator, name)
        rows.append(
            _row(label, unit, _mean(getattr(twin, name), scale), sim, scale,
                 _mean(getattr(same, name), scale))
        )  # fmt: skip
    rows.append(
        _row("equity gap (p90, groups)", "days", twin.equity_gap_days, None, 1.0,
             same.equity_gap_days, simulator.equity_gap_days)
    )  # fmt: skip
    professions = zip(twin.professions, simulator.professions, same.professions, strict=True)
    for mine, theirs, own in professions:
        rows.append(
            _row(f"utilisation {mine.profession}", "%", _mean(mine.utilisation, 100),
                 theirs.utilisation, 100.0, _mean(own.utilisation, 100))
        )  # fmt: skip
    return rows


def _row(
    measure: str,
    unit: str,
    twin: float | None,
    sim: Estimate | None,
    scale: float,
    same: float | None,
    sim_value: float | None = None,
) -> Difference:
    mean = _mean(sim, scale) if sim is not None else sim_value
    low = round(sim.low * scale, 2) if sim is not None and sim.low is not None else None
    high = round(sim.high * scale, 2) if sim is not None and sim.high is not None else None
    diff = round(twin - mean, 2) if twin is not None and mean is not None else None
    return Difference(
        measure=measure,
        unit=unit,
        twin=twin,
        simulator=mean,
        simulator_low=low,
        simulator_high=high,
        difference=diff,
        same_referrals=same,
    )


def explain(
    scenario: Scenario,
    policy: str,
    twin: PolicyReport,
    simulator: PolicyReport,
    activity: TwinActivity,
    options: TwinOptions,
) -> list[str]:
    """Short reasons for the differences, each with the figure the twin measured."""
    spec = scenario.policies[policy]
    settings = PlanSettings(start=date(2000, 1, 3))
    lines = []
    if activity.consent_days_mean is not None:
        lines.append(
            f"Consent: both guardians' consent was on record {activity.consent_days_mean:.1f} "
            "days after the referral on average; the simulator starts every child on the "
            "referral day."
        )
    ready = activity.family_ready_to_visit_days_mean
    lines.append(
        f"Booking lead: the planner puts no new family appointment in the next "
        f"{settings.frozen_working_days} working days (notice), and a family-facing step waited "
        + (f"{ready:.1f} days from ready to held" if ready is not None else "(none held)")
        + f"; the simulator books each one {spec.booking_days:g} days after it is ready and "
        "then queues it for a free clinician."
    )
    lines.append(
        f"Bundling: {_fmt(_mean(twin.visit_days))} visit days per child in the twin against "
        f"{_fmt(_mean(simulator.visit_days))} in the simulator; the planner bundles steps it can "
        f"place on one day (at most {settings.family_max_minutes} minutes for the family), "
        "the simulator bundles steps that happen to be ready together."
    )
    lines.append(
        f"Re-plan horizon: every working day the planner looks {options.horizon_weeks} weeks "
        "ahead with bookings frozen (greedy; with CP-SAT every "
        f"{options.replan_every_days} working day(s)); on average "
        f"{activity.not_scheduled_yet_per_plan:.1f} steps per plan lay beyond it ('not "
        "scheduled yet') and wait for a later plan; the simulator has no horizon."
    )
    due = max(activity.family_facing_due, 1)
    lines.append(
        f"No-shows and sickness: families missed {activity.no_shows} of "
        f"{activity.family_facing_due} family appointments "
        f"({100 * activity.no_shows / due:.1f}%), each rebooked by the next plan after the "
        f"notice window (simulator: after {scenario.rebook_days:g} days); "
        f"{activity.sick_days} sick days cancelled {activity.not_held_clinician_sick} "
        f"appointments and {activity.not_held_prerequisite_missing} waited for a prerequisite "
        "that was missed."
    )
    lines.append(
        f"Travel: the planner lets a family meet at the nearest clinic site "
        f"({', '.join(settings.sites)}) and sends the staff there, or to the preschool; "
        f"family km per child {_fmt(_mean(twin.family_km_per_child))} (simulator "
        f"{_fmt(_mean(simulator.family_km_per_child))}), staff km per year "
        f"{_fmt(_mean(twin.staff_km_per_year))} (simulator "
        f"{_fmt(_mean(simulator.staff_km_per_year))}, set-up {scenario.setup.kind})."
    )
    lines.append(
        "Durations: appointments take their booked minutes in the twin; the simulator draws "
        f"each from a {scenario.duration.kind} distribution (cv {scenario.duration.cv:g})."
    )
    return lines


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
