"""Small-count suppression for statistics planners see (GDPR Art. 89, the region's rule of 5).

One rule for every breakdown the planner page, the API, the CLI and the report show: a cell
counting fewer than 5 children is hidden, and so is the next smallest cell of the same
breakdown (complementary suppression), so no hidden count can be recovered by subtracting
the shown cells from the total. Decided on children counted, never on other figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

SUPPRESS_BELOW = 5
"""Counts of 1 to 4 children are never shown (zero is: it discloses nobody)."""

K = TypeVar("K", bound=Hashable)


def too_small(count: float, threshold: int = SUPPRESS_BELOW) -> bool:
    """True for a count of children that may not be shown on its own (0 < count < 5)."""
    return 0 < count < threshold


def suppressed_cells(counts: Mapping[K, float], threshold: int = SUPPRESS_BELOW) -> frozenset[K]:
    """The cells of one breakdown to hide, so that no small count can be read or derived.

    Primary suppression hides every cell counting 1 to `threshold` − 1 children. While the
    hidden cells are a single cell, or together hold fewer than `threshold` children (so their
    sum, which the total reveals, is itself a small count), the smallest shown non-zero cell is
    hidden too (complementary suppression). Ties are broken by the cell's key order of
    appearance, so the result is deterministic.

    Args:
        counts: Children counted per cell of one breakdown (e.g. per gender, or per region
            group); the cells must partition the breakdown's total.
        threshold: The smallest count that may be shown (5 in the region).

    Returns:
        The keys of the cells to hide (empty when every cell may be shown).

    Example:
        >>> sorted(suppressed_cells({"girl": 6, "boy": 3}))
        ['boy', 'girl']
    """
    hidden = {key for key, count in counts.items() if too_small(count, threshold)}
    order = {key: index for index, key in enumerate(counts)}
    while hidden and (len(hidden) < 2 or sum(counts[k] for k in hidden) < threshold):
        shown = [k for k, count in counts.items() if k not in hidden and count > 0]
        if not shown:
            break
        hidden.add(min(shown, key=lambda k: (counts[k], order[k])))
    return frozenset(hidden)


def shown_count(count: int, threshold: int = SUPPRESS_BELOW) -> int | None:
    """A single count as it may be shown: None (hidden) for 1 to `threshold` − 1."""
    return None if too_small(count, threshold) else count
