"""Pathway templates: the clinical steps of one ESSENCE assessment as a validated DAG.

A template is data (YAML/JSON) so a team can change its pathway without code. It lists the
steps with the professions that perform them, their minutes, who from the family attends,
where they happen, their prerequisites and waiting times. Loading rejects a cycle (naming
the steps in it), an unknown prerequisite or profession and non-positive durations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from essence.domain.errors import PathwayCycle, PathwayError
from essence.domain.messages import N_
from essence.domain.professions import Attendee, LocationKind, Profession


class StepDefinition(BaseModel):
    """One step of the pathway, as a team describes it.

    Attributes:
        key: Short identifier, unique within the template (e.g. ``medical_exam``).
        title: What clinicians call it.
        professions: Who performs it; two or more make a joint step (ADOS-2). Empty for a
            waiting step that needs no staff (questionnaires coming back).
        minutes: Staff time per profession, in minutes (0 only for waiting steps).
        wait_days: For a waiting step: calendar days it takes (e.g. 14 for questionnaires).
        lead_days: Expected calendar days from ready to done, used to project dates along
            the critical path (defaults to the template's ``default_lead_days``).
        attendees: Who from the family's side takes part (child, guardians, preschool).
        location: Where it happens (clinic, home municipality, preschool, video, none).
        video_allowed: Whether the step may be held by video instead.
        travel_minutes: Extra staff travel for steps away from the clinic (one way).
        requires: Keys of the steps that must be completed first.
        bundle: Whether it can be bundled into a family visit day.
        milestone: ``intake``, ``assessment_start``, ``feedback`` or empty; ``feedback``
            marks the step whose date ends the lead time.
        after_feedback: True for steps that follow the feedback (habilitation, SIP).
        needs_consent_to_share: True when the step shares data with the municipality
            (preschool, SIP), which needs both guardians' consent (OSL 25:11).
        skippable: True when a coordinator may cancel the step as "not needed" for a
            child (`essence step cancel`); False for the steps every assessment needs
            (intake, team conference, feedback, written report): withdraw the case instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    title: str
    professions: tuple[Profession, ...] = ()
    minutes: int = 0
    wait_days: int = 0
    lead_days: int | None = None
    attendees: tuple[Attendee, ...] = ()
    location: LocationKind = LocationKind.CLINIC
    video_allowed: bool = False
    travel_minutes: int = 0
    requires: tuple[str, ...] = ()
    bundle: bool = False
    milestone: str = ""
    after_feedback: bool = False
    needs_consent_to_share: bool = False
    skippable: bool = False

    @field_validator("milestone")
    @classmethod
    def _known_milestone(cls, value: str) -> str:
        if value not in ("", "intake", "assessment_start", "feedback"):
            raise ValueError("must be one of intake, assessment_start, feedback or empty")
        return value

    @property
    def is_waiting(self) -> bool:
        """True for a step without staff that completes when its waiting time has passed."""
        return not self.professions

    @property
    def is_joint(self) -> bool:
        """True when two or more professions must take part together."""
        return len(self.professions) > 1

    @property
    def family_facing(self) -> bool:
        """True when the child or the guardians attend (counts towards visit days)."""
        return Attendee.CHILD in self.attendees or Attendee.GUARDIANS in self.attendees


class PathwayTemplate(BaseModel):
    """A named, versioned pathway: the DAG of steps a case is instantiated from.

    Build it with `PathwayTemplate.from_mapping`, which validates the whole graph.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=60)
    version: int = Field(ge=1)
    description: str = ""
    default_lead_days: int = Field(default=7, ge=1)
    steps: tuple[StepDefinition, ...]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PathwayTemplate:
        """Validate raw data (parsed YAML/JSON) into a template.

        Raises:
            PathwayError: on any schema problem (naming the step and field), a duplicate
                key, an unknown prerequisite or profession, a non-positive duration.
            PathwayCycle: when prerequisites form a cycle; lists the steps in it.
        """
        if not isinstance(data, Mapping):
            raise PathwayError(
                N_("pathway: the file must hold a mapping with name, version, steps")
            )
        try:
            template = cls.model_validate(dict(data))
        except ValidationError as error:
            raise PathwayError(_describe_validation_error(error, data)) from None
        template.check_graph()
        return template

    # --- graph checks -------------------------------------------------------------------

    def check_graph(self) -> None:
        """Check keys, durations, prerequisites and acyclicity; raise PathwayError if bad."""
        if not self.steps:
            raise PathwayError(N_("pathway: steps: must list at least one step"))
        seen: set[str] = set()
        for step in self.steps:
            if step.key in seen:
                raise PathwayError(N_("pathway: step %(step)s: key is used twice", step=step.key))
            seen.add(step.key)
            _check_durations(step)
        for step in self.steps:
            for prerequisite in step.requires:
                if prerequisite not in seen:
                    raise PathwayError(
                        N_(
                            "pathway: step %(step)s: unknown prerequisite %(prerequisite)s",
                            step=step.key,
                            prerequisite=prerequisite,
                        )
                    )
        cycle = _find_cycle({s.key: s.requires for s in self.steps})
        if cycle:
            raise PathwayCycle(cycle)
        feedback = [s.key for s in self.steps if s.milestone == "feedback"]
        if len(feedback) != 1:
            raise PathwayError(
                N_(
                    "pathway: exactly one step must have milestone: feedback (found %(count)s)",
                    count=len(feedback),
                )
            )

    # --- queries ------------------------------------------------------------------------

    @cached_property
    def _by_key(self) -> dict[str, StepDefinition]:
        return {step.key: step for step in self.steps}

    def step(self, key: str) -> StepDefinition:
        """The step with `key`; raises PathwayError for an unknown key."""
        found = self._by_key.get(key)
        if found is not None:
            return found
        raise PathwayError(
            N_("pathway %(pathway)s: unknown step %(step)s", pathway=self.name, step=key)
        )

    @property
    def keys(self) -> tuple[str, ...]:
        """Step keys in file order."""
        return tuple(s.key for s in self.steps)

    def successors(self, key: str) -> tuple[str, ...]:
        """Keys of the steps that list `key` as a prerequisite."""
        return tuple(s.key for s in self.steps if key in s.requires)

    def descendants(self, key: str) -> list[str]:
        """Keys of every step after `key` (transitively), nearest first."""
        found: list[str] = []
        pending = list(self.successors(key))
        while pending:
            current = pending.pop(0)
            if current not in found:
                found.append(current)
                pending.extend(self.successors(current))
        return found

    def topological_order(self) -> list[str]:
        """Step keys so that every step comes after its prerequisites (stable by file order)."""
        order: list[str] = []
        placed: set[str] = set()
        remaining = list(self.steps)
        while remaining:
            for step in remaining:
                if all(r in placed for r in step.requires):
                    order.append(step.key)
                    placed.add(step.key)
                    remaining.remove(step)
                    break
        return order

    def lead_days(self, key: str) -> int:
        """Expected calendar days of a step: its wait, its own lead or the default."""
        step = self.step(key)
        if step.is_waiting:
            return step.wait_days
        return step.lead_days if step.lead_days is not None else self.default_lead_days

    @property
    def feedback_key(self) -> str:
        """Key of the feedback meeting (återgivning): its date ends the lead time."""
        return next(s.key for s in self.steps if s.milestone == "feedback")

    def professions_needed(self) -> frozenset[Profession]:
        """Every profession some step of the pathway needs."""
        return frozenset(p for s in self.steps for p in s.professions)

    def fingerprint(self) -> str:
        """A short hash of the content, to tell two versions with the same number apart."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def critical_path(self, done: Iterable[str] = ()) -> CriticalPath:
        """The longest chain, in expected calendar days, to the feedback meeting.

        Args:
            done: Keys already completed; they count as zero days (for projections).
        """
        completed = set(done)
        finish: dict[str, int] = {}
        via: dict[str, str | None] = {}
        for key in self.topological_order():
            step = self.step(key)
            start, parent = 0, None
            for prerequisite in step.requires:
                if finish[prerequisite] > start or parent is None:
                    start, parent = max(start, finish[prerequisite]), prerequisite
            finish[key] = start + (0 if key in completed else self.lead_days(key))
            via[key] = parent if step.requires else None
        chain: list[str] = []
        cursor: str | None = self.feedback_key
        while cursor is not None:
            chain.append(cursor)
            cursor = via[cursor]
        chain.reverse()
        minutes = sum(self.step(k).minutes * max(1, len(self.step(k).professions)) for k in chain)
        return CriticalPath(tuple(chain), finish[self.feedback_key], minutes)


@dataclass(frozen=True)
class CriticalPath:
    """The critical path to the feedback meeting.

    Attributes:
        steps: Keys from the first step to the feedback meeting.
        days: Expected calendar days along it.
        staff_minutes: Staff minutes of the steps on it (joint steps counted per profession).
    """

    steps: tuple[str, ...]
    days: int
    staff_minutes: int


def _check_durations(step: StepDefinition) -> None:
    if step.is_waiting:
        if step.wait_days <= 0:
            raise PathwayError(
                N_(
                    "pathway: step %(step)s: wait_days: %(days)s: a step without professions "
                    "is a waiting step and needs a positive wait_days",
                    step=step.key,
                    days=step.wait_days,
                )
            )
        return
    if step.minutes <= 0:
        raise PathwayError(
            N_(
                "pathway: step %(step)s: minutes: %(minutes)s: must be positive",
                step=step.key,
                minutes=step.minutes,
            )
        )
    if step.lead_days is not None and step.lead_days <= 0:
        raise PathwayError(
            N_(
                "pathway: step %(step)s: lead_days: %(days)s: must be positive",
                step=step.key,
                days=step.lead_days,
            )
        )
    if step.travel_minutes < 0:
        raise PathwayError(
            N_(
                "pathway: step %(step)s: travel_minutes: %(minutes)s: must not be negative",
                step=step.key,
                minutes=step.travel_minutes,
            )
        )


def _find_cycle(requires: Mapping[str, Iterable[str]]) -> list[str]:
    """Return one cycle as [a, b, …, a] or [] when the graph is acyclic (iterative DFS)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(requires, white)
    for root in requires:
        if colour[root] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(root, list(requires[root]))]
        path = [root]
        colour[root] = grey
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = black
                stack.pop()
                path.pop()
                continue
            nxt = pending.pop()
            if colour.get(nxt) == grey:
                return [*path[path.index(nxt) :], nxt]
            if colour.get(nxt) == white:
                colour[nxt] = grey
                path.append(nxt)
                stack.append((nxt, list(requires[nxt])))
    return []


def _describe_validation_error(error: ValidationError, data: Mapping[str, Any]) -> str:
    first = error.errors()[0]
    location = list(first["loc"])
    where = "pathway"
    if len(location) >= 2 and location[0] == "steps" and isinstance(location[1], int):
        steps = data.get("steps") or []
        index = location[1]
        key = steps[index].get("key", f"#{index + 1}") if index < len(steps) else f"#{index + 1}"
        where = f"pathway: step {key}"
        location = location[2:]
    field = ".".join(str(part) for part in location) or "value"
    value = first.get("input")
    message = first["msg"]
    if first["type"] == "enum":
        message = "unknown value; " + message.replace("Input should be", "expected")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    shown = "" if isinstance(value, dict | list) else f" {value!s}:"
    return f"{where}: {field}:{shown} {message}"
