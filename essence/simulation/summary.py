"""Summaries of one policy over replications: lead times, load, travel and equity breakdowns.

Plain dictionaries of numbers (JSON-ready); the service validates them into report schemas.
Figures for a group of children are suppressed when it has fewer than five per replication,
and the next smallest group of the same breakdown with it (complementary suppression).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from essence.domain.suppression import suppressed_cells
from essence.simulation.model import Model
from essence.simulation.results import ReplicationResult
from essence.simulation.statistics import (
    Interval,
    confidence_interval,
    lead_time_figures,
    suppressed,
)

PERCENTILES = tuple(range(0, 101, 2))


def estimate(values: Sequence[float] | np.ndarray) -> dict[str, float | None]:
    """A CI as a JSON-ready dict (None instead of NaN)."""
    interval: Interval = confidence_interval(values)
    return {
        "mean": _clean(interval.mean),
        "low": _clean(interval.low),
        "high": _clean(interval.high),
    }


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def summarise_policy(
    model: Model, results: Sequence[ReplicationResult], target_days: float
) -> dict:
    """Figures of one policy over its replications (see services.capacity.PolicyReport)."""
    years = model.scenario.years
    per_rep = [lead_time_figures(r.lead_days, target_days) for r in results]
    pooled = np.concatenate([r.lead_days for r in results])
    return {
        "policy": results[0].policy,
        "replications": len(results),
        "children_per_year": estimate([r.lead_days.size / years for r in results]),
        "completed_share": estimate(
            [r.completed.mean() if r.completed.size else 1.0 for r in results]
        ),
        "median_days": estimate([f["median"] for f in per_rep]),
        "p90_days": estimate([f["p90"] for f in per_rep]),
        "mean_days": estimate([f["mean"] for f in per_rep]),
        "within_target_share": estimate([f["within"] for f in per_rep]),
        "visit_days": estimate([_mean(r.visit_days) for r in results]),
        "family_km_per_child": estimate([_mean(r.family_km) for r in results]),
        "staff_km_per_year": estimate([r.staff_km.sum() / years for r in results]),
        "family_km_per_year": estimate([r.family_km.sum() / years for r in results]),
        "professions": _professions(model, results),
        "groups": _groups(model, results, target_days),
        "lead_time_percentiles": [round(float(v), 2) for v in np.percentile(pooled, PERCENTILES)]
        if pooled.size
        else [],
        "arrived": int(sum(r.arrived for r in results)),
        "finished": int(sum(r.finished for r in results)),
        "in_system": int(sum(r.in_system for r in results)),
        "events": int(sum(r.events for r in results)),
    }


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _professions(model: Model, results: Sequence[ReplicationResult]) -> list[dict]:
    staff = np.asarray(model.pool_size).sum(axis=0)
    return [
        {
            "profession": name,
            "staff": int(staff[i]),
            "utilisation": estimate([r.utilisation[i] for r in results]),
            "queue_length": estimate([r.queue_length[i] for r in results]),
        }
        for i, name in enumerate(model.professions)
    ]


def _groups(model: Model, results: Sequence[ReplicationResult], target_days: float) -> list[dict]:
    groups = np.asarray(model.groups)
    bands = list(model.scenario.referrals.age_bands)
    dimensions: list[tuple[str, list[str], Callable[[ReplicationResult, str], np.ndarray]]] = [
        ("municipality_group", list(model.group_names), lambda r, g: groups[r.municipality] == g),
        ("municipality", list(model.municipalities), lambda r, m: _muni_mask(model, r, m)),
        ("gender", ["boy", "girl"], lambda r, g: r.boy == (g == "boy")),
        ("age_band", bands, lambda r, b: r.age_band == bands.index(b)),
    ]
    rows = []
    for dimension, names, select in dimensions:
        masks = {name: [select(r, name) for r in results] for name in names}
        means = {name: float(np.mean([int(m.sum()) for m in masks[name]])) for name in names}
        hidden = suppressed_cells(means)
        for name in names:
            rows.append(
                _group_row(
                    dimension,
                    name,
                    results,
                    masks[name],
                    model.scenario.years,
                    target_days,
                    hide=name in hidden,
                )
            )
    return rows


def _muni_mask(model: Model, result: ReplicationResult, name: str) -> np.ndarray:
    return result.municipality == model.municipalities.index(name)


def _group_row(
    dimension: str,
    name: str,
    results: Sequence[ReplicationResult],
    masks: list[np.ndarray],
    years: float,
    target_days: float,
    *,
    hide: bool = False,
) -> dict:
    counts = [int(mask.sum()) for mask in masks]
    row: dict = {"dimension": dimension, "name": name}
    if hide or suppressed(float(np.mean(counts))):
        hidden = ("children_per_year", "median_days", "p90_days", "within_target_share")
        return {**row, "suppressed": True, "family_km_per_child": None, **dict.fromkeys(hidden)}
    figures = [
        lead_time_figures(r.lead_days[mask], target_days)
        for r, mask in zip(results, masks, strict=True)
        if mask.any()
    ]
    return {
        **row,
        "suppressed": False,
        "children_per_year": round(float(np.mean(counts)) / years, 2),
        "median_days": estimate([f["median"] for f in figures]),
        "p90_days": estimate([f["p90"] for f in figures]),
        "within_target_share": estimate([f["within"] for f in figures]),
        "family_km_per_child": estimate(
            [_mean(r.family_km[mask]) for r, mask in zip(results, masks, strict=True) if mask.any()]
        ),
    }


def equity_gap_days(policy_summary: dict) -> float | None:
    """Worst minus best municipality-group mean p90 (days), among unsuppressed groups."""
    p90s = [
        row["p90_days"]["mean"]
        for row in policy_summary["groups"]
        if row["dimension"] == "municipality_group" and not row["suppressed"]
    ]
    p90s = [p for p in p90s if p is not None]
    return round(max(p90s) - min(p90s), 2) if len(p90s) >= 2 else None
