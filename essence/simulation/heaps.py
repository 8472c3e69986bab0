"""Binary heaps and a hash set over numpy arrays, compiled with numba for the event loop.

The event heap orders ``(day, seq)``: ``seq`` rises with every push, so ties keep insertion
order, exactly as heapq on ``(day, seq, ...)`` tuples. A queue heap per pool orders
``(priority, seq)`` and carries a job key. The set holds non-negative int64 keys (open
addressing, linear probing, -1 = empty). The caller keeps sizes in its int state array.
"""

from __future__ import annotations

import numpy as np

from essence.simulation.jit import compiled

EMPTY = -1


@compiled
def push_event(days: np.ndarray, rows: np.ndarray, size: int, day: float, row_seq: int,
               kind: int, a: int, b: int) -> None:  # fmt: skip
    """Insert event ``(day, row_seq, kind, a, b)`` into a heap of `size` entries.

    Args:
        days: Event days (heap order), one per slot.
        rows: Per slot ``(seq, kind, a, b)``, shape (capacity, 4).
        size: Entries before the push (the caller adds one).
        day: When the event happens, days since the simulation start.
        row_seq: Insertion number, larger than every seq in the heap.
        kind: Event kind.
        a: First payload (case or server).
        b: Second payload (step or case x steps + step).
    """
    i = size
    while i > 0:
        up = (i - 1) >> 1
        if day < days[up]:  # a tie stays below: its seq is larger than every other
            days[i] = days[up]
            rows[i, 0] = rows[up, 0]
            rows[i, 1] = rows[up, 1]
            rows[i, 2] = rows[up, 2]
            rows[i, 3] = rows[up, 3]
            i = up
        else:
            break
    days[i] = day
    rows[i, 0] = row_seq
    rows[i, 1] = kind
    rows[i, 2] = a
    rows[i, 3] = b


@compiled
def pop_event(days: np.ndarray, rows: np.ndarray, size: int) -> tuple[float, int, int, int]:
    """Remove the first event of a heap of `size` > 0 entries; returns (day, kind, a, b)."""
    day, kind, a, b = days[0], rows[0, 1], rows[0, 2], rows[0, 3]
    n = size - 1
    if n > 0:
        last_day = days[n]
        last_seq = rows[n, 0]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            right = child + 1
            if right < n and (
                days[right] < days[child]
                or (days[right] == days[child] and rows[right, 0] < rows[child, 0])
            ):
                child = right
            if days[child] < last_day or (days[child] == last_day and rows[child, 0] < last_seq):
                days[i] = days[child]
                rows[i, 0] = rows[child, 0]
                rows[i, 1] = rows[child, 1]
                rows[i, 2] = rows[child, 2]
                rows[i, 3] = rows[child, 3]
                i = child
            else:
                break
        days[i] = last_day
        rows[i, 0] = last_seq
        rows[i, 1] = rows[n, 1]
        rows[i, 2] = rows[n, 2]
        rows[i, 3] = rows[n, 3]
    return day, kind, a, b


@compiled
def push_job(priority: np.ndarray, seq: np.ndarray, key: np.ndarray, size: int,
             job_priority: float, job_seq: int, job_key: int) -> None:  # fmt: skip
    """Insert a job into one pool's queue heap (rows of the pool arrays) of `size` entries."""
    i = size
    while i > 0:
        up = (i - 1) >> 1
        if job_priority < priority[up] or (job_priority == priority[up] and job_seq < seq[up]):
            priority[i] = priority[up]
            seq[i] = seq[up]
            key[i] = key[up]
            i = up
        else:
            break
    priority[i] = job_priority
    seq[i] = job_seq
    key[i] = job_key


@compiled
def pop_job(priority: np.ndarray, seq: np.ndarray, key: np.ndarray, size: int) -> int:
    """Remove the first job of one pool's queue heap of `size` > 0 entries; returns its key."""
    first = key[0]
    n = size - 1
    if n > 0:
        last_priority, last_seq, last_key = priority[n], seq[n], key[n]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            right = child + 1
            if right < n and (
                priority[right] < priority[child]
                or (priority[right] == priority[child] and seq[right] < seq[child])
            ):
                child = right
            if priority[child] < last_priority or (
                priority[child] == last_priority and seq[child] < last_seq
            ):
                priority[i] = priority[child]
                seq[i] = seq[child]
                key[i] = key[child]
                i = child
            else:
                break
        priority[i] = last_priority
        seq[i] = last_seq
        key[i] = last_key
    return first


@compiled
def set_add(table: np.ndarray, value: int) -> bool:
    """Add non-negative `value` to a hash set (length a power of two, -1 = empty slot);
    True when it was not there yet. The caller counts additions and grows the table."""
    mask = table.shape[0] - 1
    h = value ^ (value >> 17)
    h *= 0x2545F4914F6CDD1D
    h ^= h >> 29
    i = h & mask
    while table[i] != EMPTY:
        if table[i] == value:
            return False
        i = (i + 1) & mask
    table[i] = value
    return True


def grown_set(table: np.ndarray) -> np.ndarray:
    """A hash set twice as large holding the same values."""
    bigger = np.full(2 * table.shape[0], EMPTY, dtype=np.int64)
    for value in table[table != EMPTY].tolist():
        set_add(bigger, value)
    return bigger
