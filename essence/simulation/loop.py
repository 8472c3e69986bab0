"""The event loop of the pathway engine: one function over plain lists and tuples.

Everything the loop touches is read into local variables once; per event it does list
indexing, arithmetic and heap operations only (no objects per event, no validation, no dict
look-ups by name). An event is a tuple ``(day, seq, kind, a, b)``; ``seq`` keeps ties in
insertion order. Arrivals are pre-drawn and merged with the heap. Random numbers come from
blocks pre-drawn per stream (durations per step, no-show uniforms), refilled from the same
stream when re-bookings use them up, so a replication's numbers do not depend on where it runs.

Semantics (see essence.simulation.engine): steps become ready when their prerequisites are
done (parallel policy) or one after another (sequential); a staffed step is released after
hand-off and booking delays (bundled onto the family's visit day), queues per team and
profession, and goes to the free staff member who would finish it first; a joint step is done
when every profession's part is; a missed appointment is booked again; staff who become free
just before a long absence sleep until back.
"""

from __future__ import annotations

from heapq import heappop, heappush
from math import ceil, inf
from typing import TYPE_CHECKING

from essence.simulation.staff_calendar import finish_day
from essence.simulation.trips import FAMILY_TRAVELS, STAFF_TRAVEL

if TYPE_CHECKING:
    from essence.simulation.engine import Engine

RELEASE, DONE, WAITED, WAKE = 0, 1, 2, 3
ABSENT_DAYS_BEFORE_SLEEP = 3.0


def run_events(engine: Engine) -> None:
    """Process arrivals and events in time order until the cohort is complete.

    Reads the engine's set-up (cases, step tables, staff, travel tables, pre-drawn numbers)
    and writes back what it measured: per-child figures in the engine's lists, staff load in
    the Staff lists, and the counters ``events``, ``now``, ``arrived``, ``finished``.
    """
    e = engine
    model = e.model
    scenario = model.scenario
    policy = e.policy
    # cases
    arrival = e.arrival
    arrivals = [*arrival, inf]
    muni = e.muni
    team = e.team
    in_cohort = e.in_cohort
    feedback_day = e.feedback_day
    done_steps = e.done_steps
    position = e.position
    last_prof = e.last_prof
    visit_booked = e.visit_booked
    queue_wait = e.queue_wait
    # steps
    n_steps = e.n_steps
    staffed = e.staffed
    wait_days = e.wait_days
    prof_id = e.prof_id
    family = e.family
    bundled = e.bundled
    n_prof = e.n_prof
    successors = e.successors
    pools = e.pools
    roots = e.roots
    order = model.order
    feedback = model.feedback
    missing = e.missing
    parts = e.parts
    no_show = e.no_show
    # policy
    parallel = policy.parallel
    handoff = policy.handoff_days
    booking = policy.booking_days
    by_referral = policy.queue_order == "referral"
    rebook = scenario.rebook_days
    calendar = e.calendar
    # staff
    staff = e.staff
    pool_of = staff.pool_of
    idles = staff.idle
    queues = staff.queues
    caps = staff.caps
    cums = staff.cums
    rate = staff.rate
    busy = staff.busy
    area = staff.area
    last_change = staff.last_change
    lo, hi = e.window
    # travel
    trips = e.trips
    code = trips.code
    no_show_p = trips.no_show
    travel_minutes = trips.staff_minutes
    round_trip_km = trips.round_trip_km
    family_km = trips.family_km
    staff_km = trips.staff_km
    visits = trips.visits
    visit_count = trips.visit_count
    made_trips = trips.trips
    # random numbers, pre-drawn in blocks
    draws = e.draws
    uniforms = e.uniforms

    heap: list[tuple] = [(inf, 0, -1, 0, 0)]  # a sentinel: the heap is never empty
    seq = 0
    queue_seq = 0
    cohort_pending = e.cohort_pending
    finished = 0
    events = 0
    now = 0.0
    horizon = e.horizon
    cohort_end = hi

    def begin_day(server: int, t: float) -> float:
        """When `server` can start work at `t` (the next clinical minute)."""
        cap = caps[server]
        if cap[int(t)]:
            return t
        return finish_day(cap, cums[server], rate, t, 0.0)

    def account(pool: int, t: float) -> None:
        a = last_change[pool]
        if a < lo:
            a = lo
        b = t if t < hi else hi
        if b > a:
            area[pool] += len(queues[pool]) * (b - a)
        last_change[pool] = t

    def start(server, case, s, key, minutes, queued, t, begin, done) -> None:
        """`server` starts a job at `t` (at `begin` by its calendar); schedule when it is done
        (`done` < 0: not yet computed)."""
        nonlocal seq
        if begin < 0:
            begin = begin_day(server, t) if calendar else t
        m = muni[case]
        travel = code[m * n_steps + s]
        if travel:
            day = int(begin)
            if family[s] and not no_show[key]:
                visit = (case, day)
                if visit not in visits:
                    visits.add(visit)
                    visit_count[case] += 1
                    if travel == FAMILY_TRAVELS:
                        family_km[case] += round_trip_km[m]
            if travel == STAFF_TRAVEL:
                trip = (server, case, day)
                if trip not in made_trips:
                    made_trips.add(trip)
                    staff_km[case] += round_trip_km[m]
                    minutes += travel_minutes[m * n_steps + s]
                    done = -1.0
        queue_wait[case] += begin - queued
        if lo <= begin < hi:
            busy[pool_of[server]] += minutes
        if done < 0:
            if calendar:
                cap = caps[server]
                d = int(t)
                c = cap[d]
                if c and minutes <= (1.0 - (t - d)) * c:  # done today (finish_day's fast path)
                    done = t + minutes / c
                else:
                    done = finish_day(cap, cums[server], rate, t, minutes)
            else:
                done = t + minutes / rate
        seq += 1
        heappush(heap, (done, seq, DONE, server, key))

    def release(case: int, s: int, t: float) -> None:
        """Put one attempt of staffed step `s` into the queues of its professions."""
        nonlocal queue_seq, uniforms
        key = case * n_steps + s
        minutes = next(draws[s], None)
        if minutes is None:
            minutes = next(e.refill_minutes(s))
        parts[key] = n_prof[s]
        if family[s]:
            u = next(uniforms, None)
            if u is None:
                uniforms = e.refill_uniforms()
                u = next(uniforms)
            no_show[key] = u < no_show_p[muni[case] * n_steps + s]
        priority = arrival[case] if by_referral else t
        for pool in pools[team[case]][s]:
            idle = idles[pool]
            if idle:
                done = -1.0
                if calendar and len(idle) > 1:
                    best = -1
                    d = int(t)
                    today = 1.0 - (t - d)
                    for server in idle:
                        cap = caps[server]
                        c = cap[d]
                        if c and minutes <= today * c:  # finish_day's fast path, inlined
                            end = t + minutes / c
                        else:
                            end = finish_day(cap, cums[server], rate, t, minutes)
                        if best < 0 or end < done:
                            best, done = server, end
                    idle.remove(best)
                else:
                    best = idle.pop()
                start(best, case, s, key, minutes, t, t, -1.0, done)
            else:
                last = last_change[pool]  # queue length x time, as `account` does
                if last < lo:
                    last = lo
                upto = t if t < hi else hi
                if upto > last:
                    area[pool] += len(queues[pool]) * (upto - last)
                last_change[pool] = t
                queue_seq += 1
                heappush(queues[pool], (priority, queue_seq, case, s, key, minutes, t))

    def ready(case: int, s: int, t: float) -> None:
        """Step `s` of `case` may begin: wait, or release it after hand-off and booking."""
        nonlocal seq
        if not staffed[s]:
            seq += 1
            heappush(heap, (t + wait_days[s], seq, WAITED, case, s))
            return
        when = t
        professions = prof_id[s]
        if handoff:
            last = last_prof[case]
            if last >= 0 and last != professions:
                when += handoff
        last_prof[case] = professions
        if family[s]:
            when += booking
            if bundled[s]:
                booked = visit_booked[case]
                if booked >= t:
                    when = booked
                else:
                    if calendar:
                        when = float(ceil(when))
                    visit_booked[case] = when
        if when > t:
            seq += 1
            heappush(heap, (when, seq, RELEASE, case, s))
        else:
            release(case, s, t)

    def step_done(case: int, s: int, t: float) -> None:
        nonlocal cohort_pending, finished
        done = done_steps[case] + 1
        done_steps[case] = done
        if s == feedback:
            feedback_day[case] = t
            if in_cohort[case]:
                cohort_pending -= 1
        if done == n_steps:
            finished += 1
        if parallel:
            base = case * n_steps
            for successor in successors[s]:
                key = base + successor
                left = missing[key] - 1
                missing[key] = left
                if not left:
                    ready(case, successor, t)
        else:
            at = position[case] + 1
            position[case] = at
            if at < n_steps:
                ready(case, order[at], t)

    first = order[0]
    i = 0
    next_arrival = arrivals[0]
    while True:
        if not cohort_pending and now >= cohort_end:
            break
        if heap[0][0] <= next_arrival:
            t, _, kind, a, b = heappop(heap)
            if t > horizon:
                break
            now = t
            events += 1
            if kind == DONE:  # a: server, b: case * n_steps + step
                pool = pool_of[a]
                begin = t
                sleeps = False
                if calendar:
                    cap = caps[a]
                    d = int(t)
                    if not cap[d]:
                        begin = finish_day(cap, cums[a], rate, t, 0.0)
                    if begin - t > ABSENT_DAYS_BEFORE_SLEEP:
                        seq += 1
                        heappush(heap, (begin, seq, WAKE, a, 0))
                        sleeps = True
                if not sleeps:
                    queue = queues[pool]
                    if queue:
                        last = last_change[pool]  # queue length x time, as `account` does
                        if last < lo:
                            last = lo
                        upto = t if t < hi else hi
                        if upto > last:
                            area[pool] += len(queue) * (upto - last)
                        last_change[pool] = t
                        _, _, case, s, key, minutes, queued = heappop(queue)
                        start(a, case, s, key, minutes, queued, t, begin, -1.0)
                    else:
                        idles[pool].append(a)
                left = parts[b] - 1
                parts[b] = left
                if left:
                    continue
                case, s = divmod(b, n_steps)
                if no_show[b]:
                    seq += 1
                    heappush(heap, (t + rebook, seq, RELEASE, case, s))
                else:
                    step_done(case, s, t)
            elif kind == RELEASE:
                release(a, b, t)
            elif kind == WAITED:
                step_done(a, b, t)
            else:  # WAKE: a staff member is back from an absence
                pool = pool_of[a]
                queue = queues[pool]
                if queue:
                    account(pool, t)
                    _, _, case, s, key, minutes, queued = heappop(queue)
                    start(a, case, s, key, minutes, queued, t, -1.0, -1.0)
                else:
                    idles[pool].append(a)
        else:
            t = next_arrival
            if t > horizon:
                break
            now = t
            events += 1
            case = i
            i += 1
            next_arrival = arrivals[i]
            if parallel:
                for s in roots:
                    ready(case, s, t)
            else:
                ready(case, first, t)
    e.events = events
    e.now = now
    e.arrived = i
    e.finished = finished
    e.cohort_pending = cohort_pending
