"""FHIR systems and code maps shared by the referral import and the care-plan export."""

from __future__ import annotations

#: Swedish personal identity number (personnummer).
PERSONNUMMER_SYSTEM = "urn:oid:1.2.752.129.2.1.3.1"
#: Swedish coordination number (samordningsnummer).
SAMORDNINGSNUMMER_SYSTEM = "urn:oid:1.2.752.129.2.1.3.3"
#: Our own identifiers: case ids and pathway step keys.
CASE_SYSTEM = "urn:essence:case"
STEP_SYSTEM = "urn:essence:step"
PROFESSION_SYSTEM = "urn:essence:profession"
ORGANISATION_SYSTEM = "urn:essence:organisation"
CLINICIAN_SYSTEM = "urn:essence:clinician"

#: The resource types a referral bundle may hold.
REFERRAL_TYPES = ("Patient", "ServiceRequest", "RelatedPerson", "Consent", "Organization")

#: Our step states → FHIR Task.status (the step machine follows FHIR Task where it fits).
TASK_STATUS = {
    "requested": "requested",
    "ready": "ready",
    "in-progress": "in-progress",
    "on-hold": "on-hold",
    "completed": "completed",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
    "needs-review": "on-hold",
    "needs_review": "on-hold",
}

#: Our case states → FHIR CarePlan.status.
CARE_PLAN_STATUS = {
    "referred": "draft",
    "consented": "active",
    "assessing": "active",
    "feedback-given": "active",
    "closed": "completed",
    "withdrawn": "revoked",
    "paused": "on-hold",
}

#: Our booking statuses → FHIR Appointment.status.
APPOINTMENT_STATUS = {
    "booked": "booked",
    "fulfilled": "fulfilled",
    "attended": "fulfilled",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
    "no-show": "noshow",
    "noshow": "noshow",
}

#: Our professions → display text of the PractitionerRole code (Swedish).
PROFESSION_DISPLAY = {
    "coordinator": "samordnare",
    "psychologist": "psykolog",
    "physician": "läkare",
    "speech_therapist": "logoped",
    "physiotherapist": "fysioterapeut",
    "occupational_therapist": "arbetsterapeut",
    "bhv_nurse": "BHV-sjuksköterska",
    "habilitation": "habiliteringen",
}
