"""Small factories for simulation tests: textbook scenarios in continuous time.

Rates are per day; a service rate mu means exponential minutes with mean 1440 / mu.
"""

from __future__ import annotations

from typing import Any

from essence.simulation.scenario import Scenario, parse_scenario

MINUTES_PER_DAY = 1440.0


def step(key: str, profession: str | None, mu: float | None = None, **extra: Any) -> dict:
    """A pathway step; `mu` (per day) sets exponential durations via step_durations."""
    data: dict[str, Any] = {"key": key, "title": key}
    if profession:
        data["professions"] = [profession]
        data["minutes"] = max(1, round(MINUTES_PER_DAY / mu)) if mu else 1
    return {**data, **extra}


def textbook_scenario(
    steps: list[dict],
    staff: dict[str, int],
    arrivals_per_day: float,
    service_rates: dict[str, float],
    years: float = 1.0,
    replications: int = 20,
    seed: int = 7,
    warmup_days: float = 60.0,
    fixed: dict[str, float] | None = None,
) -> Scenario:
    """A continuous-time scenario: Poisson arrivals, exponential services, no calendars."""
    durations = {
        key: {"kind": "exponential", "mean_minutes": MINUTES_PER_DAY / mu}
        for key, mu in service_rates.items()
    }
    durations.update({k: {"kind": "fixed", "mean_minutes": m} for k, m in (fixed or {}).items()})
    return parse_scenario(
        {
            "children_per_year": arrivals_per_day * 365.25,
            "years": years,
            "warmup_days": warmup_days,
            "replications": replications,
            "seed": seed,
            "pathway": {"name": "textbook", "version": 1, "steps": steps},
            "step_durations": durations,
            "no_show_rate": 0,
            "referrals": {
                "seasonality": 0,
                "municipalities": [
                    {"name": "Umeå", "population": 1, "km_to_umea": 0, "group": "umea"}
                ],
            },
            "calendar": {"enabled": False, "continuous_minutes_per_day": MINUTES_PER_DAY},
            "setup": {"kind": "central", "no_show_per_100km": 0},
            "teams": [{"base": "Umeå", "staff": staff}],
            "policies": {"coordinated": {"parallel": True, "bundle": False, "booking_days": 0}},
        }
    )
