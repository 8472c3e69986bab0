"""FHIR R4 with the region: a referral Bundle in, the care plan Bundle out (SQLite and PostgreSQL).

The referral fixture is written as a region's record system would send it (synthetic child).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from essence.adapters.fhir import export_bundle, import_bundle
from essence.adapters.fhir.codes import PERSONNUMMER_SYSTEM, SAMORDNINGSNUMMER_SYSTEM
from essence.domain.errors import InvalidInput, PermissionDenied
from essence.domain.personnummer import luhn_check_digit
from essence.services import cases, reporting, scheduling, steps
from essence.services.context import ServiceContext
from tests.factories import FixedClock, migrate

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fhir" / "referral-sorsele.json"
TABLES = ("essence_case", "case_step", "step_assignment", "referral_origin")


def referral_bundle() -> dict[str, Any]:
    """The region's referral: Saga (synthetic), Sorsele, both guardians consenting."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _counts(ctx: ServiceContext) -> dict[str, int]:
    with ctx.uow_factory() as uow:
        session = uow.session  # type: ignore[attr-defined]
        return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


@pytest.fixture
def october(app_context: ServiceContext, clock: FixedClock) -> ServiceContext:
    """The app on Monday 2026-10-05, the day the referral was written."""
    clock.set(date(2026, 10, 5), 11)
    return app_context


def test_the_regions_referral_opens_a_case_with_consent_and_its_origin(
    october: ServiceContext,
) -> None:
    view = import_bundle(october, json.dumps(referral_bundle()))
    assert (view.child_name, view.municipality, view.referring_unit) == (
        "Saga Provsson",
        "Sorsele",
        "BVC Sorsele",
    )
    assert view.referral_date == date(2026, 10, 5)
    assert (view.guardians, view.consenting, view.state) == (2, 2, "consented")
    assert view.personnummer == "20220418-****"
    audit = [line.action for line in reporting.audit_extract(october, view.id)]
    assert audit[0] == "case.import"
    with october.uow_factory() as uow:
        origin = uow.referral_origins.get(view.id)
    assert origin is not None
    assert (origin.request_value, origin.requester) == ("REMISS-2026-0417", "BVC Sorsele")
    assert [g[1] for g in origin.guardians] == ["MTH", "FTH"]
    assert "språkutveckling" in origin.reason


def _without(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != kind]
    return bundle


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["entry"][0]["resource"]


def _set_number(bundle: dict[str, Any], digits: str, system: str = PERSONNUMMER_SYSTEM) -> None:
    _patient(bundle)["identifier"] = [{"system": system, "value": digits}]
    _patient(bundle).pop("birthDate")


def _bad_luhn(b: dict[str, Any]) -> None:
    _set_number(b, "202204182387")


def _coordination_as_personnummer(b: dict[str, Any]) -> None:
    body = "220478451"
    _set_number(b, f"20{body}{luhn_check_digit(body)}")


def _unknown_municipality(b: dict[str, Any]) -> None:
    _patient(b)["address"][0]["district"] = "Gotham"


def _observation(b: dict[str, Any]) -> None:
    b["entry"].append(
        {
            "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
            "request": {"method": "POST", "url": "Observation"},
        }
    )


def _bad_birth_date(b: dict[str, Any]) -> None:
    _patient(b)["birthDate"] = "2022-13-40"


def _gender_typo(b: dict[str, Any]) -> None:
    _patient(b)["gender"] = "girl"


def _not_a_transaction(b: dict[str, Any]) -> None:
    b["type"] = "collection"


def _subject_elsewhere(b: dict[str, Any]) -> None:
    b["entry"][4]["resource"]["subject"] = {"reference": "Patient/someone-else"}


def _consent_by_stranger(b: dict[str, Any]) -> None:
    b["entry"][5]["resource"]["performer"] = [{"reference": "urn:uuid:unknown"}]


def _missing_authored(b: dict[str, Any]) -> None:
    b["entry"][4]["resource"].pop("authoredOn")


P = "Bundle.entry[0].resource"
S = "Bundle.entry[4].resource"
NONE = "Bundle.entry.where(resource is {})"
INVALID: list[tuple[str, Any, str]] = [
    ("missing Patient", lambda b: _without(b, "Patient"), NONE.format("Patient")),
    ("no ServiceRequest", lambda b: _without(b, "ServiceRequest"), NONE.format("ServiceRequest")),
    ("bad personnummer (Luhn)", _bad_luhn, f"{P}.identifier[0].value"),
    ("samordningsnummer as pnr", _coordination_as_personnummer, f"{P}.identifier[0].system"),
    ("unknown municipality", _unknown_municipality, f"{P}.address[0].district"),
    ("wrong resource type", _observation, "Bundle.entry[6].resource.resourceType"),
    ("not a date", _bad_birth_date, f"{P}.birthDate"),
    ("gender outside the value set", _gender_typo, f"{P}.gender"),
    ("not a transaction", _not_a_transaction, "Bundle.type"),
    ("subject is not the Patient", _subject_elsewhere, f"{S}.subject.reference"),
    ("consent by a stranger", _consent_by_stranger, "Bundle.entry[5].resource.performer[0].reference"),  # noqa: E501
    ("no referral date", _missing_authored, f"{S}.authoredOn"),
]  # fmt: skip


@pytest.mark.parametrize(("why", "spoil", "path"), INVALID, ids=[i[0] for i in INVALID])
def test_an_invalid_bundle_is_refused_with_the_path_and_nothing_is_written(
    october: ServiceContext, why: str, spoil: Any, path: str
) -> None:
    bundle = referral_bundle()
    spoil(bundle)
    before = _counts(october)
    with pytest.raises(InvalidInput) as raised:
        import_bundle(october, json.dumps(bundle))
    assert raised.value.field == path, (why, str(raised.value))
    assert "202204182386" not in str(raised.value)
    assert _counts(october) == before


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", '{"resourceType": "Patient"}'])
def test_text_that_is_no_bundle_is_refused_at_the_root(october: ServiceContext, raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        import_bundle(october, raw)
    assert raised.value.field.startswith("Bundle")


def test_the_same_referral_twice_and_a_second_open_case_are_refused(
    october: ServiceContext,
) -> None:
    import_bundle(october, json.dumps(referral_bundle()))
    with pytest.raises(InvalidInput) as twice:
        import_bundle(october, json.dumps(referral_bundle()))
    assert twice.value.field == f"{S}.identifier[0]"
    again = referral_bundle()
    again["entry"][4]["resource"]["identifier"][0]["value"] = "REMISS-2026-0999"
    with pytest.raises(InvalidInput) as open_case:
        import_bundle(october, json.dumps(again))
    assert open_case.value.field == f"{P}.identifier[0].value"
    assert "open case" in open_case.value.reason
    assert _counts(october)["essence_case"] == 1


def test_a_samordningsnummer_and_a_single_guardian_import(october: ServiceContext) -> None:
    bundle = referral_bundle()
    body = "220478451"
    _set_number(bundle, f"20{body}{luhn_check_digit(body)}", SAMORDNINGSNUMMER_SYSTEM)
    bundle["entry"] = [e for i, e in enumerate(bundle["entry"]) if i != 2]
    bundle["entry"][4]["resource"]["performer"] = bundle["entry"][4]["resource"]["performer"][:1]
    view = import_bundle(october, json.dumps(bundle))
    # One guardian listed is not sole custody: the case waits for the other guardian until
    # the coordinator records sole custody.
    assert (view.guardians, view.consenting, view.state) == (2, 1, "referred")
    view = cases.record_guardian_consent(october, view.id, 1, True, guardians=1)
    assert (view.guardians, view.consenting, view.state) == (1, 1, "consented")
    exported = export_bundle(october, view.id)
    patient = next(
        e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["identifier"][0]["system"] == SAMORDNINGSNUMMER_SYSTEM


def test_only_coordinators_import(october: ServiceContext) -> None:
    with pytest.raises(PermissionDenied):
        import_bundle(october.as_user("psy-1"), json.dumps(referral_bundle()))
    assert _counts(october)["essence_case"] == 0


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_round_trip_import_work_export_and_every_resource_validates(
    october: ServiceContext, clock: FixedClock
) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    case_id = import_bundle(october, json.dumps(referral_bundle())).id
    scheduling.plan_schedule(october, use_cpsat=False, budget_s=1, deterministic=True)
    steps.complete_step(october, case_id, "intake", "both guardians met")
    steps.start_step(october.as_user("md-1"), case_id, "medical_exam")
    steps.hold_step(october, case_id, "motor_assessment", "waiting for an interpreter")

    exported = export_bundle(october, case_id)
    for entry in exported["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    get_fhir_model_class("Bundle").model_validate(exported)

    (patient,) = _resources(exported, "Patient")
    assert patient["identifier"] == [{"system": PERSONNUMMER_SYSTEM, "value": "202204182386"}]
    assert patient["birthDate"] == "2022-04-18" and patient["gender"] == "female"
    (request,) = _resources(exported, "ServiceRequest")
    assert request["identifier"][0]["value"] == "REMISS-2026-0417"
    assert request["requester"]["display"] == "BVC Sorsele"
    (plan,) = _resources(exported, "CarePlan")
    tasks = {t["code"]["coding"][0]["code"]: t for t in _resources(exported, "Task")}
    view = cases.show_case(october, case_id)
    assert len(plan["activity"]) == len(view.steps) == len(tasks)
    assert plan["status"] == "active"
    assert plan["basedOn"] == [{"reference": f"ServiceRequest/{request['id']}"}]
    assert {t["status"] for t in tasks.values()} >= {"completed", "in-progress", "on-hold", "ready"}
    assert tasks["intake"]["status"] == "completed"
    assert tasks["medical_exam"]["status"] == "in-progress"
    assert tasks["team_conference"]["status"] == "requested"
    assert all(t["basedOn"] == plan["basedOn"] for t in tasks.values())
    roles = {r["id"] for r in _resources(exported, "PractitionerRole")}
    appointments = _resources(exported, "Appointment")
    with october.uow_factory() as uow:
        booked = uow.appointments.list(case_ids=[case_id], statuses=None)
    assert len(appointments) == len(booked) > 0
    by_step = {a["identifier"][0]["value"].split("/")[1]: a for a in appointments}
    assert by_step["intake"]["status"] == "fulfilled"
    assert by_step["team_conference"]["status"] == "booked"
    for appointment in appointments:
        actors = [p["actor"]["reference"] for p in appointment["participant"]]
        staff = [a for a in actors if a.startswith("PractitionerRole/")]
        assert staff and {a.split("/")[1] for a in staff} <= roles
    full_urls = {e["fullUrl"] for e in exported["entry"]}
    base = exported["entry"][0]["fullUrl"].rsplit("/", 2)[0]
    assert [r for r in _references(exported) if f"{base}/{r}" not in full_urls] == []
    guardians = _resources(exported, "RelatedPerson")
    assert [g["name"][0]["text"] for g in guardians] == ["Maja Provsson", "Jonas Provsson"]
    assert "case.export" in [line.action for line in reporting.audit_extract(october, case_id)]


def _references(data: Any) -> list[str]:
    """Every `reference` anywhere inside `data`."""
    if isinstance(data, dict):
        own = [data["reference"]] if isinstance(data.get("reference"), str) else []
        return own + [r for value in data.values() for r in _references(value)]
    if isinstance(data, list):
        return [r for item in data for r in _references(item)]
    return []


def test_export_follows_the_rules_of_case_show(october: ServiceContext) -> None:
    case_id = import_bundle(october, json.dumps(referral_bundle())).id
    with pytest.raises(PermissionDenied):
        export_bundle(october.as_user("planner-1"), case_id)
    outsider = "psy-3" if "psy-3" not in _participants(october, case_id) else "psy-2"
    with pytest.raises(PermissionDenied):
        export_bundle(october.as_user(outsider), case_id)
    member = next(iter(_participants(october, case_id) - {"coord-1"}))
    assert export_bundle(october.as_user(member), case_id)["type"] == "collection"
    actions = [
        (line.user_id, line.action, line.outcome)
        for line in reporting.audit_extract(october, case_id)
    ]
    assert ("planner-1", "case.export", "denied") in actions
    assert (member, "case.export", "ok") in actions


def _participants(ctx: ServiceContext, case_id: str) -> set[str]:
    view = cases.show_case(ctx, case_id)
    return {cid for s in view.steps for cid in s.assignees.values()}


def test_a_case_opened_by_hand_exports_too(october: ServiceContext) -> None:
    from tests.factories import referral

    case_id = cases.open_case(october, referral(referral_date=date(2026, 10, 1))).id
    exported = export_bundle(october, case_id)
    (request,) = _resources(exported, "ServiceRequest")
    assert request["requester"]["display"] == "BHV Ålidhem"
    assert not _resources(exported, "RelatedPerson")


def test_migration_0008_goes_down_and_up_again(database_url: str) -> None:
    from sqlalchemy import inspect

    from essence import bootstrap

    bootstrap.initialise(database_url=database_url)
    engine = bootstrap.engine_for(database_url)
    assert inspect(engine).has_table("referral_origin")
    for step, present in (("downgrade", False), ("upgrade", True)):
        migrate(database_url, "0008_fhir-1" if step == "downgrade" else "head")
        assert inspect(engine).has_table("referral_origin") is present
