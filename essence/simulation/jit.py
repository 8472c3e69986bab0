"""Compile the event loop's functions with numba, keeping the machine code on disk.

numba caches the compiled code next to the module (``__pycache__``) or under
``NUMBA_CACHE_DIR``: compiling takes a few seconds once, loading it well under a second per
process. Where neither place is writable (a read-only install under a hardened service
without NUMBA_CACHE_DIR), each process compiles on first use instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from numba import njit

F = TypeVar("F", bound=Callable)


def compiled(function: F) -> F:
    """`function` compiled in nopython mode, cached on disk where possible."""
    try:
        return njit(cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return njit(function)
