"""Rich rendering of the term follow-up: headline against the HLT targets, then breakdowns.

Each table fits 80 columns; suppressed groups show "<5" and dashes.
"""

from __future__ import annotations

from essence.cli.render import console, make_table
from essence.services.followup import FollowUpView, GroupRow

DIMENSIONS = {
    "gender": "By gender",
    "age_band": "By age at referral (years)",
    "municipality_group": "By municipality group",
}
GROUP_NAMES = {"boy": "boys", "girl": "girls", "umea": "Umeå", "coast": "coast", "inland": "inland"}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _num(value: float | int | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}{unit}".replace(",", " ")


def headline_rows(view: FollowUpView) -> list[tuple[str, str, str]]:
    """(figure, value, target) lines of the overall follow-up."""
    o = view.overall
    return [
        ("children referred", _num(o.children) if not o.suppressed else "<5", ""),
        ("with both guardians' consent", _pct(o.consent_share), _pct(view.consent_target)),
        ("with a SIP held", _pct(o.sip_share), _pct(view.sip_target)),
        ("feedback held", _num(o.with_feedback), ""),
        ("median lead time", _num(o.median_lead_time_days, " d"), ""),
        ("90th percentile lead time", _num(o.p90_lead_time_days, " d"), ""),
        ("within 90 days", _pct(o.share_within_90_days), ""),
        (f"within {view.baseline_days} days (20 weeks)", _pct(o.share_within_140_days), ""),
        (f"median days saved vs {view.baseline_days}", _num(o.median_days_saved, " d"), ""),
        ("mean family visit days", _num(o.visit_days_mean), ""),
        (
            "family km (total / per child)",
            f"{_num(o.family_km_total)} / {_num(o.family_km_mean)}",
            "",
        ),
        ("no-shows", _num(o.no_shows), ""),
    ]


def render_follow_up(view: FollowUpView) -> None:
    """The headline table and one table per breakdown."""
    console.print(
        f"Referrals {view.first_day} – {view.last_day}; figures as of {view.as_of}.",
        highlight=False,
    )
    headline = make_table(f"Term follow-up {view.period}", ["figure", "value", "target"])
    for row in headline_rows(view):
        headline.add_row(*row)
    console.print(headline)
    for dimension, rows in view.breakdowns.items():
        console.print(_breakdown(DIMENSIONS.get(dimension, dimension), rows))
    console.print(
        f"cons. = both guardians' consent, SIP = SIP held, ≤90/≤140 = feedback within 90/140"
        f" days, visits = mean visit days, km = family km per child. Groups with fewer than"
        f" {view.suppress_below} children are not shown (<5).",
        highlight=False,
    )


def _breakdown(title: str, rows: list[GroupRow]) -> object:
    from rich import box
    from rich.table import Table

    columns = ["group", "n", "cons.", "SIP", "med d", "p90 d", "≤90", "≤140", "visits", "km"]
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right", no_wrap=True)
    for row in rows:
        name = GROUP_NAMES.get(row.group, row.group)
        if row.suppressed:
            table.add_row(name, "<5", *["—"] * (len(columns) - 2))
            continue
        table.add_row(
            name,
            _num(row.children),
            _pct(row.consent_share),
            _pct(row.sip_share),
            _num(row.median_lead_time_days),
            _num(row.p90_lead_time_days),
            _pct(row.share_within_90_days),
            _pct(row.share_within_140_days),
            _num(row.visit_days_mean),
            _num(row.family_km_mean),
        )
    return table
