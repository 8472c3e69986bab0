"""The event loop of the pathway engine, compiled with numba over flat numpy arrays.

An event is a heap row ``(day, seq, kind, a, b)``; ``seq`` keeps ties in insertion order.
Arrivals are pre-drawn and merged with the heap. Durations and no-show uniforms come from
blocks pre-drawn per stream; `advance` returns to the engine (REFILL or GROW) between two
events when a block runs low or a queue or the visit set needs room, and the engine refills
from the same stream and calls it again, so a replication's numbers do not depend on where it
runs. The tables are essence.simulation.tables, filled by essence.simulation.engine.

Semantics: steps become ready when their prerequisites are done (parallel policy) or one after
another (sequential); a staffed step is released after hand-off and booking delays (bundled
onto the family's visit day), queues per team and profession, and goes to the free staff
member who would finish it first; a joint step is done when every profession's part is; a
missed appointment is booked again; staff who become free just before a long absence sleep
until back. Events counted: arrivals and every heap event processed.

One event's consequences run in the order of a recursive description (a step done makes its
successors ready one after another; a release starts its parts at once), but flattened into a
small list of requests and of jobs to start, so each piece of logic is compiled once. It stays
one function on purpose: numba passes every array of the tables as separate arguments, so
compiled helpers that take the tables cost more per event than the work they do (only small
leaf helpers over a few arrays are split out).
"""

from __future__ import annotations

import math

import numpy as np

from essence.simulation.heaps import pop_event, pop_job, push_event, push_job, set_add
from essence.simulation.jit import compiled
from essence.simulation.staff_calendar import finish_day as _finish_day
from essence.simulation.tables import (
    ARRIVED,
    BOOKING,
    BY_REFERRAL,
    CALENDAR,
    DAY_CODES,
    DONE_CASES,
    EVENTS,
    FEEDBACK,
    HANDOFF,
    HEAP,
    HI,
    HORIZON,
    LO,
    N_CASES,
    N_SERVERS,
    N_STEPS,
    NEED,
    NOW,
    PARALLEL,
    PENDING,
    QUEUE_MAX,
    QUEUE_SEQ,
    RATE,
    REBOOK,
    SEEN,
    SEQ,
    UNIFORM,
)  # fmt: skip
from essence.simulation.trips import FAMILY_TRAVELS, STAFF_TRAVEL

RELEASE, DONE, WAITED, WAKE = 0, 1, 2, 3  # event kinds
FINISHED, REFILL, GROW = 0, 1, 2  # what `advance` returns
STEP_DONE, READY, RELEASE_NOW, REBOOK_LATER = 0, 1, 2, 3  # requests within one event
ABSENT_DAYS_BEFORE_SLEEP = 3.0

finish_day = compiled(_finish_day)  # the calendar's own function, compiled


@compiled
def _trip(server, case, m, s, day, travel, attended, trips, ints, state):
    """Record the family's visit or the staff trip of a step begun on `day`; return the
    staff travel minutes it adds (one round trip per staff member, child and day)."""
    if attended and set_add(trips.seen, 2 * (case * ints[DAY_CODES] + day)):
        state[SEEN] += 1
        trips.visit_count[case] += 1
        if travel == FAMILY_TRAVELS:
            trips.family_km[case] += trips.round_trip_km[m]
    if travel == STAFF_TRAVEL:
        made = (server * ints[N_CASES] + case) * ints[DAY_CODES] + day
        if set_add(trips.seen, 2 * made + 1):
            state[SEEN] += 1
            trips.staff_km[case] += trips.round_trip_km[m]
            return trips.staff_minutes[m, s]
    return 0.0


@compiled
def _account(area, last_change, queue_len, pool, t, lo, hi):
    """Add the queue length of `pool` times the scored time since its last change."""
    last = last_change[pool]
    if last < lo:
        last = lo
    upto = t if t < hi else hi
    if upto > last:
        area[pool] += queue_len[pool] * (upto - last)
    last_change[pool] = t


@compiled
def _fastest_idle(idle, caps, cums, pool, count, t, minutes, rate):
    """Index in the pool's idle list of the server who would finish `minutes` begun at `t`
    first (the first of them on a tie), and when."""
    best, done = -1, -1.0
    d = int(t)
    today = 1.0 - (t - d)
    tomorrow = d + 1 - 1e-9
    for x in range(count):
        server = idle[pool, x]
        c = caps[server, d]
        if c and minutes <= today * c:  # finish_day's fast path, inlined
            end = t + minutes / c
        elif best >= 0 and done < tomorrow:
            continue  # a server done today is chosen; this one works into d + 1
        else:
            end = finish_day(caps[server], cums[server], rate, t, minutes)
        if best < 0 or end < done:
            best, done = x, end
    return best, done


@compiled
def advance(cases, steps, keys, pools, trips, draws, heap, ints, floats, state):
    """Process arrivals and events in time order until the cohort is complete (FINISHED), or
    until a block of random numbers runs low (REFILL) or a queue or the visit set needs room
    (GROW); the counters in `state` and the clock ``floats[NOW]`` carry over between calls.
    """
    n_steps = ints[N_STEPS]
    parallel, calendar, by_referral = ints[PARALLEL], ints[CALENDAR], ints[BY_REFERRAL]
    handoff, booking, rebook = floats[HANDOFF], floats[BOOKING], floats[REBOOK]
    rate, lo, hi, horizon = floats[RATE], floats[LO], floats[HI], floats[HORIZON]
    day, rows = heap.day, heap.rows
    arrival, muni, queue_wait = cases.arrival, cases.muni, cases.queue_wait
    pool_of, idle, idle_count, queue_len = (
        pools.pool_of,
        pools.idle,
        pools.idle_count,
        pools.queue_len,
    )
    caps, cums, busy, area, last_change = (
        pools.caps,
        pools.cums,
        pools.busy,
        pools.area,
        pools.last_change,
    )
    code = trips.code
    # an event adds at most one job per step and pool, and two trips per part it starts
    queue_room = pools.priority.shape[1] - n_steps
    seen_room = trips.seen.shape[0] // 2 - 2 * n_steps * (ints[N_SERVERS] + 1)
    # one event's requests (kind, case, step) and jobs to start
    request = np.empty((2 * n_steps + 4, 3), dtype=np.int64)
    start = np.empty((idle.shape[0] + 2, 4), dtype=np.int64)  # server, case, step, key
    start_at = np.empty((idle.shape[0] + 2, 4))  # minutes, queued, begin, done
    while True:
        if not state[PENDING] and floats[NOW] >= hi:
            return FINISHED
        if state[NEED]:
            return REFILL
        if state[QUEUE_MAX] > queue_room or state[SEEN] > seen_room:
            return GROW
        requests = 0
        starts = 0
        take = -1  # a server that takes the next job of its queue
        begin = -1.0
        next_arrival = arrival[state[ARRIVED]]
        if state[HEAP] and day[0] <= next_arrival:
            if day[0] > horizon:
                return FINISHED
            t, kind, a, b = pop_event(day, rows, state[HEAP])
            state[HEAP] -= 1
            floats[NOW] = t
            state[EVENTS] += 1
            if kind == DONE:  # a: server, b: case x steps + step
                take = a
                begin = t
                if calendar and not caps[a, int(t)]:
                    begin = finish_day(caps[a], cums[a], rate, t, 0.0)
                    if begin - t > ABSENT_DAYS_BEFORE_SLEEP:  # sleeps until back
                        state[SEQ] += 1
                        push_event(day, rows, state[HEAP], begin, state[SEQ], WAKE, a, 0)
                        state[HEAP] += 1
                        take = -1
                left = keys.parts[b] - 1
                keys.parts[b] = left
                if not left:  # the step's last part
                    case = b // n_steps
                    request[0, 0] = REBOOK_LATER if keys.no_show[b] else STEP_DONE
                    request[0, 1] = case
                    request[0, 2] = b - case * n_steps
                    requests = 1
            elif kind == WAKE:  # a staff member is back from an absence
                take = a
            else:  # RELEASE or WAITED of step b of case a
                request[0, 0] = RELEASE_NOW if kind == RELEASE else STEP_DONE
                request[0, 1] = a
                request[0, 2] = b
                requests = 1
        else:
            t = next_arrival
            if t > horizon:
                return FINISHED
            floats[NOW] = t
            state[EVENTS] += 1
            case = state[ARRIVED]
            state[ARRIVED] = case + 1
            if parallel:
                for s in steps.roots:
                    request[requests, 0] = READY
                    request[requests, 1] = case
                    request[requests, 2] = s
                    requests += 1
            else:
                request[0, 0] = READY
                request[0, 1] = case
                request[0, 2] = steps.order[0]
                requests = 1
        if take >= 0:  # the server takes its next job, or idles
            pool = pool_of[take]
            size = queue_len[pool]
            if size:
                _account(area, last_change, queue_len, pool, t, lo, hi)
                key = pop_job(pools.priority[pool], pools.seq[pool], pools.job[pool], size)
                queue_len[pool] = size - 1
                case = key // n_steps
                start[0, 0] = take
                start[0, 1] = case
                start[0, 2] = key - case * n_steps
                start[0, 3] = key
                start_at[0, 0] = keys.minutes[key]
                start_at[0, 1] = keys.queued[key]
                start_at[0, 2] = begin
                start_at[0, 3] = -1.0
                starts = 1
            else:
                idle[pool, idle_count[pool]] = take
                idle_count[pool] += 1
        r = 0
        while True:
            for j in range(starts):  # start jobs: server, case, step, key; minutes, queued...
                server, case, s, key = start[j, 0], start[j, 1], start[j, 2], start[j, 3]
                minutes, queued, begin, done = (
                    start_at[j, 0],
                    start_at[j, 1],
                    start_at[j, 2],
                    start_at[j, 3],
                )
                if begin < 0:
                    begin = t
                    if calendar and not caps[server, int(t)]:
                        begin = finish_day(caps[server], cums[server], rate, t, 0.0)
                m = muni[case]
                travel = code[m, s]
                if travel:
                    attended = steps.family[s] and not keys.no_show[key]
                    extra = _trip(
                        server, case, m, s, int(begin), travel, attended, trips, ints, state
                    )
                    if extra:
                        minutes += extra
                        done = -1.0
                queue_wait[case] += begin - queued
                if lo <= begin < hi:
                    busy[pool_of[server]] += minutes
                if done < 0:
                    if calendar:
                        d = int(t)
                        c = caps[server, d]
                        if c and minutes <= (1.0 - (t - d)) * c:  # done today
                            done = t + minutes / c
                        else:
                            done = finish_day(caps[server], cums[server], rate, t, minutes)
                    else:
                        done = t + minutes / rate
                state[SEQ] += 1
                push_event(day, rows, state[HEAP], done, state[SEQ], DONE, server, key)
                state[HEAP] += 1
            starts = 0
            if r == requests:
                break
            what, case, s = request[r, 0], request[r, 1], request[r, 2]
            r += 1
            if what == REBOOK_LATER:  # the family missed it: booked again
                state[SEQ] += 1
                push_event(day, rows, state[HEAP], t + rebook, state[SEQ], RELEASE, case, s)
                state[HEAP] += 1
                continue
            if what == STEP_DONE:  # record it, make the next steps ready
                done_steps = cases.done_steps[case] + 1
                cases.done_steps[case] = done_steps
                if s == ints[FEEDBACK]:
                    cases.feedback_day[case] = t
                    if cases.in_cohort[case]:
                        state[PENDING] -= 1
                if done_steps == n_steps:
                    state[DONE_CASES] += 1
                if parallel:
                    base = case * n_steps
                    for j in range(steps.successor_start[s], steps.successor_start[s + 1]):
                        successor = steps.successor[j]
                        left = keys.missing[base + successor] - 1
                        keys.missing[base + successor] = left
                        if not left:
                            request[requests, 0] = READY
                            request[requests, 1] = case
                            request[requests, 2] = successor
                            requests += 1
                else:
                    at = cases.position[case] + 1
                    cases.position[case] = at
                    if at < n_steps:
                        request[requests, 0] = READY
                        request[requests, 1] = case
                        request[requests, 2] = steps.order[at]
                        requests += 1
                continue
            if what == READY and not steps.direct[s]:  # wait, or release after hand-off and booking
                if not steps.staffed[s]:  # a waiting step (questionnaires)
                    state[SEQ] += 1
                    push_event(
                        day, rows, state[HEAP], t + steps.wait_days[s], state[SEQ], WAITED, case, s
                    )
                    state[HEAP] += 1
                    continue
                when = t
                if handoff:
                    professions = steps.prof_id[s]
                    last = cases.last_prof[case]
                    if last >= 0 and last != professions:
                        when += handoff
                    cases.last_prof[case] = professions
                if steps.family[s]:  # booked
                    when += booking
                    if steps.bundled[s]:  # onto the family's visit day
                        booked = cases.visit_booked[case]
                        if booked >= t:
                            when = booked
                        else:
                            if calendar:
                                when = float(math.ceil(when))
                            cases.visit_booked[case] = when
                if when > t:
                    state[SEQ] += 1
                    push_event(day, rows, state[HEAP], when, state[SEQ], RELEASE, case, s)
                    state[HEAP] += 1
                    continue
            # release one attempt of staffed step s into the queues of its professions
            key = case * n_steps + s
            at = draws.position[s]
            minutes = draws.minutes[s, at]
            draws.position[s] = at + 1
            if at + 1 >= draws.length[s]:
                state[NEED] = 1
            keys.parts[key] = steps.n_prof[s]
            if steps.family[s]:  # the family may miss it
                u = draws.uniforms[state[UNIFORM]]
                state[UNIFORM] += 1
                if state[UNIFORM] + n_steps > draws.uniforms.shape[0]:
                    state[NEED] = 1
                keys.no_show[key] = u < trips.no_show[muni[case], s]
            base = cases.team[case] * n_steps + s
            for j in range(steps.pool_start[base], steps.pool_start[base + 1]):
                pool = steps.pool[j]
                count = idle_count[pool]
                if count:
                    done = -1.0
                    if calendar and count > 1:
                        x, done = _fastest_idle(idle, caps, cums, pool, count, t, minutes, rate)
                        server = idle[pool, x]
                        for y in range(x, count - 1):
                            idle[pool, y] = idle[pool, y + 1]
                    else:
                        server = idle[pool, count - 1]
                    idle_count[pool] = count - 1
                    start[starts, 0] = server
                    start[starts, 1] = case
                    start[starts, 2] = s
                    start[starts, 3] = key
                    start_at[starts, 0] = minutes
                    start_at[starts, 1] = t
                    start_at[starts, 2] = -1.0
                    start_at[starts, 3] = done
                    starts += 1
                else:
                    _account(area, last_change, queue_len, pool, t, lo, hi)
                    state[QUEUE_SEQ] += 1
                    priority = arrival[case] if by_referral else t
                    keys.minutes[key] = minutes
                    keys.queued[key] = t
                    size = queue_len[pool]
                    push_job(pools.priority[pool], pools.seq[pool], pools.job[pool], size,
                             priority, state[QUEUE_SEQ], key)  # fmt: skip
                    queue_len[pool] = size + 1
                    if size + 1 > state[QUEUE_MAX]:
                        state[QUEUE_MAX] = size + 1
