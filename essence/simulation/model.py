"""The compiled simulation model: a scenario turned into indexed steps, pools and distances.

Compiling once (and checking staff against the pathway) keeps the replication loop free of
dictionary look-ups by name and of validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources

import yaml

from essence.domain.errors import InvalidInput
from essence.domain.pathway import PathwayTemplate
from essence.domain.professions import Attendee, LocationKind
from essence.domain.team import Roster
from essence.simulation.scenario import DurationSpec, Scenario


@dataclass(frozen=True)
class Step:
    """One pathway step with indices instead of names.

    Attributes:
        professions: Profession indices (two or more for a joint step; empty when waiting).
        minutes: Mean staff minutes per profession.
        wait_days: Calendar days of a waiting step (questionnaires).
        family_facing: The child or the guardians attend.
        place: ``clinic``, ``preschool``, ``home``, ``video`` or ``none``.
        travel_minutes: Minimum one-way staff travel (minutes) for steps away from the clinic.
    """

    index: int
    key: str
    professions: tuple[int, ...]
    minutes: float
    wait_days: float
    requires: tuple[int, ...]
    successors: tuple[int, ...]
    family_facing: bool
    place: str
    video_allowed: bool
    bundle: bool
    is_feedback: bool
    travel_minutes: float
    duration: DurationSpec


@dataclass(frozen=True)
class Model:
    """A scenario compiled for the engine (shared by all replications and policies)."""

    scenario: Scenario
    steps: tuple[Step, ...]
    order: tuple[int, ...]
    feedback: int
    professions: tuple[str, ...]
    municipalities: tuple[str, ...]
    groups: tuple[str, ...]
    weights: tuple[float, ...]
    bases: tuple[int, ...]
    team_of_municipality: tuple[int, ...]
    km: tuple[tuple[float, ...], ...]
    pool_size: tuple[tuple[int, ...], ...]

    @cached_property
    def group_names(self) -> tuple[str, ...]:
        """Distinct municipality groups, in first-seen order."""
        return tuple(dict.fromkeys(self.groups))

    def km_between(self, municipality: int, team: int) -> float:
        """Road km from a municipality to a team's base (a local trip inside one)."""
        return self.km[municipality][self.bases[team]]


def default_pathway() -> PathwayTemplate:
    """The packaged essence-default pathway template."""
    text = resources.files("essence").joinpath("pathways/essence-default.yaml").read_text("utf-8")
    return PathwayTemplate.from_mapping(yaml.safe_load(text))


def compile_model(scenario: Scenario) -> Model:
    """Compile and check a scenario.

    Raises:
        InvalidInput: a team base that is no municipality of the scenario, an invalid roster,
            or zero staff of a profession the pathway needs (naming team and profession).
        PathwayError: an invalid inline pathway.
    """
    template = (
        PathwayTemplate.from_mapping(scenario.pathway) if scenario.pathway else default_pathway()
    )
    Roster(tuple(scenario.roster))  # raises InvalidInput on a bad roster
    professions = tuple(sorted(p.value for p in template.professions_needed()))
    steps = _compile_steps(template, scenario, professions)
    names = tuple(m.name for m in scenario.referrals.municipalities)
    km = _distance_matrix(scenario)
    bases = tuple(_base_index(names, team.base, i) for i, team in enumerate(scenario.teams))
    _check_setup(scenario)
    pool_size = _pool_sizes(scenario, professions, template)
    nearest = tuple(
        min(range(len(bases)), key=lambda t, m=m: (km[m][bases[t]], t)) for m in range(len(names))
    )
    index = {key: i for i, key in enumerate(template.keys)}
    return Model(
        scenario=scenario,
        steps=steps,
        order=tuple(index[k] for k in template.topological_order()),
        feedback=index[template.feedback_key],
        professions=professions,
        municipalities=names,
        groups=tuple(m.group for m in scenario.referrals.municipalities),
        weights=tuple(m.population for m in scenario.referrals.municipalities),
        bases=bases,
        team_of_municipality=nearest,
        km=km,
        pool_size=pool_size,
    )


def _compile_steps(
    template: PathwayTemplate, scenario: Scenario, professions: tuple[str, ...]
) -> tuple[Step, ...]:
    unknown = set(scenario.step_durations) - set(template.keys)
    if unknown:
        raise InvalidInput("step_durations", sorted(unknown)[0], "no such step in the pathway")
    index = {key: i for i, key in enumerate(template.keys)}
    compiled = []
    for i, step in enumerate(template.steps):
        family = Attendee.CHILD in step.attendees or Attendee.GUARDIANS in step.attendees
        compiled.append(
            Step(
                index=i,
                key=step.key,
                professions=tuple(professions.index(p.value) for p in step.professions),
                minutes=float(step.minutes),
                wait_days=float(step.wait_days),
                requires=tuple(index[r] for r in step.requires),
                successors=tuple(index[s] for s in template.successors(step.key)),
                family_facing=family,
                place=_place(step.location),
                video_allowed=step.video_allowed,
                bundle=step.bundle,
                is_feedback=step.milestone == "feedback",
                travel_minutes=float(step.travel_minutes),
                duration=scenario.step_durations.get(step.key, scenario.duration),
            )
        )
    return tuple(compiled)


def _place(location: LocationKind) -> str:
    return {
        LocationKind.CLINIC: "clinic",
        LocationKind.PRESCHOOL: "preschool",
        LocationKind.HOME_MUNICIPALITY: "home",
        LocationKind.VIDEO: "video",
        LocationKind.NONE: "none",
    }[location]


def _distance_matrix(scenario: Scenario) -> tuple[tuple[float, ...], ...]:
    """Road km between municipalities, routed via Umeå as in essence.domain.geography."""
    places = scenario.referrals.municipalities
    local = scenario.setup.local_km
    rows = []
    for a in places:
        row = []
        for b in places:
            if a.name == b.name:
                row.append(local)
            elif 0 in (a.km_to_umea, b.km_to_umea) or a.group != b.group:
                row.append(a.km_to_umea + b.km_to_umea)
            else:
                row.append(max(20.0, abs(a.km_to_umea - b.km_to_umea)))
        rows.append(tuple(row))
    return tuple(rows)


def _base_index(names: tuple[str, ...], base: str, team: int) -> int:
    folded = [n.casefold() for n in names]
    if base.strip().casefold() not in folded:
        raise InvalidInput(f"teams.{team}.base", base, "not a municipality of the scenario")
    return folded.index(base.strip().casefold())


def _check_setup(scenario: Scenario) -> None:
    teams = len(scenario.teams)
    if teams == 0:
        raise InvalidInput("teams", "", "at least one team is needed")
    if scenario.setup.kind == "satellites" and teams < 2:
        raise InvalidInput("setup.kind", "satellites", "needs two or more teams")
    if scenario.setup.kind != "satellites" and teams > 1:
        raise InvalidInput("setup.kind", scenario.setup.kind, f"has one team, found {teams}")


def _pool_sizes(
    scenario: Scenario, professions: tuple[str, ...], template: PathwayTemplate
) -> tuple[tuple[int, ...], ...]:
    sizes = []
    for t, team in enumerate(scenario.teams):
        staff = {p.value: n for p, n in team.staff.items()}
        for name, count in staff.items():
            if count < 0:
                raise InvalidInput(f"teams.{t}.staff.{name}", count, "must not be negative")
        for name in professions:
            if staff.get(name, 0) == 0:
                steps = [s.key for s in template.steps if name in {p.value for p in s.professions}]
                raise InvalidInput(
                    f"teams.{t}.staff.{name}",
                    0,
                    f"team {team.base} has no {name}, but the pathway needs one for "
                    + ", ".join(steps),
                )
        sizes.append(tuple(staff[name] for name in professions))
    return tuple(sizes)
