"""Travel and visits under a team set-up: who travels, how far, video, family visit days.

Families travel to their team's base (central, satellites, travelling families); an ambulating
team travels to the child's municipality instead. Video replaces a visit for far families
where the step allows it (not for travelling families). Preschool steps always need a trip.
"""

from __future__ import annotations

from essence.simulation.model import Model, Step


class Trips:
    """Per-child travel accounting for one replication.

    Attributes:
        family_km: Road km travelled by each child's family.
        staff_km: Road km travelled by staff for each child.
        code: Per municipality, team and step: 0 nobody travels (or video), 1 staff travel,
            2 the family travels.
    """

    def __init__(self, model: Model, children: int = 0) -> None:
        setup = model.scenario.setup
        self.model = model
        self.kind = setup.kind
        self.video_km = setup.video_km
        self.minutes_per_km = 60.0 / setup.speed_kmh
        self.base_no_show = model.scenario.no_show_rate
        self.no_show_per_km = setup.no_show_per_100km / 100.0
        self.family_km: list[float] = []
        self.staff_km: list[float] = []
        self._visits: list[set[int]] = []
        self._trips: set[tuple[int, int, int]] = set()
        self._where = [
            [[self._decide(m, t, s) for s in model.steps] for t in range(len(model.bases))]
            for m in range(len(model.municipalities))
        ]
        codes = {"none": 0, "video": 0, "staff_travel": 1, "family_travels": 2}
        self.code = [[[codes[w] for w in team] for team in muni] for muni in self._where]
        self._no_show = [
            [[self._no_show_p(m, t, s) for s in model.steps] for t in range(len(model.bases))]
            for m in range(len(model.municipalities))
        ]
        self.ensure(children)

    def ensure(self, children: int) -> None:
        """Make room for `children` children."""
        missing = children - len(self.family_km)
        if missing > 0:
            self.family_km.extend([0.0] * missing)
            self.staff_km.extend([0.0] * missing)
            self._visits.extend(set() for _ in range(missing))

    def where(self, municipality: int, team: int, step: Step) -> str:
        """``family_travels``, ``staff_travel``, ``video`` or ``none`` for this child and step."""
        return self._where[municipality][team][step.index]

    def _decide(self, municipality: int, team: int, step: Step) -> str:
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

    def no_show_p(self, municipality: int, team: int, step: Step) -> float:
        """Probability the family misses this appointment (more likely the farther it travels)."""
        return self._no_show[municipality][team][step.index]

    def _no_show_p(self, municipality: int, team: int, step: Step) -> float:
        if self.where(municipality, team, step) == "family_travels":
            km = self.model.km_between(municipality, team)
            return self.base_no_show + self.no_show_per_km * km
        return self.base_no_show

    def on_start(self, engine, server: int, case: int, step_index: int, day: int) -> float:
        """A step starts for a child on `day`: record the visit, return staff travel minutes."""
        muni, team = engine.muni[case], engine.team[case]
        step = self.model.steps[step_index]
        if not engine.no_show[case * engine.n_steps + step_index]:
            self.visit(case, muni, team, step, day)
        return self.staff_minutes(server, case, muni, team, step, day)

    def staff_minutes(
        self, server: int, case: int, municipality: int, team: int, step: Step, day: int
    ) -> float:
        """Travel minutes a staff member adds to this step (one round trip per child and day)."""
        if self.where(municipality, team, step) != "staff_travel":
            return 0.0
        trip = (server, case, day)
        if trip in self._trips:
            return 0.0
        self._trips.add(trip)
        km = 2 * self.model.km_between(municipality, team)
        self.staff_km[case] += km
        return max(2 * step.travel_minutes, km * self.minutes_per_km)

    def visit(self, case: int, municipality: int, team: int, step: Step, day: int) -> None:
        """Record an attended in-person family appointment on `day`."""
        if not step.family_facing:
            return
        where = self.where(municipality, team, step)
        if where in ("video", "none") or day in self._visits[case]:
            return
        self._visits[case].add(day)
        if where == "family_travels":
            self.family_km[case] += 2 * self.model.km_between(municipality, team)

    def visit_days(self) -> list[int]:
        """Distinct in-person visit days per child."""
        return [len(days) for days in self._visits]
