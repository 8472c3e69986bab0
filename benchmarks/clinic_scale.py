"""Benchmark 2, clinic scale: 60 open cases and an 11-person team over a 10-week horizon.

Prints the machine's speed (`python_loop_s`), the full plan (wall time, gap), one new
referral inserted into the booked plan and the coordinated plan against sequential
referrals; writes results/clinic_scale.json.
It runs the product's own `plan_clinic` (what `essence schedule plan` calls) and checks
every plan with the independent checker; it leaves out the database, audit and Prefect
layers around it (the service tests cover those) and judges clock times only by the
checker's rules (`LEFT_OUT`, printed and written too).
Usage: python benchmarks/clinic_scale.py [--budget-s 30] [--workers 2] [--seed 7]
       [--solver-seeds 1-7]  (the full plan again with each solver seed: its spread)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from essence.domain.geography import MUNICIPALITIES
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Absence, Clinician, Roster
from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_greedy import greedy_schedule
from essence.scheduling.clinic_instance import build_instance
from essence.scheduling.clinic_planner import insert_referral, plan_clinic
from essence.scheduling.clinic_problem import (
    CaseMetrics,
    Plan,
    PlanningCase,
    PlanSettings,
    Unscheduled,
    default_template,
)
from essence.scheduling.sequential import compare_plans, sequential_plan

RESULTS = Path(__file__).resolve().parent / "results" / "clinic_scale.json"
LEFT_OUT = (
    "the database, audit and Prefect layers around plan_clinic (covered by the service "
    "tests); clock-time quality beyond the checker's rules"
)
START = date(2027, 3, 22)  # Monday; the horizon holds Easter and Ascension Day
#: Additions in the machine-speed probe (`python_loop_s`).
SPEED_PROBE_ADDITIONS = 10_000_000


def make_team() -> list[Clinician]:
    """3 psychologists, 2 speech therapists, 1 physiotherapist, 2 physicians, 1 coordinator,
    1 BHV nurse and 1 habilitation clinician (the network meeting needs one)."""

    def member(cid: str, profession: Profession, organisation: Organisation, **extra):
        return Clinician(cid, cid, profession, organisation, **extra)

    vacation = [Absence(START + timedelta(days=21), START + timedelta(days=25), "vacation")]
    return [
        member("psy-1", Profession.PSYCHOLOGIST, Organisation.BUP),
        member("psy-2", Profession.PSYCHOLOGIST, Organisation.BUP, absences=vacation),
        member("psy-3", Profession.PSYCHOLOGIST, Organisation.BUC, roster=Roster.uniform(240)),
        member("slp-1", Profession.SPEECH_THERAPIST, Organisation.LOGOPEDI),
        member(
            "slp-2",
            Profession.SPEECH_THERAPIST,
            Organisation.LOGOPEDI,
            roster=Roster((360, 360, 360, 0, 0, 0, 0)),
        ),
        member("pt-1", Profession.PHYSIOTHERAPIST, Organisation.HABILITATION),
        member("md-1", Profession.PHYSICIAN, Organisation.BUC, roster=Roster.uniform(240)),
        member("md-2", Profession.PHYSICIAN, Organisation.BUP, roster=Roster.uniform(240, 4)),
        member("co-1", Profession.COORDINATOR, Organisation.BUP),
        member("bhv-1", Profession.BHV_NURSE, Organisation.BHV, roster=Roster.uniform(120)),
        member(
            "hab-1", Profession.HABILITATION, Organisation.HABILITATION, roster=Roster.uniform(240)
        ),
    ]


def make_case(index: int, rng: np.random.Generator, referral_age_days: int) -> PlanningCase:
    """One synthetic case: home by population, progress by age, travel mode by distance."""
    template = default_template()
    weights = np.array([m.population for m in MUNICIPALITIES], dtype=float)
    home = MUNICIPALITIES[int(rng.choice(len(MUNICIPALITIES), p=weights / weights.sum()))]
    referral = START - timedelta(days=referral_age_days)
    order = [k for k in template.topological_order() if k != "questionnaires"]
    done_steps = min(int(referral_age_days // 9 + rng.integers(0, 2)), 9)
    completed: dict[str, date] = {}
    for position, key in enumerate(order[:done_steps]):
        completed[key] = min(START - timedelta(days=1), referral + timedelta(days=3 + 4 * position))
    if "intake" in completed and completed["intake"] + timedelta(days=14) < START:
        completed["questionnaires"] = completed["intake"] + timedelta(days=14)
    inland = home.group == "inland"
    return PlanningCase(
        case_id=f"case-{index:03d}",
        referral_date=referral,
        municipality=home.name,
        template=template,
        team_travels=bool(rng.random() < (0.7 if inland else 0.3)) and home.km_to_umea > 0,
        completed=completed,
        video_preferred=bool(home.km_to_umea > 100 and rng.random() < 0.2),
    )


def make_cases(count: int, rng: np.random.Generator) -> list[PlanningCase]:
    """`count` open cases referred 0–70 days before the start."""
    return [make_case(i, rng, int(rng.integers(0, 71))) for i in range(count)]


def report_dict(plan: Plan, wall_s: float) -> dict[str, object]:
    """Solve figures of a plan."""
    report = plan.report
    return {
        "method": plan.method,
        "status": report.status,
        "objective": report.objective,
        "best_bound": report.best_bound,
        "gap": None if report.gap is None else round(report.gap, 4),
        "greedy_objective": plan.greedy_objective,
        "solve_wall_s": round(report.wall_seconds, 2),
        "total_wall_s": round(wall_s, 2),
    }


def seed_range(text: str) -> list[int]:
    """`1-7` or `3` as a list of seeds."""
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def seed_spread(cases, team, settings: PlanSettings, seeds: list[int]) -> dict[str, object]:
    """The full plan of the same workload with each solver seed: objective, gap, steps not
    scheduled and rule findings per seed, and their mean, spread and range."""
    runs = []
    for seed in seeds:
        plan = plan_clinic(cases, team, dataclasses.replace(settings, seed=seed))
        runs.append(
            {
                "solver_seed": seed,
                "objective": plan.report.objective,
                "gap": round(plan.report.gap, 4),
                "not_scheduled_yet": len(plan.unscheduled),
                "rule_findings": len(check_plan(plan, cases, team)),
                "stage_objectives": plan.stage_objectives,
            }
        )
        print(
            f"  solver seed {seed:3}: objective {plan.report.objective:9.0f}, gap "
            f"{plan.report.gap:.1%}, {len(plan.unscheduled)} steps not scheduled yet, "
            f"{runs[-1]['rule_findings']} rule findings; {stage_line(plan)}"
        )
    objectives = np.array([run["objective"] for run in runs], dtype=float)
    gaps = np.array([run["gap"] for run in runs], dtype=float)
    summary = {
        "objective_mean": round(float(objectives.mean())),
        "objective_sd": round(float(objectives.std(ddof=1))) if len(runs) > 1 else 0,
        "objective_min": round(float(objectives.min())),
        "objective_max": round(float(objectives.max())),
        "gap_mean": round(float(gaps.mean()), 4),
        "runs_within_15_percent": int((gaps <= 0.15).sum()),
        "runs_with_steps_not_scheduled": sum(1 for run in runs if run["not_scheduled_yet"]),
    }
    print(
        f"  {len(runs)} solver seeds: objective mean {summary['objective_mean']} "
        f"(sd {summary['objective_sd']}, {summary['objective_min']}-"
        f"{summary['objective_max']}), gap mean {summary['gap_mean']:.1%}, "
        f"{summary['runs_within_15_percent']} within 15 %, "
        f"{summary['runs_with_steps_not_scheduled']} with steps not scheduled yet"
    )
    return {"runs": runs, **summary}


def stage_line(plan: Plan) -> str:
    """The objective after each stage: where a plan gains (the polish) or loses (clock
    times that move a step weeks later)."""
    stages = plan.stage_objectives or {}
    return "stages " + " -> ".join(
        f"{name.replace('_', ' ')} {value}" for name, value in stages.items()
    )


def new_case_line(metrics: CaseMetrics, waiting: list[Unscheduled]) -> str:
    """The inserted case's feedback day and visit days, or which of its steps wait and why
    (the booked plan may leave no room for them within the horizon)."""
    if metrics.feedback_date is None:
        first = waiting[0].reason if waiting else "no reason given"
        return (
            f"feedback not scheduled yet ({len(waiting)} step(s) wait; first: {first}), "
            f"{metrics.visit_days} visit days"
        )
    return (
        f"feedback {metrics.feedback_date} ({metrics.lead_days} days), "
        f"{metrics.visit_days} visit days"
    )


def python_loop_s() -> float:
    """Seconds a plain Python loop of `SPEED_PROBE_ADDITIONS` additions takes: a rough
    figure for how fast this machine runs the planner's Python (the search lives on the
    rounds it gets, so the gap depends on it; the README gives its figures with this)."""
    started = time.perf_counter()
    total = 0
    for number in range(SPEED_PROBE_ADDITIONS):
        total += number
    return time.perf_counter() - started


def timed(function, *args, **kwargs):
    """Call and return (result, wall seconds)."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    """Run the benchmark, print the figures and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=30.0, help="CP-SAT budget, seconds")
    parser.add_argument("--insert-budget-s", type=float, default=0.5, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument(
        "--solver-seeds",
        type=seed_range,
        default=[],
        help="e.g. 1-7: plan the same workload with each solver seed and report the spread",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    team = make_team()
    cases = make_cases(args.cases, rng)
    settings = PlanSettings(
        start=START, budget_s=args.budget_s, workers=args.workers, seed=args.seed
    )
    instance = build_instance(cases, team, settings)
    tasks = len(instance.tasks)
    print(
        f"workload: {len(cases)} open cases, {len(team)} clinicians, "
        f"{settings.horizon_weeks}-week horizon from {START}, {tasks} steps to place"
    )
    loop_s = python_loop_s()
    print(
        f"machine: {os.cpu_count()} cores; a Python loop of {SPEED_PROBE_ADDITIONS:,} "
        f"additions takes {loop_s:.2f} s (the gap depends on the machine's speed)"
    )

    _, greedy_s = timed(greedy_schedule, instance)
    greedy, greedy_plan_s = timed(plan_clinic, cases, team, settings, use_cpsat=False)
    print(
        f"greedy list scheduler: {greedy_s * 1000:.0f} ms (whole greedy plan with clock times "
        f"{greedy_plan_s:.2f} s), objective {greedy.greedy_objective} at day level, "
        f"{greedy.report.objective:.0f} with clock times ({len(greedy.unscheduled)} steps not "
        "scheduled yet)"
    )
    load_before = os.getloadavg()[0]
    plan, plan_s = timed(plan_clinic, cases, team, settings)
    full = report_dict(plan, plan_s)
    full["rule_findings"] = [str(f) for f in check_plan(plan, cases, team)]
    full["bound_parts"] = plan.bound_parts.to_dict() if plan.bound_parts else None
    full["cpsat_bound"] = plan.cpsat_bound
    full["not_scheduled_yet"] = len(plan.unscheduled)
    full["feedback_planned"] = sum(1 for m in plan.cases.values() if m.feedback_date)
    full["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(
        f"full plan: {plan_s:.1f} s wall ({plan.method}, {plan.report.status}), objective "
        f"{plan.report.objective:.0f} points vs greedy {plan.greedy_objective}; lower bound "
        f"{plan.report.best_bound:.0f} (ours {plan.bound_parts.total}, CP-SAT's "
        f"{'none: LNS only' if plan.cpsat_bound is None else round(plan.cpsat_bound)}), "
        f"gap {full['gap']:.1%}"
    )
    print(f"  bound by parts (points):     {plan.bound_parts.to_dict()}")
    print(f"  objective by parts (points): {plan.objective_parts}")
    print(f"  {stage_line(plan)}")
    full["objective_parts"] = plan.objective_parts
    full["stage_objectives"] = plan.stage_objectives
    print(
        f"  {full['feedback_planned']}/{len(cases)} feedback meetings planned, "
        f"{len(plan.unscheduled)} steps not scheduled yet; 1-min load average "
        f"{load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"independent check of the plan: {len(full['rule_findings'])} rule findings")

    spread = None
    if args.solver_seeds:
        first, last = args.solver_seeds[0], args.solver_seeds[-1]
        print(f"the same workload with solver seeds {first}-{last}:")
        spread = seed_spread(cases, team, settings, args.solver_seeds)

    newcomer = make_case(999, np.random.default_rng(args.seed + 1), 0)
    insert_settings = PlanSettings(
        start=START, budget_s=args.insert_budget_s, workers=args.workers, seed=args.seed
    )
    insert_load = os.getloadavg()[0]
    inserted, insert_s = timed(insert_referral, plan, cases, newcomer, team, insert_settings)
    before = {(a.case_id, a.step_key): (a.day, a.start, a.clinician_ids) for a in plan.appointments}
    changed = sum(
        1
        for a in inserted.appointments
        if (a.case_id, a.step_key) in before
        and before[(a.case_id, a.step_key)] != (a.day, a.start, a.clinician_ids)
    )
    new_metrics = inserted.cases[newcomer.case_id]
    waiting = [u for u in inserted.unscheduled if u.case_id == newcomer.case_id]
    print(
        f"insert one referral: {insert_s:.2f} s wall, {changed} booked appointments changed, "
        f"new case {new_case_line(new_metrics, waiting)} (1-min load average {insert_load:.1f})"
    )

    baseline, baseline_s = timed(sequential_plan, cases, team, settings)
    figures = compare_plans(plan, baseline)
    coordinated_all = figures["coordinated"]["all"]
    coordinated_both = figures["coordinated"]["both_planned"]
    sequential_all = figures["sequential"]["all"]
    sequential_both = figures["sequential"]["both_planned"]
    print(f"sequential baseline: {baseline_s:.2f} s wall (greedy over 52 weeks)")
    print(f"{'':34}{'coordinated':>14}{'sequential':>14}")
    rows = [
        (
            "lead time, mean days (both planned)",
            "lead_days_mean",
            coordinated_both,
            sequential_both,
        ),
        ("lead time, median days", "lead_days_median", coordinated_both, sequential_both),
        ("visit days per case, mean", "visit_days_mean", coordinated_all, sequential_all),
        ("family km, total", "family_km_total", coordinated_all, sequential_all),
        ("staff km, total", "staff_km_total", coordinated_all, sequential_all),
        ("feedback planned (cases)", "feedback_planned", coordinated_all, sequential_all),
    ]
    for label, key, left, right in rows:
        print(f"{label:34}{left[key]!s:>14}{right[key]!s:>14}")
    print(
        f"(lead times over the {coordinated_both['cases']} cases whose feedback both plans place)"
    )
    print(f"left out: {LEFT_OUT}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "workload": {
                    "cases": len(cases),
                    "clinicians": len(team),
                    "horizon_weeks": 10,
                    "start": START.isoformat(),
                    "steps_to_place": tasks,
                    "seed": args.seed,
                    "workers": args.workers,
                    "budget_s": args.budget_s,
                },
                "machine": {
                    "cpus": os.cpu_count(),
                    "python_loop_additions": SPEED_PROBE_ADDITIONS,
                    "python_loop_s": round(loop_s, 3),
                },
                "greedy_ms": round(greedy_s * 1000, 1),
                "greedy_plan_s": round(greedy_plan_s, 2),
                "greedy_objective_day_level": greedy.greedy_objective,
                "greedy_objective_clock_times": greedy.report.objective,
                "greedy_not_scheduled": len(greedy.unscheduled),
                "left_out": LEFT_OUT,
                "full_plan": full,
                "solver_seed_spread": spread,
                "insert_one_referral": {
                    "wall_s": round(insert_s, 2),
                    "budget_s": args.insert_budget_s,
                    "load_average_1min": round(insert_load, 2),
                    "booked_changed": changed,
                    "moved": inserted.moved_count,
                    "new_case_lead_days": new_metrics.lead_days,
                    "new_case_not_scheduled": [u.step_key for u in waiting],
                    "new_case_visit_days": new_metrics.visit_days,
                },
                "coordinated": {"all": coordinated_all, "both_planned": coordinated_both},
                "sequential": {"all": sequential_all, "both_planned": sequential_both},
            },
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS.parent.name}/{RESULTS.name}")


if __name__ == "__main__":
    main()
