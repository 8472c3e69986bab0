"""Statistics over replications: Student-t 95% confidence intervals and small-count suppression.

Each replication gives one value of a figure (its median lead time, say); the CI is over those
independent values. Groups with fewer than five children per replication are suppressed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SUPPRESS_BELOW = 5
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (two-sided 95%)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


@dataclass(frozen=True)
class Interval:
    """A mean over replications with its 95% confidence interval (NaN bounds for n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    def contains(self, value: float) -> bool:
        """True when `value` lies inside the interval."""
        return self.low <= value <= self.high


def confidence_interval(values: Sequence[float] | np.ndarray) -> Interval:
    """Mean and Student-t 95% CI of independent replication values (NaNs ignored)."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = t_quantile_975(n - 1) * float(data.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def suppressed(count_per_replication: float) -> bool:
    """True when a group is too small to report (fewer than five children)."""
    return count_per_replication < SUPPRESS_BELOW


def lead_time_figures(lead_days: np.ndarray, target_days: float = 90.0) -> dict[str, float]:
    """Median, p90, mean and share within `target_days` of one replication's lead times."""
    if lead_days.size == 0:
        return {"median": math.nan, "p90": math.nan, "mean": math.nan, "within": math.nan}
    median, p90 = np.percentile(lead_days, [50, 90])
    return {
        "median": float(median),
        "p90": float(p90),
        "mean": float(lead_days.mean()),
        "within": float((lead_days <= target_days).mean()),
    }
