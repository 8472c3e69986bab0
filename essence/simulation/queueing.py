"""Textbook queueing results the simulator is validated against (rates per day, times in days).

Erlang C for M/M/c, the sum of M/M/c stations for a tandem Jackson network, and the
Nelson–Tantawi mean response of a fork/join of two identical M/M/1 branches.
"""

from __future__ import annotations

from essence.domain.errors import InvalidInput


def _check_stable(arrival_rate: float, service_rate: float, servers: int) -> float:
    if arrival_rate <= 0 or service_rate <= 0 or servers < 1:
        raise InvalidInput(
            "rates", f"{arrival_rate}, {service_rate}, {servers}", "must be positive"
        )
    rho = arrival_rate / (servers * service_rate)
    if rho >= 1:
        raise InvalidInput("utilisation", round(rho, 4), "must be below 1 for a steady state")
    return rho


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arrival has to wait in an M/M/c queue."""
    rho = _check_stable(arrival_rate, service_rate, servers)
    a = arrival_rate / service_rate
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= a / k
        total += term
    last = term * a / servers / (1 - rho)
    return last / (total + last)


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue (days) of an M/M/c queue: C(c, a) / (c mu - lambda)."""
    waiting = erlang_c(arrival_rate, service_rate, servers)
    return waiting / (servers * service_rate - arrival_rate)


def mmc_mean_sojourn(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in system (days) of an M/M/c queue."""
    return mmc_mean_wait(arrival_rate, service_rate, servers) + 1 / service_rate


def tandem_mean_sojourn(arrival_rate: float, stations: list[tuple[float, int]]) -> float:
    """Mean sojourn (days) through M/M/c stations in series (Jackson: the sum of stations).

    Args:
        arrival_rate: Poisson arrivals per day.
        stations: (service rate per day, servers) for each station in order.
    """
    return sum(mmc_mean_sojourn(arrival_rate, mu, c) for mu, c in stations)


def fork_join_mean_response(arrival_rate: float, service_rate: float) -> float:
    """Mean response (days) of a fork/join of two identical M/M/1 branches (Nelson–Tantawi).

    R = (12 - rho) / 8 * 1 / (mu - lambda), exact for two branches.
    """
    rho = _check_stable(arrival_rate, service_rate, 1)
    return (12 - rho) / 8 / (service_rate - arrival_rate)
