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
    travel_minutes = trips.staff_minutes
    round_trip_km = trips.round_trip_km
    family_km = trips.family_km
    staff_km = trips.staff_km
    visits = trips.visits
    visit_count = trips.visit_count
    made_trips = trips.trips
    case_codes = [trips.step_codes[m] for m in muni]  # per case: travel code per step
    case_no_show = [trips.step_no_show[m] for m in muni]
    case_pools = [pools[t] for t in team]
    direct = [
        staffed[s] and not family[s] and not handoff for s in range(n_steps)
    ]  # released at once
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

    def trip(server: int, case: int, s: int, key: int, begin: float, travel: int) -> float:
        """Record the family's visit or the staff trip of a step begun at `begin`; return the
        staff travel minutes it adds (one round trip per staff member, child and day)."""
        day = int(begin)
        m = muni[case]
        if family[s] and not no_show[key]:
            visit = (case, day)
            if visit not in visits:
                visits.add(visit)
                visit_count[case] += 1
                if travel == FAMILY_TRAVELS:
                    family_km[case] += round_trip_km[m]
        if travel == STAFF_TRAVEL:
            made = (server, case, day)
            if made not in made_trips:
                made_trips.add(made)
                staff_km[case] += round_trip_km[m]
                return travel_minutes[m * n_steps + s]
        return 0.0

    def start(server, case, s, key, minutes, queued, t, begin, done) -> None:
        """`server` starts a job at `t` (at `begin` by its calendar, < 0: not yet known) and
        is done at `done` (< 0: not yet computed). The DONE branch of the loop inlines this."""
        nonlocal seq
        if begin < 0:
            begin = t
            if calendar:
                cap = caps[server]
                if not cap[int(t)]:
                    begin = finish_day(cap, cums[server], rate, t, 0.0)
        travel = case_codes[case][s]
        if travel:
            extra = trip(server, case, s, key, begin, travel)
            if extra:
                minutes += extra
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
            no_show[key] = u < case_no_show[case][s]
        for pool in case_pools[case][s]:
            idle = idles[pool]
            if idle:
                done = -1.0
                if calendar and len(idle) > 1:
                    best = -1
                    d = int(t)
                    today = 1.0 - (t - d)
                    tomorrow = d + 1 - 1e-9
                    for server in idle:
                        cap = caps[server]
                        c = cap[d]
                        if c and minutes <= today * c:  # finish_day's fast path, inlined
                            end = t + minutes / c
                        elif best >= 0 and done < tomorrow:
                            continue  # a server done today is chosen; this one works into d + 1
                        else:
                            end = finish_day(cap, cums[server], rate, t, minutes)
                        if best < 0 or end < done:
                            best, done = server, end
                    idle.remove(best)
                else:
                    best = idle.pop()
                start(best, case, s, key, minutes, t, t, -1.0, done)
            else:
                last = last_change[pool]  # queue length x scored time, before it changes
                if last < lo:
                    last = lo
                upto = t if t < hi else hi
                if upto > last:
                    area[pool] += len(queues[pool]) * (upto - last)
                last_change[pool] = t
                queue_seq += 1
                priority = arrival[case] if by_referral else t
                heappush(queues[pool], (priority, queue_seq, case, s, key, minutes, t))

    def ready(case: int, s: int, t: float) -> None:
        """Step `s` of `case` may begin: wait, or release it after hand-off and booking."""
        nonlocal seq
        if direct[s]:  # staffed, not family-facing, no hand-off under this policy
            release(case, s, t)
            return
        if not staffed[s]:
            seq += 1
            heappush(heap, (t + wait_days[s], seq, WAITED, case, s))
            return
        when = t
        if handoff:
            professions = prof_id[s]
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
        """Step `s` of `case` is done (the DONE branch of the loop inlines this)."""
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
                # the server takes its next job (or idles, or sleeps through an absence)
                pool = pool_of[a]
                begin = t
                if calendar:
                    cap = caps[a]
                    if not cap[int(t)]:
                        begin = finish_day(cap, cums[a], rate, t, 0.0)
                        if begin - t > ABSENT_DAYS_BEFORE_SLEEP:
                            seq += 1
                            heappush(heap, (begin, seq, WAKE, a, 0))
                            pool = -1
                if pool >= 0:
                    queue = queues[pool]
                    if queue:
                        last = last_change[pool]  # queue length x scored time, as in release
                        if last < lo:
                            last = lo
                        upto = t if t < hi else hi
                        if upto > last:
                            area[pool] += len(queue) * (upto - last)
                        last_change[pool] = t
                        _, _, case, s, key, minutes, queued = heappop(queue)
                        travel = case_codes[case][s]  # from here on as in `start`
                        if travel:
                            minutes += trip(a, case, s, key, begin, travel)
                        queue_wait[case] += begin - queued
                        if lo <= begin < hi:
                            busy[pool] += minutes
                        if calendar:
                            d = int(t)
                            c = cap[d]
                            if c and minutes <= (1.0 - (t - d)) * c:
                                done = t + minutes / c
                            else:
                                done = finish_day(cap, cums[a], rate, t, minutes)
                        else:
                            done = t + minutes / rate
                        seq += 1
                        heappush(heap, (done, seq, DONE, a, key))
                    else:
                        idles[pool].append(a)
                # the step's part is done; the step when all parts are (as in `step_done`)
                left = parts[b] - 1
                parts[b] = left
                if left:
                    continue
                case, s = divmod(b, n_steps)
                if no_show[b]:
                    seq += 1
                    heappush(heap, (t + rebook, seq, RELEASE, case, s))
                    continue
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
            elif kind == RELEASE:
                release(a, b, t)
            elif kind == WAITED:
                step_done(a, b, t)
            else:  # WAKE: a staff member is back from an absence
                pool = pool_of[a]
                queue = queues[pool]
                if queue:
                    last = last_change[pool]
                    if last < lo:
                        last = lo
                    upto = t if t < hi else hi
                    if upto > last:
                        area[pool] += len(queue) * (upto - last)
                    last_change[pool] = t
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
