"""The flat numpy tables the compiled event loop works on, grouped by what they index.

Named tuples of arrays (numba passes them by reference and reads fields by name). The engine
fills them (essence.simulation.engine); the loop (essence.simulation.loop) reads and updates
them; slot numbers of the small parameter and counter arrays are below.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# int parameters (`ints`)
PARALLEL, BY_REFERRAL, CALENDAR, N_STEPS, FEEDBACK, DAY_CODES, N_CASES, N_SERVERS = range(8)
INT_SLOTS = 8
# float parameters (days; the rate in minutes per day) and the clock (`floats`)
HANDOFF, BOOKING, REBOOK, RATE, LO, HI, HORIZON, NOW = range(8)
FLOAT_SLOTS = 8
# counters kept between calls of the loop (`state`)
SEQ, QUEUE_SEQ, HEAP, QUEUE_MAX, UNIFORM, NEED, EVENTS, ARRIVED, DONE_CASES, PENDING, SEEN = range(
    11
)
STATE_SLOTS = 11


class Cases(NamedTuple):
    """Per child (index = case number, in referral order)."""

    arrival: np.ndarray  # referral day, with one inf appended
    muni: np.ndarray  # municipality index
    team: np.ndarray  # team index (the nearest)
    in_cohort: np.ndarray  # referred in the scored window
    feedback_day: np.ndarray  # day of the feedback step (nan until done)
    done_steps: np.ndarray  # steps done
    position: np.ndarray  # sequential policy: index into the step order
    last_prof: np.ndarray  # professions id of the last staffed step (-1: none)
    visit_booked: np.ndarray  # day of the booked bundled visit (-1: none)
    queue_wait: np.ndarray  # days its steps waited for a free staff member


class Steps(NamedTuple):
    """Per step (index = step), plus the pools per team and step in CSR form."""

    staffed: np.ndarray
    wait_days: np.ndarray
    prof_id: np.ndarray  # id of the step's set of professions
    family: np.ndarray  # family-facing
    bundled: np.ndarray  # bundled onto the family's visit day under this policy
    n_prof: np.ndarray  # parts (professions) of the step
    successor_start: np.ndarray  # successors of s: successor[successor_start[s]:...[s + 1]]
    successor: np.ndarray
    roots: np.ndarray  # steps without prerequisites
    order: np.ndarray  # topological order (sequential policy)
    direct: np.ndarray  # released at once (staffed, not family-facing, no hand-off)
    pool_start: np.ndarray  # pools of (team, s): pool[pool_start[team * steps + s]:...]
    pool: np.ndarray


class Keys(NamedTuple):
    """Per child and step (index = case * steps + step)."""

    missing: np.ndarray  # prerequisites not yet done
    parts: np.ndarray  # parts of the current attempt not yet done
    no_show: np.ndarray  # the family misses the current attempt
    minutes: np.ndarray  # staff minutes of the current attempt (while queued)
    queued: np.ndarray  # day the current attempt was queued


class Pools(NamedTuple):
    """Staff: per server, and per pool (team x profession) its idle servers and queue."""

    pool_of: np.ndarray  # pool of each server
    idle: np.ndarray  # (pools, largest pool): idle servers in the order they became free
    idle_count: np.ndarray
    priority: np.ndarray  # (pools, capacity): queue heap of (priority, seq) -> job key
    seq: np.ndarray
    job: np.ndarray
    queue_len: np.ndarray
    caps: np.ndarray  # (servers, days): clinical minutes per day (0 days: no calendar)
    cums: np.ndarray  # (servers, days + 1): cumulative minutes before each day
    busy: np.ndarray  # busy minutes per pool in the scored window
    area: np.ndarray  # queue length x days per pool in the scored window
    last_change: np.ndarray  # day each pool's queue length last changed


class Travel(NamedTuple):
    """Travel decisions per (municipality, step) and per-child travel accounting."""

    code: np.ndarray  # (municipalities, steps): NOBODY, STAFF_TRAVEL or FAMILY_TRAVELS
    no_show: np.ndarray  # (municipalities, steps): probability of a missed appointment
    staff_minutes: np.ndarray  # (municipalities, steps): staff travel minutes per trip
    round_trip_km: np.ndarray  # per municipality
    family_km: np.ndarray  # per child
    staff_km: np.ndarray  # per child
    visit_count: np.ndarray  # per child: distinct in-person visit days
    seen: np.ndarray  # hash set of visits (child, day) and staff trips (server, child, day)


class Draws(NamedTuple):
    """Pre-drawn random numbers: durations per step (rows) and no-show uniforms."""

    minutes: np.ndarray  # (steps, block)
    position: np.ndarray  # next unused column per step
    length: np.ndarray  # valid columns per step
    uniforms: np.ndarray


class Heap(NamedTuple):
    """The event heap: day per slot and (seq, kind, a, b) per slot."""

    day: np.ndarray
    rows: np.ndarray
