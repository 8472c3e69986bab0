"""Retry policy shared by the flows' tasks: only transient infrastructure faults retry."""

from __future__ import annotations

from typing import Any

from essence.domain.errors import EssenceError, InfrastructureError

TRANSIENT_RETRIES = 3
RETRY_DELAY_S = 5


def is_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """True when the task failed because the database was unreachable; domain errors never retry."""
    try:
        state.result()
    except InfrastructureError:
        return True
    except EssenceError:
        return False
    except Exception as error:  # a driver error that slipped past translation
        return "connection" in str(error).lower()
    return False
