"""An FCFS recursion for the M/M/c queue: a closed-form check, not a simulator.

Under first-come-first-served each customer starts at max(arrival, earliest time a server is
free) (the Kiefer–Wolfowitz recursion); a heap of the c servers' free times gives the waits in
one pass. There is no event list, no priorities, no calendars and no network: it only holds
for a single FCFS queue, so it says nothing about the pathway engine's speed. The product does
not use it; it stays as an independent cross-check of the Erlang C formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heapreplace

import numpy as np

from essence.domain.errors import InvalidInput


@dataclass(frozen=True)
class QueueRun:
    """Figures of one M/M/c run (times in the unit of the rates, e.g. days).

    Attributes:
        customers: Customers served.
        mean_wait: Mean time in queue.
        mean_sojourn: Mean time in system.
        events: Arrivals plus departures the recursion accounted for (2 per customer).
    """

    customers: int
    mean_wait: float
    mean_sojourn: float
    events: int


def simulate_mmc(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    customers: int,
    rng: np.random.Generator,
    warmup: int = 0,
) -> QueueRun:
    """Waits of `customers` in an FCFS M/M/c queue by the recursion; the first `warmup` are
    not scored.

    Raises:
        InvalidInput: for non-positive rates, servers or customers.
    """
    if arrival_rate <= 0 or service_rate <= 0 or servers < 1 or customers < 1:
        raise InvalidInput(
            "mmc", f"{arrival_rate}, {service_rate}, {servers}, {customers}", "must be positive"
        )
    arrivals = np.cumsum(rng.exponential(1 / arrival_rate, customers)).tolist()
    services = rng.exponential(1 / service_rate, customers).tolist()
    waits = _recursion(arrivals, services, servers)
    scored = np.asarray(waits[warmup:])
    return QueueRun(
        customers=int(scored.size),
        mean_wait=float(scored.mean()),
        mean_sojourn=float(scored.mean() + np.mean(services[warmup:])),
        events=2 * customers,
    )


def _recursion(arrivals: list[float], services: list[float], servers: int) -> list[float]:
    """Waits in queue: start = max(arrival, earliest departure); that server departs again."""
    departures = [0.0] * servers
    waits = [0.0] * len(arrivals)
    for i, arrival in enumerate(arrivals):
        free = departures[0]
        if free > arrival:
            waits[i] = free - arrival
            heapreplace(departures, free + services[i])
        else:
            heapreplace(departures, arrival + services[i])
    return waits
