"""The one RCPSP schedule checker, and the benchmark counting an infeasible row as a failure."""

from __future__ import annotations

from essence.scheduling.rcpsp import RcpspInstance
from essence.scheduling.rcpsp_check import schedule_problems
from essence.services.benchmarking import InstanceRow, summarise


def two_jobs_on_one_unit() -> RcpspInstance:
    return RcpspInstance("t", (1, 2, 3), (0, 3, 2), ((2, 3), (), ()), ((0,), (1,), (1,)), (1,))


def test_a_feasible_schedule_has_no_problems():
    assert schedule_problems(two_jobs_on_one_unit(), {1: 0, 2: 0, 3: 3}) == []


def test_overlapping_jobs_on_a_unit_resource_are_reported_with_the_moment():
    problems = schedule_problems(two_jobs_on_one_unit(), {1: 0, 2: 0, 3: 1})
    assert problems == ["resource 1 at t=1: 2 > 1"]


def test_a_precedence_broken_and_a_missing_job_are_reported():
    instance = RcpspInstance("p", (1, 2), (2, 1), ((2,), ()), ((0,), (0,)), (1,))
    assert schedule_problems(instance, {1: 0, 2: 1}) == ["job 2 starts before job 1 ends"]
    assert schedule_problems(instance, {1: 0}) == ["job 2 has no start"]


def row(makespan: int, problems: tuple[str, ...] = ()) -> InstanceRow:
    return InstanceRow("x.sm", makespan, 5, "OPTIMAL", 0.1, 5, 0.0, 6, 0.01, 4, {}, problems)


def test_an_infeasible_row_is_a_failure_never_optimal():
    bad = row(5, ("resource 1 at t=1: 2 > 1",))
    assert not bad.optimal and not bad.feasible
    summary = summarise([bad, row(5)], "CP-SAT")
    assert summary.optimal == 1 and summary.infeasible == 1
    assert summary.with_reference == 1
