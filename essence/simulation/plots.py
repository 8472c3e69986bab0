"""PNG charts of a simulation report: lead-time distributions, utilisation, municipalities.

matplotlib (Agg backend) is imported only when plotting, so the CLI stays quick to start.
Input is the report as plain data (``SimulationReport.model_dump()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from essence.domain.errors import InvalidInput


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(report: dict[str, Any], directory: str | Path) -> list[Path]:
    """Write lead_times.png, utilisation.png and municipalities.png into `directory`.

    Raises:
        InvalidInput: when the directory cannot be created.
    """
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(
            "plot", str(directory), f"cannot create folder ({error.strerror})"
        ) from None
    plt = _pyplot()
    paths = [
        _lead_times(plt, report, folder / "lead_times.png"),
        _utilisation(plt, report, folder / "utilisation.png"),
        _municipalities(plt, report, folder / "municipalities.png"),
    ]
    plt.close("all")
    return paths


def _lead_times(plt, report: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for policy in report["policies"]:
        values = policy["lead_time_percentiles"]
        shares = [i / (len(values) - 1) for i in range(len(values))]
        ax.plot(values, shares, label=policy["policy"], linewidth=2)
    ax.axvline(report["baseline_days"], color="crimson", linestyle="--", label="20-week baseline")
    ax.axvline(report["target_days"], color="grey", linestyle=":", label="90-day target")
    ax.set_xlabel("lead time, referral to feedback meeting (days)")
    ax.set_ylabel("share of children")
    ax.set_title(f"Lead times, {report['children_per_year']:.0f} children/year ({report['setup']})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _utilisation(plt, report: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    policies = report["policies"]
    names = [p["profession"] for p in policies[0]["professions"]]
    width = 0.8 / len(policies)
    for k, policy in enumerate(policies):
        means = [(p["utilisation"]["mean"] or 0) * 100 for p in policy["professions"]]
        xs = [i + k * width for i in range(len(names))]
        ax.bar(xs, means, width, label=policy["policy"])
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=30, ha="right")
    ax.set_ylabel("utilisation of clinical minutes (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Utilisation per profession")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _municipalities(plt, report: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 6))
    policies = report["policies"]
    rows = [g for g in policies[0]["groups"] if g["dimension"] == "municipality"]
    names = [g["name"] for g in rows]
    height = 0.8 / len(policies)
    for k, policy in enumerate(policies):
        by_name = {g["name"]: g for g in policy["groups"] if g["dimension"] == "municipality"}
        values = [
            0 if by_name[n]["suppressed"] else by_name[n]["median_days"]["mean"] or 0 for n in names
        ]
        ax.barh([i + k * height for i in range(len(names))], values, height, label=policy["policy"])
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names)
    ax.axvline(report["baseline_days"], color="crimson", linestyle="--", label="20-week baseline")
    ax.set_xlabel("median lead time (days); empty bar = fewer than 5 children, suppressed")
    ax.set_title("Lead time by municipality")
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
