"""Retry policy shared by the flows' tasks: only transient infrastructure faults retry.

Transience is decided by the error's class: our own errors say it (`EssenceError.transient`),
and a driver error that slipped past translation is classified by its SQLSTATE or SQLite
result code (`essence.adapters.db_errors`), never by the words of its message.
"""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

from essence.adapters.db_errors import classify
from essence.domain.errors import EssenceError

TRANSIENT_RETRIES = 3
RETRY_DELAY_S = exponential_backoff(backoff_factor=2)(TRANSIENT_RETRIES)  # 2, 4, 8 s
RETRY_JITTER_FACTOR = 0.5  # each delay may grow by up to half, at random


def is_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """True when the task failed on a transient fault (conflict, busy database, lost
    connection before a commit); domain errors and anything unknown never retry."""
    try:
        state.result()
    except EssenceError as error:
        return error.transient
    except Exception as error:
        fault = classify(error)
        return fault is not None and fault.transient
    return False
