"""The 15 municipalities of Västerbotten: population, road distance to Umeå, region group.

Figures are public estimates (DOMAIN.md) used as defaults for synthetic data, travel and
equity reports; scenarios may override them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from essence.domain.errors import InvalidInput
from essence.domain.messages import N_


@dataclass(frozen=True)
class Municipality:
    """One municipality.

    Attributes:
        name: Swedish name, as users type it.
        population: Inhabitants (2024 estimate).
        km_to_umea: Road distance from the municipality centre to Umeå, in km.
        group: Region group for equity figures: "umea", "coast" or "inland".
    """

    name: str
    population: int
    km_to_umea: int
    group: str


MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("Umeå", 132_000, 0, "umea"),
    Municipality("Skellefteå", 76_000, 130, "coast"),
    Municipality("Lycksele", 12_000, 140, "inland"),
    Municipality("Vännäs", 8_800, 30, "coast"),
    Municipality("Nordmaling", 7_000, 60, "coast"),
    Municipality("Robertsfors", 6_700, 60, "coast"),
    Municipality("Bjurholm", 2_400, 60, "coast"),
    Municipality("Sorsele", 2_400, 280, "inland"),
    Municipality("Vilhelmina", 6_600, 230, "inland"),
    Municipality("Storuman", 5_800, 250, "inland"),
    Municipality("Vindeln", 5_400, 55, "coast"),
    Municipality("Norsjö", 4_000, 150, "inland"),
    Municipality("Malå", 3_000, 200, "inland"),
    Municipality("Åsele", 2_800, 180, "inland"),
    Municipality("Dorotea", 2_500, 230, "inland"),
)

_BY_KEY = {m.name.casefold(): m for m in MUNICIPALITIES}


def municipality(name: str) -> Municipality:
    """Look a municipality up by name (case-insensitive).

    Raises:
        InvalidInput: naming the field `municipality` and the value, with the choices.
    """
    found = _BY_KEY.get(name.strip().casefold())
    if found is None:
        choices = tuple(m.name for m in MUNICIPALITIES)
        raise InvalidInput("municipality", name, N_("unknown; one of %(choices)s", choices=choices))
    return found


@lru_cache(maxsize=4096)
def road_km(origin: str, destination: str) -> int:
    """Estimated road km between two municipalities, routed via Umeå unless one is Umeå.

    A coarse but monotone estimate (the table only has distances to Umeå): for two places
    on the same side it takes the difference, never less than 20 km between distinct places.
    Cached: the planner's search asks for the same few pairs many thousand times a second.
    """
    if origin.casefold() == destination.casefold():
        return 0
    a, b = municipality(origin), municipality(destination)
    if 0 in (a.km_to_umea, b.km_to_umea):
        return a.km_to_umea + b.km_to_umea
    if a.group == b.group:
        return max(20, abs(a.km_to_umea - b.km_to_umea))
    return a.km_to_umea + b.km_to_umea
