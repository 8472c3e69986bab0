"""Professions, organisations and where steps happen.

These are closed vocabularies; a pathway or clinician naming anything else is rejected.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from essence.domain.errors import InvalidInput
from essence.domain.messages import N_

E = TypeVar("E", bound=StrEnum)


class Profession(StrEnum):
    """The professions that take part in an ESSENCE assessment."""

    COORDINATOR = "coordinator"
    PSYCHOLOGIST = "psychologist"
    PHYSICIAN = "physician"
    SPEECH_THERAPIST = "speech_therapist"
    PHYSIOTHERAPIST = "physiotherapist"
    OCCUPATIONAL_THERAPIST = "occupational_therapist"
    BHV_NURSE = "bhv_nurse"
    HABILITATION = "habilitation"


class Organisation(StrEnum):
    """The care organisations that staff the ESSENCE team."""

    BUP = "BUP"
    BHV = "BHV"
    BUC = "BUC"
    LOGOPEDI = "logopedi"
    HABILITATION = "habilitation"
    PRIMARY_CARE = "primary_care"


class Attendee(StrEnum):
    """Who from the family's side attends a step besides the staff."""

    CHILD = "child"
    GUARDIANS = "guardians"
    PRESCHOOL = "preschool"


class LocationKind(StrEnum):
    """Where a step takes place."""

    CLINIC = "clinic"
    HOME_MUNICIPALITY = "home_municipality"
    PRESCHOOL = "preschool"
    VIDEO = "video"
    NONE = "none"


def parse_enum(enum_type: type[E], field: str, value: str) -> E:
    """Parse `value` into `enum_type`, raising an error that names field, value and choices."""
    try:
        return enum_type(value)
    except ValueError:
        choices = tuple(member.value for member in enum_type)
        reason = N_("unknown; choose one of %(choices)s", choices=choices)
        raise InvalidInput(field, value, reason) from None
