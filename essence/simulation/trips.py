"""Travel and visits under a team set-up: who travels, how far, video, family visit days.

Families travel to their team's base (central, satellites, travelling families); an ambulating
team travels to the child's municipality instead. Video replaces a visit for far families
where the step allows it (not for travelling families). Preschool steps always need a trip.

Every decision depends only on the municipality (its team is the nearest) and the step, so it
is made once per replication into tables indexed by municipality and step; the event loop only
reads them and adds to the per-child accumulators.
"""

from __future__ import annotations

import numpy as np

from essence.simulation.model import Model, Step

NOBODY, STAFF_TRAVEL, FAMILY_TRAVELS = 0, 1, 2
_CODES = {"none": NOBODY, "video": NOBODY, "staff_travel": STAFF_TRAVEL,
          "family_travels": FAMILY_TRAVELS}  # fmt: skip


class Trips:
    """Travel tables and per-child travel accounting for one replication.

    Attributes:
        code: Per municipality and step: NOBODY (no trip or video), STAFF_TRAVEL or
            FAMILY_TRAVELS.
        no_show: Per municipality and step: probability the family misses the appointment
            (more likely the farther it travels).
        staff_minutes: Per municipality and step: travel minutes a staff member adds (one
            round trip per child and day).
        round_trip_km: Per municipality: road km there and back to its team's base.
        family_km: Road km travelled by each child's family.
        staff_km: Road km travelled by staff for each child.
        visit_count: Distinct in-person visit days per child.
    """

    def __init__(self, model: Model, children: int = 0) -> None:
        setup = model.scenario.setup
        self.model = model
        self.kind = setup.kind
        self.video_km = setup.video_km
        minutes_per_km = 60.0 / setup.speed_kmh
        base_no_show = model.scenario.no_show_rate
        no_show_per_km = setup.no_show_per_100km / 100.0
        shape = (len(model.municipalities), len(model.steps))
        self.code = np.zeros(shape, dtype=np.int64)
        self.no_show = np.zeros(shape)
        self.staff_minutes = np.zeros(shape)
        self.round_trip_km = np.zeros(shape[0])
        for m in range(shape[0]):
            team = model.team_of_municipality[m]
            km = model.km_between(m, team)
            self.round_trip_km[m] = 2 * km
            for step in model.steps:
                where = self.where(m, team, step)
                self.code[m, step.index] = _CODES[where]
                far = base_no_show + no_show_per_km * km
                self.no_show[m, step.index] = far if where == "family_travels" else base_no_show
                self.staff_minutes[m, step.index] = max(
                    2 * step.travel_minutes, 2 * km * minutes_per_km
                )
        self.family_km = np.zeros(children)
        self.staff_km = np.zeros(children)
        self.visit_count = np.zeros(children, dtype=np.int64)

    @property
    def any_travel(self) -> bool:
        """Whether any child travels or is visited (else no visit or trip is recorded)."""
        return bool(self.code.any())

    def where(self, municipality: int, team: int, step: Step) -> str:
        """``family_travels``, ``staff_travel``, ``video`` or ``none`` for this child and step."""
        if step.place in ("none", "video") or (step.place == "clinic" and not step.family_facing):
            return "none"
        if step.place == "preschool":
            return "staff_travel"
        far = self.model.km_between(municipality, team) > self.video_km
        if step.video_allowed and far and self.kind != "travelling":
            return "video"
        if step.place == "home" or self.kind == "ambulating":
            return "staff_travel"
        return "family_travels"
