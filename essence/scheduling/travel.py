"""Kilometres driven for booked appointments: by families to their visits, by staff on trips."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from essence.domain.geography import road_km
from essence.domain.team import Clinician
from essence.scheduling.clinic_problem import Appointment

_TRAVEL_KINDS = ("clinic", "home_municipality", "preschool")


def family_km(home: str, appointments: Iterable[Appointment]) -> int:
    """Round-trip km the family drives: one trip per in-person visit day."""
    by_day: dict[object, int] = {}
    for appointment in appointments:
        if not appointment.family_facing or appointment.place.kind == "video":
            continue
        km = 2 * road_km(home, appointment.place.municipality)
        by_day[appointment.day] = max(by_day.get(appointment.day, 0), km)
    return sum(by_day.values())


def staff_km(appointments: Iterable[Appointment], clinicians: Mapping[str, Clinician]) -> int:
    """Round-trip km staff drive: one trip per clinician, day and municipality away from base."""
    trips: set[tuple[str, object, str]] = set()
    for appointment in appointments:
        place = appointment.place
        if place.kind not in _TRAVEL_KINDS or not place.municipality:
            continue
        for clinician_id in appointment.clinician_ids:
            clinician = clinicians.get(clinician_id)
            if clinician is not None and clinician.base != place.municipality:
                trips.add((clinician_id, appointment.day, place.municipality))
    return sum(2 * road_km(clinicians[c].base, m) for c, _, m in trips)
