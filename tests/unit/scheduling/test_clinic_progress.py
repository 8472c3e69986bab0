"""Live progress and stopping: the planner reports figures and a stop keeps the best plan."""

from __future__ import annotations

import threading
import time

from essence.cli.plan_progress import progress_text
from essence.scheduling.clinic_check import check_plan
from essence.scheduling.clinic_planner import plan_clinic
from essence.scheduling.clinic_problem import default_template
from essence.scheduling.progress import Progress, Watch
from tests.unit.scheduling.clinic_factories import case, clinician, settings

TEAM = [
    clinician("co-1", "coordinator"),
    clinician("bhv-1", "bhv_nurse"),
    clinician("md-1", "physician"),
    clinician("psy-1", "psychologist"),
    clinician("slp-1", "speech_therapist"),
    clinician("pt-1", "physiotherapist"),
    clinician("hab-1", "habilitation"),
]


def test_a_stop_request_ends_the_search_early_and_keeps_a_clean_plan():
    cases = [case(f"c{i}", default_template(), municipality="Vindeln") for i in range(3)]
    seen: list[Progress] = []
    stop = threading.Event()

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        if progress.stage == "cpsat":
            stop.set()

    started = time.perf_counter()
    plan = plan_clinic(
        cases, TEAM, settings(horizon_weeks=8, budget_s=60), watch=Watch(on_progress, stop)
    )
    assert time.perf_counter() - started < 45
    assert plan.appointments and check_plan(plan, cases, TEAM) == []
    assert seen[0].objective is not None and seen[0].bound is not None
    assert seen[-1].stage == "done"
    assert seen[-1].gap is not None and 0 <= seen[-1].gap <= 1
    # The last line shows the plan's own figures, not a day-level best it did not keep.
    assert (seen[-1].objective, seen[-1].bound) == (plan.report.objective, plan.report.best_bound)


def test_the_final_report_keeps_the_plans_figures_even_when_worse_than_the_best_seen():
    watch = Watch()
    watch.report(stage="lns", objective=100.0, bound=80.0)
    watch.report(objective=120.0, bound=70.0)
    assert (watch.objective, watch.bound) == (100.0, 80.0)
    watch.report(stage="done", objective=101.0, bound=79.0)
    assert (watch.objective, watch.bound) == (101.0, 79.0)


def test_the_live_line_names_elapsed_best_bound_and_gap():
    line = progress_text(12.34, "lns", 157856.0, 106223.0)
    assert line.startswith(" 12.3 s  lns")
    assert "best 157,856" in line and "bound 106,223" in line and "gap 32.7 %" in line
    assert "gap —" in progress_text(0.1, "greedy", None, None)


def test_to_a_log_or_a_pipe_only_the_last_figures_go_as_one_whole_line(capsys):
    from essence.cli.plan_progress import live_progress

    with live_progress(enabled=True) as (show, _):
        assert show is not None
        show(Progress(1.0, "lns", 170000.0, 130000.0))
        show(Progress(9.5, "done", 157000.0, 132000.0))
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1
    assert "9.5 s  done" in err and "best 157,000" in err and "170,000" not in err
