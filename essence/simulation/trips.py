"""Travel and visits under a team set-up: who travels, how far, video, family visit days.

Families travel to their team's base (central, satellites, travelling families); an ambulating
team travels to the child's municipality instead. Video replaces a visit for far families
where the step allows it (not for travelling families). Preschool steps always need a trip.

Every decision depends only on the municipality (its team is the nearest) and the step, so it
is made once per replication into flat tables indexed ``municipality * steps + step``; the
event loop only reads them and adds to the per-child accumulators.
"""

from __future__ import annotations

from essence.simulation.model import Model, Step

NOBODY, STAFF_TRAVEL, FAMILY_TRAVELS = 0, 1, 2
_CODES = {"none": NOBODY, "video": NOBODY, "staff_travel": STAFF_TRAVEL,
          "family_travels": FAMILY_TRAVELS}  # fmt: skip


class Trips:
    """Travel tables and per-child travel accounting for one replication.

    Attributes:
        code: Per ``municipality * steps + step``: NOBODY (no trip or video), STAFF_TRAVEL or
            FAMILY_TRAVELS.
        no_show: Per ``municipality * steps + step``: probability the family misses the
            appointment (more likely the farther it travels).
        staff_minutes: Per ``municipality * steps + step``: travel minutes a staff member adds
            (one round trip per child and day).
        round_trip_km: Per municipality: road km there and back to its team's base.
        family_km: Road km travelled by each child's family.
        staff_km: Road km travelled by staff for each child.
        step_codes: Per municipality, `code` of each step (a tuple).
        step_no_show: Per municipality, `no_show` of each step (a tuple).
        visits: (child, day) of attended in-person family appointments.
        visit_count: Distinct in-person visit days per child.
        trips: (server, child, day) of staff trips already made.
    """

    def __init__(self, model: Model, children: int = 0) -> None:
        setup = model.scenario.setup
        self.model = model
        self.kind = setup.kind
        self.video_km = setup.video_km
        minutes_per_km = 60.0 / setup.speed_kmh
        base_no_show = model.scenario.no_show_rate
        no_show_per_km = setup.no_show_per_100km / 100.0
        self.code: list[int] = []
        self.no_show: list[float] = []
        self.staff_minutes: list[float] = []
        self.round_trip_km: list[float] = []
        for m in range(len(model.municipalities)):
            team = model.team_of_municipality[m]
            km = model.km_between(m, team)
            self.round_trip_km.append(2 * km)
            for step in model.steps:
                where = self.where(m, team, step)
                self.code.append(_CODES[where])
                far = base_no_show + no_show_per_km * km
                self.no_show.append(far if where == "family_travels" else base_no_show)
                self.staff_minutes.append(max(2 * step.travel_minutes, 2 * km * minutes_per_km))
        steps = len(model.steps)
        self.step_codes = [
            tuple(self.code[m * steps : (m + 1) * steps]) for m in range(len(self.round_trip_km))
        ]
        self.step_no_show = [
            tuple(self.no_show[m * steps : (m + 1) * steps]) for m in range(len(self.round_trip_km))
        ]
        self.family_km = [0.0] * children
        self.staff_km = [0.0] * children
        self.visit_count = [0] * children
        self.visits: set[tuple[int, int]] = set()
        self.trips: set[tuple[int, int, int]] = set()

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
