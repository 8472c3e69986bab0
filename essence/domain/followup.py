"""The region's term follow-up (HLT goals) of the ESSENCE team, as pure figures.

A term is a half year (`2026H1` = Jan–Jun, `2026H2` = Jul–Dec; `VT2026`/`HT2026` too).
For the children referred in a term it gives the HLT process measures: share with both
guardians' consent (target 75 %), share with a SIP held (target 50 %), equal support
regardless of gender, and the team's own measure, lead time against the 140-day baseline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from essence.domain.case import Case
from essence.domain.errors import InvalidInput
from essence.domain.geography import municipality
from essence.domain.messages import N_
from essence.domain.metrics import (
    BASELINE_DAYS,
    CaseMetrics,
    CohortMetrics,
    case_metrics,
    cohort_metrics,
    suppressed_breakdown,
)
from essence.domain.states import StepState

CONSENT_TARGET = 0.75
SIP_TARGET = 0.50
DEFAULT_SIP_STEP = "network_meeting"
#: Lower bounds (completed years at referral) of the age bands; HLT's 0–5 split in two.
DEFAULT_AGE_BANDS: tuple[int, ...] = (0, 3, 6, 13)
_TERM = re.compile(r"^(?:(?P<year>\d{4})\s*H(?P<half>[12])|(?P<season>VT|HT)\s*(?P<year2>\d{4}))$")


@dataclass(frozen=True)
class Period:
    """Referral days from `first` to `last`, both included, with a label (``2026H2``)."""

    first: date
    last: date
    label: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInput("to", self.last.isoformat(), N_("lies before --from"))

    def covers(self, day: date) -> bool:
        """True when `day` lies within the period."""
        return self.first <= day <= self.last


def term_period(text: str) -> Period:
    """Parse a term: ``2026H1`` (January–June), ``2026H2`` (July–December), ``VT2026``, ``HT2026``.

    Raises:
        InvalidInput: naming the field ``term`` and the value.
    """
    match = _TERM.match(text.strip().upper())
    if match is None:
        raise InvalidInput(
            "term", text, N_("expected YYYYH1 or YYYYH2 (e.g. 2026H2), or VT/HT2026")
        )
    year = int(match["year"] or match["year2"])
    second_half = match["half"] == "2" or match["season"] == "HT"
    if second_half:
        return Period(date(year, 7, 1), date(year, 12, 31), f"{year}H2")
    return Period(date(year, 1, 1), date(year, 6, 30), f"{year}H1")


def term_of(day: date) -> Period:
    """The term `day` falls in."""
    return term_period(f"{day.year}H{1 if day.month <= 6 else 2}")


def age_band(age_years: int, bands: tuple[int, ...] = DEFAULT_AGE_BANDS) -> str:
    """The label of the band holding `age_years`, e.g. ``3–5`` or ``13+`` (en dash)."""
    lower = max((b for b in bands if b <= age_years), default=bands[0])
    index = bands.index(lower)
    if index + 1 < len(bands):
        return f"{lower}–{bands[index + 1] - 1}"
    return f"{lower}+"


@dataclass(frozen=True)
class ChildFollowUp:
    """One referred child's figures for the follow-up (no personal data).

    Attributes:
        metrics: The case's lead-time metrics.
        consented: Both guardians' consent is on record.
        sip_held: The SIP / network meeting step is completed.
        age_band: Age band at referral (completed years).
        group: Municipality group: ``umea``, ``coast`` or ``inland``.
        family_km: Round-trip km the family drove to held appointments.
        no_shows: Appointments the family did not come to.
    """

    metrics: CaseMetrics
    consented: bool
    sip_held: bool
    age_band: str
    group: str
    family_km: int
    no_shows: int


def child_follow_up(
    case: Case,
    today: date,
    *,
    family_km: int,
    no_shows: int,
    sip_step: str = DEFAULT_SIP_STEP,
    bands: tuple[int, ...] = DEFAULT_AGE_BANDS,
) -> ChildFollowUp:
    """The follow-up figures of one case as of `today` (km and no-shows come from bookings)."""
    sip = case.steps.get(sip_step)
    return ChildFollowUp(
        metrics=case_metrics(case, today),
        consented=case.consent.complete,
        sip_held=sip is not None and sip.state is StepState.COMPLETED,
        age_band=age_band(case.age_years(case.referral_date), bands),
        group=municipality(case.municipality).group,
        family_km=family_km,
        no_shows=no_shows,
    )


@dataclass(frozen=True)
class GroupFigures:
    """The follow-up figures of one group of children (None where suppressed or no data).

    Attributes:
        children: Children referred in the period.
        lead_times: The lead-time cohort (median, p90, within 90 days, saved vs 140 days).
        consent_share: Share with both guardians' consent (0..1; target 0.75).
        sip_share: Share with a SIP / network meeting held (0..1; target 0.50).
        share_within_140_days: Share of held feedbacks within the 140-day baseline.
        visit_days_mean: Mean family visit days, over children whose feedback was held.
        family_km_total, family_km_mean: Round-trip km the families drove (total, per child).
        no_shows: Appointments the families did not come to.
        suppressed: True when fewer than 5 children lie behind the figures.
    """

    children: int | None
    lead_times: CohortMetrics
    consent_share: float | None
    sip_share: float | None
    share_within_140_days: float | None
    visit_days_mean: float | None
    family_km_total: int | None
    family_km_mean: float | None
    no_shows: int | None
    suppressed: bool = False


@dataclass(frozen=True)
class FollowUp:
    """The whole follow-up: overall figures and one breakdown per dimension."""

    overall: GroupFigures
    breakdowns: dict[str, dict[str, GroupFigures]] = field(default_factory=dict)


def group_figures(children: list[ChildFollowUp], lead_times: CohortMetrics) -> GroupFigures:
    """Aggregate children whose lead-time cohort, after the suppression rule, is `lead_times`:
    when the rule hid it, every other figure of the group is hidden too."""
    if lead_times.suppressed:
        return GroupFigures(
            children=lead_times.cases or None,
            lead_times=lead_times,
            consent_share=None,
            sip_share=None,
            share_within_140_days=None,
            visit_days_mean=None,
            family_km_total=None,
            family_km_mean=None,
            no_shows=None,
            suppressed=True,
        )
    n = len(children)
    leads = [c.metrics.lead_time_days for c in children if c.metrics.lead_time_days is not None]
    lead_shown = lead_times.share_within_90_days is not None
    km = sum(c.family_km for c in children)
    return GroupFigures(
        children=n if lead_times.cases is not None else None,
        lead_times=lead_times,
        consent_share=_share(sum(c.consented for c in children), n),
        sip_share=_share(sum(c.sip_held for c in children), n),
        share_within_140_days=(
            _share(sum(1 for x in leads if x <= BASELINE_DAYS), len(leads)) if lead_shown else None
        ),
        visit_days_mean=lead_times.mean_visit_days,
        family_km_total=km,
        family_km_mean=round(km / n, 1) if n else None,
        no_shows=sum(c.no_shows for c in children),
    )


def follow_up(
    children: list[ChildFollowUp],
    suppress_groups: Callable[
        [dict[str, CohortMetrics]], dict[str, CohortMetrics]
    ] = suppressed_breakdown,
) -> FollowUp:
    """Overall figures and the breakdowns by gender, age band and municipality group.

    Args:
        children: One entry per child referred in the period.
        suppress_groups: The suppression rule over all groups of one breakdown at once (the
            domain's complementary rule: hiding a small cell hides the next smallest too).
    """
    dimensions: dict[str, Callable[[ChildFollowUp], str]] = {
        "gender": lambda c: c.metrics.gender,
        "age_band": lambda c: c.age_band,
        "municipality_group": lambda c: c.group,
    }
    overall = suppress_groups({"all": cohort_metrics([c.metrics for c in children])})["all"]
    breakdowns: dict[str, dict[str, GroupFigures]] = {}
    for name, key in dimensions.items():
        members: dict[str, list[ChildFollowUp]] = {}
        for child in children:
            members.setdefault(key(child), []).append(child)
        ordered = dict(sorted(members.items()))
        cohorts = {g: cohort_metrics([c.metrics for c in v]) for g, v in ordered.items()}
        shown = suppress_groups(cohorts)
        breakdowns[name] = {g: group_figures(v, shown[g]) for g, v in ordered.items()}
    return FollowUp(overall=group_figures(children, overall), breakdowns=breakdowns)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
