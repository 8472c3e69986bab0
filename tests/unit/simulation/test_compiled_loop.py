"""The compiled loop's building blocks, and a run that must grow its tables mid-way."""

from __future__ import annotations

import dataclasses
from heapq import heappop, heappush

import numpy as np

from essence.services.capacity import load_scenario
from essence.simulation.engine import Engine
from essence.simulation.heaps import (
    EMPTY,
    grown_set,
    pop_event,
    pop_job,
    push_event,
    push_job,
    set_add,
)
from essence.simulation.runner import model_for


def test_event_heap_pops_in_the_order_of_heapq_on_day_and_seq() -> None:
    rng = np.random.default_rng(3)
    days, rows = np.zeros(300), np.zeros((300, 4), dtype=np.int64)
    reference: list[tuple[float, int]] = []
    size = 0
    for seq in range(1, 301):
        day = float(rng.integers(0, 20))  # many ties
        push_event(days, rows, size, day, seq, 1, seq, 0)
        heappush(reference, (day, seq))
        size += 1
        if seq % 3 == 0:
            day, _, a, _ = pop_event(days, rows, size)
            size -= 1
            assert (day, a) == heappop(reference)
    while size:
        day, _, a, _ = pop_event(days, rows, size)
        size -= 1
        assert (day, a) == heappop(reference)


def test_a_pool_queue_serves_by_priority_then_arrival_in_the_queue() -> None:
    priority, seq, key = np.zeros(8), np.zeros(8, dtype=np.int64), np.zeros(8, dtype=np.int64)
    jobs = [(5.0, 1, 50), (2.0, 2, 20), (5.0, 3, 51), (2.0, 4, 21), (1.0, 5, 10)]
    for size, (p, s, k) in enumerate(jobs):
        push_job(priority, seq, key, size, p, s, k)
    order = [pop_job(priority, seq, key, size) for size in range(len(jobs), 0, -1)]
    assert order == [10, 20, 21, 50, 51]


def test_the_visit_set_adds_each_value_once_and_keeps_them_when_grown() -> None:
    table = np.full(16, EMPTY, dtype=np.int64)
    values = [0, 7, 2**40 + 3, 16, 32, 7]
    added = [set_add(table, v) for v in values]
    assert added == [True, True, True, True, True, False]
    bigger = grown_set(table)
    assert bigger.size == 32
    assert sorted(bigger[bigger != EMPTY].tolist()) == sorted(set(values))
    assert not set_add(bigger, 2**40 + 3)


def test_a_run_that_grows_its_queues_and_visit_set_gives_the_same_figures() -> None:
    scenario = load_scenario(overrides={"years": 1, "replications": 1, "no_show_rate": 0.1})
    model = model_for(scenario.model_dump_json())
    roomy = Engine(model, "sequential", 0)
    roomy.run()
    tight = Engine(model, "sequential", 0)
    pools = tight.staff.pools
    narrow = (pools.priority.shape[0], tight.n_steps + 1)  # room for one event's jobs
    tight.staff.pools = pools._replace(
        priority=np.zeros(narrow), seq=np.zeros(narrow, dtype=np.int64),
        job=np.zeros(narrow, dtype=np.int64),
    )  # fmt: skip
    tight.seen = np.full(16, EMPTY, dtype=np.int64)
    tight.run()
    assert tight.staff.pools.priority.shape[1] > narrow[1]
    assert tight.seen.size > 16
    a, b = dataclasses.asdict(roomy.result()), dataclasses.asdict(tight.result())
    for name, value in a.items():
        floats = isinstance(value, np.ndarray) and value.dtype.kind == "f"
        assert np.array_equal(value, b[name], equal_nan=floats), name
