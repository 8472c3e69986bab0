"""Pure domain of essence: pathways, cases, steps, calendars, metrics and errors.

Nothing here does I/O or imports SQL, Prefect or OR-Tools; it is unit-tested in memory.
"""
