"""Write a case's care plan as a FHIR R4 Bundle, validated with `fhir.resources` (R4B models).

The Bundle (type ``collection``) holds the Patient (personnummer or samordningsnummer), the
ServiceRequest the plan is based on, the CarePlan whose activities are the pathway's steps,
one Task per step (FHIR Task status, ``basedOn`` the ServiceRequest), one Appointment per
booking with PractitionerRole participants, those PractitionerRoles, and the guardians
(RelatedPerson) when the referral named them. Ids derive from the case id, never from the
personnummer.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from essence.adapters.fhir.codes import (
    APPOINTMENT_STATUS,
    CARE_PLAN_STATUS,
    CASE_SYSTEM,
    CLINICIAN_SYSTEM,
    ORGANISATION_SYSTEM,
    PERSONNUMMER_SYSTEM,
    PROFESSION_DISPLAY,
    PROFESSION_SYSTEM,
    SAMORDNINGSNUMMER_SYSTEM,
    STEP_SYSTEM,
    TASK_STATUS,
)
from essence.domain.calendar import STOCKHOLM
from essence.services.care_plans import BookingRef, CarePlanData
from essence.services.views import StepView

CARE_PLAN_TITLE = "Samordnad ESSENCE-utredning"
#: Where `essence web` serves the FHIR API by default (relative references resolve here).
DEFAULT_BASE = "http://127.0.0.1:8000/api/v1/fhir"


def fhir_id(*parts: str) -> str:
    """A FHIR id ([A-Za-z0-9-.], at most 64) from our keys: underscores become dashes."""
    return "-".join(parts).replace("_", "-")[:64]


def care_plan_bundle(data: CarePlanData, base: str = DEFAULT_BASE) -> dict[str, Any]:
    """The care-plan Bundle as JSON-ready data, every resource validated (R4B models).

    Args:
        data: The service's read model of the case.
        base: The FHIR base URL; each entry's fullUrl is ``{base}/{type}/{id}`` so the
            relative references inside (``Patient/c-…-patient``) resolve.

    Raises:
        ValueError: a resource does not validate (a defect of ours, not of the input).
    """
    case = data.case
    patient_id = fhir_id(case.id, "patient")
    request_id = fhir_id(case.id, "referral")
    resources: list[dict[str, Any]] = [
        _patient(data, patient_id),
        _service_request(data, request_id, patient_id),
        _care_plan(data, patient_id, request_id),
    ]
    resources += [_task(data, step, patient_id, request_id) for step in case.steps]
    roles = {c.id: fhir_id("role", c.id) for c in data.clinicians}
    resources += [_appointment(data, b, patient_id, request_id, roles) for b in data.bookings]
    resources += [_practitioner_role(c) for c in data.clinicians]
    if data.origin is not None:
        resources += [
            _related_person(case.id, i, g.name, g.relationship, patient_id)
            for i, g in enumerate(data.origin.guardians)
        ]
    bundle = {
        "resourceType": "Bundle",
        "id": fhir_id(case.id, "careplan-export"),
        "type": "collection",
        "timestamp": data.exported_at.isoformat(),
        "identifier": {"system": CASE_SYSTEM, "value": case.id},
        "entry": [
            {"fullUrl": f"{base.rstrip('/')}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }
    return validated(bundle)


def validated(bundle: dict[str, Any]) -> dict[str, Any]:
    """Validate the Bundle and each resource with the R4B models; return it as JSON data."""
    from fhir.resources.R4B import get_fhir_model_class

    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    model = get_fhir_model_class("Bundle").model_validate(bundle)
    return model.model_dump(mode="json", exclude_none=True)


def _ref(kind: str, resource_id: str, display: str | None = None) -> dict[str, str]:
    ref = {"reference": f"{kind}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def _patient(data: CarePlanData, patient_id: str) -> dict[str, Any]:
    system = SAMORDNINGSNUMMER_SYSTEM if data.coordination_number else PERSONNUMMER_SYSTEM
    parts = data.case.child_name.split()
    name: dict[str, Any] = {"use": "official", "text": data.case.child_name}
    if len(parts) > 1:
        name.update(family=parts[-1], given=parts[:-1])
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": system, "value": data.personnummer}],
        "name": [name],
        "gender": "male" if data.gender == "boy" else "female",
        "birthDate": data.birth_date.isoformat(),
        "address": [{"use": "home", "district": data.case.municipality, "country": "SE"}],
    }


def _service_request(data: CarePlanData, request_id: str, patient_id: str) -> dict[str, Any]:
    case, origin = data.case, data.origin
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": request_id,
        "status": "active" if case.state in CARE_PLAN_STATUS and _open(case.state) else "completed",
        "intent": "order",
        "code": {"text": CARE_PLAN_TITLE},
        "subject": _ref("Patient", patient_id),
        "authoredOn": (
            origin.authored_at.isoformat() if origin else _midday(case.referral_date).isoformat()
        ),
        "requester": {"display": origin.requester if origin else case.referring_unit},
    }
    if case.state == "withdrawn":
        resource["status"] = "revoked"
    if origin is not None:
        resource["identifier"] = [
            {"system": origin.request_system or CASE_SYSTEM, "value": origin.request_value}
        ]
        if origin.requester_identifier:
            resource["requester"]["identifier"] = {"value": origin.requester_identifier}
        if origin.reason:
            resource["reasonCode"] = [{"text": origin.reason}]
    return resource


def _open(state: str) -> bool:
    return state not in ("closed", "withdrawn")


def _care_plan(data: CarePlanData, patient_id: str, request_id: str) -> dict[str, Any]:
    case = data.case
    period: dict[str, str] = {"start": case.referral_date.isoformat()}
    if not _open(case.state):
        period["end"] = data.exported_at.date().isoformat()
    return {
        "resourceType": "CarePlan",
        "id": fhir_id(case.id),
        "identifier": [{"system": CASE_SYSTEM, "value": case.id}],
        "status": CARE_PLAN_STATUS.get(case.state, "unknown"),
        "intent": "plan",
        "title": CARE_PLAN_TITLE,
        "description": f"{case.pathway} v{case.pathway_version}",
        "subject": _ref("Patient", patient_id),
        "basedOn": [_ref("ServiceRequest", request_id)],
        "period": period,
        "created": data.exported_at.isoformat(),
        "activity": [
            {"reference": _ref("Task", fhir_id(case.id, s.key), s.title)} for s in case.steps
        ],
    }


def _task(data: CarePlanData, step: StepView, patient_id: str, request_id: str) -> dict[str, Any]:
    case = data.case
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": fhir_id(case.id, step.key),
        "identifier": [{"system": STEP_SYSTEM, "value": f"{case.id}/{step.key}"}],
        "basedOn": [_ref("ServiceRequest", request_id)],
        "status": TASK_STATUS.get(step.state, "on-hold"),
        "businessStatus": {"text": step.state},
        "intent": "order",
        "code": {"coding": [{"system": STEP_SYSTEM, "code": step.key}], "text": step.title},
        "for": _ref("Patient", patient_id),
    }
    if step.started_at or step.completed_at:
        period = {}
        if step.started_at:
            period["start"] = step.started_at.isoformat()
        if step.completed_at:
            period["end"] = step.completed_at.isoformat()
        task["executionPeriod"] = period
    assignees = sorted(set(step.assignees.values()))
    if assignees:
        task["owner"] = _ref("PractitionerRole", fhir_id("role", assignees[0]))
    if step.outcome or step.hold_reason:
        task["note"] = [{"text": step.hold_reason or step.outcome}]
    due = step.due_on or step.planned_on
    if due is not None:
        task["restriction"] = {"period": {"end": _midday(due).isoformat()}}
    return task


def _appointment(
    data: CarePlanData,
    booking: BookingRef,
    patient_id: str,
    request_id: str,
    roles: dict[str, str],
) -> dict[str, Any]:
    participants: list[dict[str, Any]] = [
        {"actor": _ref("PractitionerRole", roles[c]), "required": "required", "status": "accepted"}
        for c in booking.clinician_ids
        if c in roles
    ]
    if booking.family_facing:
        participants.append(
            {"actor": _ref("Patient", patient_id), "required": "required", "status": "accepted"}
        )
    place = booking.place_kind + (
        f", {booking.place_municipality}" if booking.place_municipality else ""
    )
    return {
        "resourceType": "Appointment",
        "id": fhir_id(data.case.id, booking.step_key, str(booking.record_id or 0)),
        "identifier": [
            {
                "system": STEP_SYSTEM,
                "value": f"{data.case.id}/{booking.step_key}/{booking.record_id}",
            }
        ],
        "status": APPOINTMENT_STATUS.get(booking.status, "booked"),
        "description": booking.title,
        "comment": place,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "minutesDuration": max(1, int((booking.end - booking.start).total_seconds() // 60)),
        "basedOn": [_ref("ServiceRequest", request_id)],
        "participant": participants,
    }


def _practitioner_role(clinician: Any) -> dict[str, Any]:
    profession = clinician.profession
    return {
        "resourceType": "PractitionerRole",
        "id": fhir_id("role", clinician.id),
        "identifier": [{"system": CLINICIAN_SYSTEM, "value": clinician.id}],
        "active": True,
        "organization": {
            "identifier": {"system": ORGANISATION_SYSTEM, "value": clinician.organisation},
            "display": clinician.organisation,
        },
        "code": [
            {
                "coding": [{"system": PROFESSION_SYSTEM, "code": profession}],
                "text": PROFESSION_DISPLAY.get(profession, profession),
            }
        ],
    }


def _related_person(
    case_id: str, index: int, name: str, relationship: str, patient_id: str
) -> dict[str, Any]:
    return {
        "resourceType": "RelatedPerson",
        "id": fhir_id(case_id, "guardian", str(index + 1)),
        "patient": _ref("Patient", patient_id),
        "relationship": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": relationship,
                    }
                ],
                "text": "vårdnadshavare",
            }
        ],
        "name": [{"text": name}],
    }


def _midday(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=STOCKHOLM)
