"""Capacity use cases for planners: simulate a scenario, and search the smallest staffing.

`run_simulation` gives lead times with 95% CIs per policy; `search_capacity` finds, per team
set-up, the fewest staff per profession whose p90 lead time meets a target, verified by CIs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from essence.domain.errors import InvalidInput
from essence.domain.messages import N_
from essence.simulation.model import Model, compile_model
from essence.simulation.results import ReplicationResult
from essence.simulation.runner import chunks, run_chunk
from essence.simulation.scenario import Scenario, parse_scenario
from essence.simulation.summary import equity_gap_days, summarise_policy

BASELINE_DAYS = 140.0
TARGET_DAYS = 90.0
Progress = Callable[[int, int], None]


# --- report schemas ------------------------------------------------------------------------


class Estimate(BaseModel):
    """A mean over replications with its Student-t 95% confidence interval."""

    mean: float | None
    low: float | None
    high: float | None


class ProfessionFigures(BaseModel):
    """Load of one profession: staff, utilisation (share) and mean number of waiting steps."""

    profession: str
    staff: int
    utilisation: Estimate
    queue_length: Estimate


class GroupFigures(BaseModel):
    """Lead times of one group of children (municipality group, municipality, gender, age).

    Figures are None and `suppressed` True when the group has fewer than 5 children.
    """

    dimension: str
    name: str
    suppressed: bool
    children_per_year: float | None
    median_days: Estimate | None
    p90_days: Estimate | None
    within_target_share: Estimate | None
    family_km_per_child: Estimate | None


class PolicyReport(BaseModel):
    """One policy over all replications; lead time = referral to feedback meeting, days."""

    policy: str
    replications: int
    children_per_year: Estimate
    completed_share: Estimate
    median_days: Estimate
    p90_days: Estimate
    mean_days: Estimate
    within_target_share: Estimate
    visit_days: Estimate
    family_km_per_child: Estimate
    staff_km_per_year: Estimate
    family_km_per_year: Estimate
    professions: list[ProfessionFigures]
    groups: list[GroupFigures]
    lead_time_percentiles: list[float]
    arrived: int
    finished: int
    in_system: int
    events: int
    equity_gap_days: float | None = None


class SimulationReport(BaseModel):
    """What `essence simulate` prints and dumps as JSON."""

    model_config = ConfigDict(extra="forbid")
    children_per_year: float
    years: float
    warmup_days: float
    replications: int
    seed: int
    setup: str
    teams: list[dict[str, Any]]
    baseline_days: float
    target_days: float
    policies: list[PolicyReport]
    wall_seconds: float
    events: int
    events_per_second: float


class CapacityCandidate(BaseModel):
    """A set-up with the smallest staff found that meets (or failed to meet) the target."""

    setup: str
    teams: list[dict[str, Any]]
    staff_by_profession: dict[str, int]
    staff_total: int
    fte: float
    p90_days: Estimate
    median_days: Estimate
    within_target_share: Estimate
    equity_gap_days: float | None
    staff_km_per_year: float | None
    family_km_per_year: float | None
    meets_target: bool
    replications: int
    evaluations: int


class CapacityReport(BaseModel):
    """What `essence capacity` prints and dumps as JSON."""

    children_per_year: float
    target_p90_days: float
    policy: str
    candidates: list[CapacityCandidate]
    wall_seconds: float


# --- loading scenarios ---------------------------------------------------------------------


def _read_yaml(path: str | Path, field: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(field, str(path), N_("no such file"))
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InvalidInput(
            field, str(path), N_("not valid YAML (%(error)s)", error=error.__class__.__name__)
        ) from None


def default_scenario_data() -> dict[str, Any]:
    """The packaged default scenario (essence/scenarios/default.yaml) as raw data."""
    text = resources.files("essence").joinpath("scenarios/default.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def packaged_team(name: str) -> dict[str, Any]:
    """A packaged team set-up (``central``, ``satellites``, ``ambulating``, ``travelling``)."""
    file = resources.files("essence").joinpath(f"scenarios/team-{name}.yaml")
    if not file.is_file():
        raise InvalidInput(
            "setup", name, N_("unknown; one of central, satellites, ambulating, travelling")
        )
    return yaml.safe_load(file.read_text("utf-8"))


def load_scenario(
    path: str | Path | None = None,
    team: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    policies: Sequence[str] = (),
) -> Scenario:
    """Build a scenario: the default, then a scenario file, a team file, then flag overrides.

    Args:
        path: A scenario YAML file; its keys replace the default's (unknown keys are errors).
        team: A team YAML file with ``setup`` and ``teams``, or the name of a packaged one.
        overrides: Flag values (e.g. ``children_per_year``); None values are ignored.
        policies: Keep only these policies (all when empty).

    Raises:
        InvalidInput: naming the bad file, field, key or value.
    """
    data = default_scenario_data()
    if path is not None:
        data.update(_mapping(_read_yaml(path, "scenario"), "scenario"))
    if team is not None:
        data.update(_team_data(team))
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    scenario = parse_scenario(data)
    if policies:
        unknown = [p for p in policies if p not in scenario.policies]
        if unknown:
            raise InvalidInput(
                "policy",
                unknown[0],
                N_("unknown; one of %(choices)s", choices=tuple(scenario.policies)),
            )
        scenario = scenario.model_copy(
            update={"policies": {p: scenario.policies[p] for p in policies}}
        )
    compile_model(scenario)  # checks staff against the pathway, bases, set-up
    return scenario


def _mapping(data: Any, field: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(field, type(data).__name__, N_("must be a mapping of settings"))
    return data


def _team_data(team: str | Path) -> dict[str, Any]:
    if isinstance(team, str) and not team.endswith((".yaml", ".yml")) and not Path(team).exists():
        return packaged_team(team)
    data = _mapping(_read_yaml(team, "team"), "team")
    unknown = sorted(set(data) - {"setup", "teams"})
    if unknown:
        raise InvalidInput(f"team: {unknown[0]}", "", N_("unknown key (expected setup, teams)"))
    return data


def require_replications_for_ci(scenario: Scenario) -> None:
    """Raise InvalidInput when confidence intervals are asked for with < 2 replications."""
    if scenario.replications < 2:
        raise InvalidInput(
            "replications",
            scenario.replications,
            N_("need at least 2 for confidence intervals"),
        )


# --- running -------------------------------------------------------------------------------


def run_results(
    scenario: Scenario,
    progress: Progress | None = None,
    workers: int = 1,
    chunk_size: int = 5,
    pool: ProcessPoolExecutor | None = None,
) -> dict[str, list[ReplicationResult]]:
    """Run every replication of every policy, grouped by policy and sorted by replication.

    Args:
        scenario: A validated scenario.
        progress: Called with (replications done, total) after each chunk.
        workers: Processes to use when no `pool` is given (1 = in this process).
        chunk_size: Replications per unit of work.
        pool: An executor to reuse across calls (e.g. during a capacity search).
    """
    payload = scenario.model_dump_json()
    work = chunks(list(scenario.policies), scenario.replications, chunk_size)
    total = len(scenario.policies) * scenario.replications
    results: dict[str, list[ReplicationResult]] = {p: [] for p in scenario.policies}
    done = 0
    for chunk in _execute(payload, work, workers, pool):
        for result in chunk:
            results[result.policy].append(result)
        done += len(chunk)
        if progress:
            progress(done, total)
    for policy_results in results.values():
        policy_results.sort(key=lambda r: r.replication)
    return results


def process_pool(workers: int) -> ProcessPoolExecutor | None:
    """A process pool for `workers` > 1 (spawned processes), else None."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None


def _execute(payload: str, work: list[tuple[str, tuple[int, ...]]], workers: int, pool):
    if pool is None and (workers <= 1 or len(work) <= 1):
        for policy, reps in work:
            yield run_chunk(payload, policy, reps)
        return
    owned = pool is None
    executor = pool or process_pool(workers)
    try:
        futures = [executor.submit(run_chunk, payload, policy, reps) for policy, reps in work]
        for future in as_completed(futures):
            yield future.result()
    finally:
        if owned:
            executor.shutdown()


def plan_chunks(scenario: Scenario, chunk_size: int = 5) -> list[tuple[str, tuple[int, ...]]]:
    """The (policy, replication indices) units of work of a scenario, for flows and pools."""
    return chunks(list(scenario.policies), scenario.replications, chunk_size)


def simulate_chunk(
    scenario_json: str, policy: str, replications: Sequence[int]
) -> list[ReplicationResult]:
    """Simulate one chunk (same seeds, same figures wherever it runs)."""
    return run_chunk(scenario_json, policy, replications)


def report_from_chunks(
    scenario: Scenario, chunk_results: Sequence[Sequence[ReplicationResult]], wall_seconds: float
) -> SimulationReport:
    """Assemble chunk results (any order) into the report `run_simulation` would give."""
    results: dict[str, list[ReplicationResult]] = {p: [] for p in scenario.policies}
    for chunk in chunk_results:
        for result in chunk:
            results[result.policy].append(result)
    for policy_results in results.values():
        policy_results.sort(key=lambda r: r.replication)
    return build_report(scenario, results, wall_seconds)


def build_report(
    scenario: Scenario, results: dict[str, list[ReplicationResult]], wall_seconds: float
) -> SimulationReport:
    """Summarise replication results into the report (CIs, groups, suppression)."""
    model = compile_model(scenario)
    policies = []
    for policy_results in results.values():
        summary = summarise_policy(model, policy_results, TARGET_DAYS)
        summary["equity_gap_days"] = equity_gap_days(summary)
        policies.append(PolicyReport.model_validate(summary))
    events = sum(p.events for p in policies)
    return SimulationReport(
        children_per_year=scenario.children_per_year,
        years=scenario.years,
        warmup_days=scenario.warmup_days,
        replications=scenario.replications,
        seed=scenario.seed,
        setup=scenario.setup.kind,
        teams=[t.model_dump(mode="json") for t in scenario.teams],
        baseline_days=BASELINE_DAYS,
        target_days=TARGET_DAYS,
        policies=policies,
        wall_seconds=round(wall_seconds, 3),
        events=events,
        events_per_second=round(events / wall_seconds, 1) if wall_seconds > 0 else 0.0,
    )


def run_simulation(
    scenario: Scenario, progress: Progress | None = None, workers: int = 1
) -> SimulationReport:
    """Simulate every policy of `scenario` over its replications and summarise.

    Args:
        scenario: A validated scenario (see `load_scenario`).
        progress: Called with (replications done, total) after each chunk.
        workers: Processes to use (1 = in this process).

    Raises:
        InvalidInput: fewer than 2 replications (no confidence interval possible).
    """
    require_replications_for_ci(scenario)
    started = time.perf_counter()
    results = run_results(scenario, progress, workers)
    return build_report(scenario, results, time.perf_counter() - started)


def plot_report(report: SimulationReport, directory: str | Path) -> list[Path]:
    """Write the report's PNG charts (lead times, utilisation, municipalities) to `directory`.

    Raises:
        InvalidInput: when the folder cannot be created.
    """
    from essence.simulation.plots import write_plots

    return write_plots(report.model_dump(mode="json"), directory)


# --- capacity search -----------------------------------------------------------------------


SETUPS = ("central", "satellites", "ambulating", "travelling")


def search_capacity(
    children_per_year: float = 300,
    target_p90_days: float = TARGET_DAYS,
    setups: Sequence[str] = SETUPS,
    policy: str = "coordinated",
    screen_replications: int = 5,
    verify_replications: int = 20,
    years: float = 2,
    seed: int = 1,
    base: Scenario | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> CapacityReport:
    """Find, per set-up, the fewest staff (integer per team and profession) meeting the target.

    Start from the load bound (utilisation below 100%), add one staff member to the busiest
    pool until the mean p90 of `screen_replications` meets the target, then verify with
    `verify_replications` (the upper 95% bound of p90 must meet it); finally try one fewer
    in each pool, keeping any removal that still verifies.

    Raises:
        InvalidInput: a non-positive target or children per year, or < 2 verify replications.
    """
    if target_p90_days <= 0:
        raise InvalidInput("target-p90-days", target_p90_days, N_("must be positive"))
    if children_per_year <= 0:
        raise InvalidInput("children-per-year", children_per_year, N_("must be positive"))
    if verify_replications < 2 or screen_replications < 1:
        raise InvalidInput("replications", verify_replications, N_("need at least 2 to verify"))
    started = time.perf_counter()
    scenario = base or load_scenario(overrides={"children_per_year": children_per_year})
    scenario = scenario.model_copy(
        update={"children_per_year": children_per_year, "years": years, "seed": seed}
    )
    if policy not in scenario.policies:
        raise InvalidInput(
            "policy", policy, N_("unknown; one of %(choices)s", choices=tuple(scenario.policies))
        )
    scenario = scenario.model_copy(update={"policies": {policy: scenario.policies[policy]}})
    pool = process_pool(workers)
    try:
        search = _Search(
            scenario, target_p90_days, screen_replications, verify_replications, pool, progress
        )
        candidates = [search.run(setup) for setup in setups]
    finally:
        if pool is not None:
            pool.shutdown()
    return CapacityReport(
        children_per_year=children_per_year,
        target_p90_days=target_p90_days,
        policy=policy,
        candidates=candidates,
        wall_seconds=round(time.perf_counter() - started, 2),
    )


Staffing = tuple[str, ...]  # profession names, in the model's order
Counts = list[list[int]]  # staff per team (rows) and profession (columns)


class _Search:
    """Greedy staffing search for one policy; one `run` per set-up."""

    MAX_STEPS = 60

    def __init__(
        self,
        scenario: Scenario,
        target: float,
        screen: int,
        verify: int,
        pool: ProcessPoolExecutor | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.scenario, self.target = scenario, target
        self.screen, self.verify = screen, verify
        self.pool, self.progress = pool, progress or (lambda _: None)
        self.evaluations = 0

    def run(self, setup: str) -> CapacityCandidate:
        base = parse_scenario({**self.scenario.model_dump(mode="json"), **packaged_team(setup)})
        professions = compile_model(base).professions
        staff = self._lower_bound(base, professions)
        self.evaluations = 0
        report, staff = self._grow(base, professions, staff)
        if report is not None:
            report, staff = self._shrink(base, professions, staff, report)
        final = report or self._evaluate(base, professions, staff, self.verify)[0]
        return self._candidate(setup, base, professions, staff, final, report is not None)

    def _with_staff(self, base: Scenario, professions: Staffing, staff: Counts) -> Scenario:
        teams = [
            {"base": team.base, "staff": dict(zip(professions, counts, strict=True))}
            for team, counts in zip(base.teams, staff, strict=True)
        ]
        return parse_scenario({**base.model_dump(mode="json"), "teams": teams})

    def _lower_bound(self, base: Scenario, professions: Staffing) -> Counts:
        model = compile_model(base)
        shares = _catchment_shares(model)
        yearly_minutes = sum(base.roster) * (52 - base.calendar.vacation_weeks - 2.2)
        yearly_minutes *= 1 - base.calendar.sick_leave_rate
        demand = _minutes_per_child(model)
        return [
            [
                max(1, math.ceil(base.children_per_year * share * demand[p] / yearly_minutes))
                for p in range(len(professions))
            ]
            for share in shares
        ]

    def _evaluate(
        self, base: Scenario, professions: Staffing, staff: Counts, replications: int
    ) -> tuple[PolicyReport, list[float]]:
        scenario = self._with_staff(base, professions, staff)
        scenario = scenario.model_copy(update={"replications": replications})
        results = run_results(scenario, chunk_size=max(1, replications // 4), pool=self.pool)
        self.evaluations += 1
        report = build_report(scenario, results, 1.0).policies[0]
        policy_results = next(iter(results.values()))
        pools = [
            sum(r.pool_utilisation[i] for r in policy_results) / len(policy_results)
            for i in range(len(policy_results[0].pool_utilisation))
        ]
        return report, pools

    def _meets(self, report: PolicyReport, verified: bool) -> bool:
        value = report.p90_days.high if verified else report.p90_days.mean
        complete = (report.completed_share.mean or 0) >= 0.999
        return complete and value is not None and value <= self.target

    def _grow(
        self, base: Scenario, professions: Staffing, staff: Counts
    ) -> tuple[PolicyReport | None, Counts]:
        for _ in range(self.MAX_STEPS):
            report, pools = self._evaluate(base, professions, staff, self.screen)
            self.progress(f"{base.setup.kind}: {_describe(staff)} p90 {report.p90_days.mean}")
            if self._meets(report, verified=False):
                report, pools = self._evaluate(base, professions, staff, self.verify)
                if self._meets(report, verified=True):
                    return report, staff
            busiest = max(range(len(pools)), key=lambda i: pools[i])
            staff[busiest // len(professions)][busiest % len(professions)] += 1
        return None, staff

    def _shrink(
        self, base: Scenario, professions: Staffing, staff: Counts, report: PolicyReport
    ) -> tuple[PolicyReport, Counts]:
        for team, counts in enumerate(staff):
            for p in range(len(counts)):
                if counts[p] <= 1:
                    continue
                trial = [list(c) for c in staff]
                trial[team][p] -= 1
                screened, _ = self._evaluate(base, professions, trial, self.screen)
                if not self._meets(screened, verified=False):
                    continue
                verified, _ = self._evaluate(base, professions, trial, self.verify)
                if self._meets(verified, verified=True):
                    staff, report = trial, verified
                    self.progress(f"{base.setup.kind}: {_describe(staff)} verified without one")
        return report, staff

    def _candidate(
        self,
        setup: str,
        base: Scenario,
        professions: Staffing,
        staff: Counts,
        report: PolicyReport,
        meets: bool,
    ) -> CapacityCandidate:
        scenario = self._with_staff(base, professions, staff)
        by_profession = {p: sum(team[i] for team in staff) for i, p in enumerate(professions)}
        total = sum(by_profession.values())
        return CapacityCandidate(
            setup=setup,
            teams=[t.model_dump(mode="json") for t in scenario.teams],
            staff_by_profession=by_profession,
            staff_total=total,
            fte=round(total * sum(base.roster) / base.fte_weekly_minutes, 2),
            p90_days=report.p90_days,
            median_days=report.median_days,
            within_target_share=report.within_target_share,
            equity_gap_days=report.equity_gap_days,
            staff_km_per_year=report.staff_km_per_year.mean,
            family_km_per_year=report.family_km_per_year.mean,
            meets_target=meets,
            replications=report.replications,
            evaluations=self.evaluations,
        )


def _describe(staff: list[list[int]]) -> str:
    return " | ".join(",".join(str(n) for n in team) for team in staff)


def _catchment_shares(model: Model) -> list[float]:
    weights = [0.0] * len(model.bases)
    for m, team in enumerate(model.team_of_municipality):
        weights[team] += model.weights[m]
    total = sum(weights) or 1.0
    return [w / total for w in weights]


def _minutes_per_child(model: Model) -> list[float]:
    demand = [0.0] * len(model.professions)
    for step in model.steps:
        spec = step.duration
        mean = spec.mean_minutes or step.minutes
        if spec.kind == "empirical":
            mean = sum(spec.samples) / len(spec.samples)
        for p in step.professions:
            demand[p] += mean
    return demand
