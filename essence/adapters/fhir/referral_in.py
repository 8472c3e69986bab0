"""Parse and validate a region's FHIR R4 referral Bundle into an `ImportedReferral`.

The Bundle is a `transaction` holding one Patient (personnummer or samordningsnummer,
name, birth date, home municipality), one ServiceRequest (reason, requester organisation,
authored date), optionally the guardians (RelatedPerson), the requester (Organization)
and a Consent whose performers are the consenting guardians. Structure is checked with
`fhir.resources` (its R4B models); every error is an `InvalidInput` whose field is the
element's FHIRPath (``Bundle.entry[0].resource.identifier[0].value``), never the number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from essence.adapters.fhir.codes import (
    PERSONNUMMER_SYSTEM,
    REFERRAL_TYPES,
    SAMORDNINGSNUMMER_SYSTEM,
)
from essence.domain.calendar import STOCKHOLM, local_date
from essence.domain.errors import InvalidInput
from essence.domain.geography import municipality
from essence.domain.personnummer import Personnummer
from essence.services.cases import Referral
from essence.services.ports import ReferralOrigin
from essence.services.referrals import REQUEST_FIELD, ImportedReferral

MAX_BUNDLE_BYTES = 1_000_000
ADMINISTRATIVE_GENDER = frozenset({"male", "female", "other", "unknown"})
GUARDIAN_CODES = frozenset({"MTH", "FTH", "PRN", "GUARD", "STPPRN", "NPRN", "PAR", "N"})


@dataclass
class ParsedReferral:
    """An imported referral and where each of its fields sits in the Bundle.

    Attributes:
        imported: The service input.
        paths: Field name as the services name it (``personnummer``, ``municipality``, …)
            → FHIRPath of the element it came from, to point errors at the element.
    """

    imported: ImportedReferral
    paths: dict[str, str] = field(default_factory=dict)

    def locate(self, error: InvalidInput) -> InvalidInput:
        """The same error with its field replaced by the element's path (when known)."""
        path = self.paths.get(error.field)
        if path is None:
            return error
        return InvalidInput(path, error.value, error.reason)


# A referral lists the guardians it knows of, not who has custody: two guardians are assumed
# (joint custody is the rule) until the coordinator records sole custody
# (`essence case consent CASE --guardian 1 --given --guardians 1`).
JOINT_CUSTODY = 2


def load_json(raw: bytes | str) -> Any:
    """Decode the Bundle's JSON text.

    Raises:
        InvalidInput: field ``Bundle`` for text that is too large or not JSON.
    """
    if len(raw) > MAX_BUNDLE_BYTES:
        raise InvalidInput("Bundle", f"{len(raw)} bytes", f"larger than {MAX_BUNDLE_BYTES}")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = f"line {error.lineno} column {error.colno}" if hasattr(error, "lineno") else ""
        raise InvalidInput("Bundle", "", f"not valid JSON ({where or 'bad encoding'})") from None


def parse_referral(data: Any, today: date) -> ParsedReferral:
    """Validate a referral Bundle (already decoded JSON) and map it to the service input.

    Args:
        data: The decoded JSON.
        today: Reference day for the personnummer (future births are refused).

    Raises:
        InvalidInput: whose field is the FHIRPath of the offending element.
    """
    data = validate_structure(data)
    entries: list[dict[str, Any]] = data.get("entry") or []
    by_type = _entries_by_type(entries)
    patient_at = _exactly_one(by_type, "Patient")
    request_at = _exactly_one(by_type, "ServiceRequest")
    refs = _reference_index(entries)
    patient_path = f"Bundle.entry[{patient_at}].resource"
    request_path = f"Bundle.entry[{request_at}].resource"
    patient, request = entries[patient_at]["resource"], entries[request_at]["resource"]
    paths: dict[str, str] = {}

    pnr, pnr_path = _personnummer(patient, patient_path, today)
    paths["personnummer"] = pnr_path
    name, paths["name"] = _name(patient, patient_path)
    _check_birth_date(patient, patient_path, pnr)
    home, paths["municipality"] = _municipality(patient, patient_path)
    _check_reference(request.get("subject"), f"{request_path}.subject", refs, patient_at)
    if request.get("status") not in ("active", "draft"):
        raise InvalidInput(f"{request_path}.status", request.get("status"), "must be active")
    authored, paths["referral date"] = _authored(request, request_path)
    requester, requester_id, paths["referring unit"] = _requester(
        request, request_path, entries, refs
    )
    request_system, request_value, paths[REQUEST_FIELD] = _request_identifier(
        request, request_path, data
    )
    guardians, guardian_ids = _guardians(entries, by_type, refs, patient_at)
    consenting, paths["consent"] = _consenting(entries, by_type, refs, guardian_ids)
    paths["guardians"] = f"Bundle.entry[{by_type['RelatedPerson'][0]}]" if guardians else ""
    referral = Referral(
        personnummer=pnr.digits,
        child_name=name,
        municipality=home,
        referring_unit=requester,
        referral_date=local_date(authored),
        guardians=JOINT_CUSTODY,
        consenting=consenting,
    )
    origin = ReferralOrigin(
        request_system=request_system,
        request_value=request_value,
        reason=_reason(request),
        requester=requester,
        requester_identifier=requester_id,
        authored_at=authored,
        guardians=tuple(guardians),
        consenting=consenting,
    )
    return ParsedReferral(ImportedReferral(referral, origin), {k: v for k, v in paths.items() if v})


def validate_structure(data: Any) -> dict[str, Any]:
    """Check the Bundle against the FHIR R4B models of `fhir.resources` and the bundle rules.

    Returns:
        The Bundle as the models read it (empty values dropped, entries in their order).

    Raises:
        InvalidInput: the path of the first element that does not fit.
    """
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(data, dict):
        raise InvalidInput("Bundle", "", "expected a JSON object (a FHIR Bundle)")
    if data.get("resourceType") != "Bundle":
        raise InvalidInput("Bundle.resourceType", data.get("resourceType"), "must be Bundle")
    if not isinstance(data.get("entry") or [], list):
        raise InvalidInput("Bundle.entry", "", "must be a list of entries")
    for index, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind not in REFERRAL_TYPES:
            raise InvalidInput(
                f"Bundle.entry[{index}].resource.resourceType",
                kind,
                "not part of a referral; expected " + ", ".join(REFERRAL_TYPES),
            )
    try:
        data = Bundle.model_validate(data).model_dump(mode="json", exclude_none=True)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(fhir_path(first.get("loc", ())), "", _message(first)) from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidInput("Bundle", "", "not a valid FHIR R4 Bundle") from None
    if data.get("type") != "transaction":
        raise InvalidInput("Bundle.type", data.get("type"), "a referral is a transaction Bundle")
    for index, entry in enumerate(data.get("entry") or []):
        if not entry.get("request"):
            raise InvalidInput(
                f"Bundle.entry[{index}].request", "", "a transaction entry needs a request"
            )
    return data


def fhir_path(loc: tuple[Any, ...] | list[Any], root: str = "Bundle") -> str:
    """A pydantic error location as FHIRPath: ``('entry', 0, 'resource', 'x')`` →
    ``Bundle.entry[0].resource.x`` (model-internal parts such as type tags are dropped)."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part and part[0].islower() and " " not in part:
            path += f".{part.removesuffix('__ext')}"
    return path


def _message(error: Any) -> str:
    text = str(error.get("msg", "is not valid"))
    return text.removeprefix("Value error, ")


def _entries_by_type(entries: list[dict[str, Any]]) -> dict[str, list[int]]:
    by_type: dict[str, list[int]] = {kind: [] for kind in REFERRAL_TYPES}
    for index, entry in enumerate(entries):
        by_type[entry["resource"]["resourceType"]].append(index)
    return by_type


def _exactly_one(by_type: dict[str, list[int]], kind: str) -> int:
    found = by_type[kind]
    if len(found) != 1:
        what = "has none" if not found else f"has {len(found)}"
        raise InvalidInput(f"Bundle.entry.where(resource is {kind})", "", f"needs one; {what}")
    return found[0]


def _reference_index(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Every way an entry can be referenced (fullUrl, Type/id) → its index."""
    index: dict[str, int] = {}
    for i, entry in enumerate(entries):
        resource = entry["resource"]
        if entry.get("fullUrl"):
            index[entry["fullUrl"]] = i
        if resource.get("id"):
            index[f"{resource['resourceType']}/{resource['id']}"] = i
    return index


def _check_reference(ref: Any, path: str, refs: dict[str, int], expected: int) -> None:
    target = ref.get("reference") if isinstance(ref, dict) else None
    if target is None or refs.get(target) != expected:
        raise InvalidInput(f"{path}.reference", target or "", "must refer to the Bundle's Patient")


def _personnummer(patient: dict[str, Any], path: str, today: date) -> tuple[Personnummer, str]:
    systems = {PERSONNUMMER_SYSTEM: False, SAMORDNINGSNUMMER_SYSTEM: True}
    for i, identifier in enumerate(patient.get("identifier") or []):
        system = identifier.get("system")
        if system not in systems:
            continue
        where = f"{path}.identifier[{i}].value"
        try:
            pnr = Personnummer.parse(str(identifier.get("value") or ""), today=today)
        except InvalidInput as error:
            raise InvalidInput(where, "", error.reason) from None
        if pnr.is_coordination_number != systems[system]:
            kind = "a samordningsnummer" if pnr.is_coordination_number else "a personnummer"
            raise InvalidInput(f"{path}.identifier[{i}].system", system, f"the value is {kind}")
        return pnr, where
    raise InvalidInput(
        f"{path}.identifier",
        "",
        f"needs a personnummer ({PERSONNUMMER_SYSTEM}) or samordningsnummer "
        f"({SAMORDNINGSNUMMER_SYSTEM})",
    )


def _name(patient: dict[str, Any], path: str) -> tuple[str, str]:
    names = patient.get("name") or []
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if chosen is None:
        raise InvalidInput(f"{path}.name", "", "the child's name is missing")
    where = f"{path}.name[{names.index(chosen)}]"
    text = human_name(chosen)
    if not text.strip():
        raise InvalidInput(where, "", "needs given and family name (or text)")
    return " ".join(text.split()), where


def human_name(name: dict[str, Any]) -> str:
    """A HumanName as one line: its text, else the given names and the family name."""
    parts = [*(name.get("given") or []), name.get("family")]
    text = name.get("text") or " ".join(p for p in parts if isinstance(p, str))
    return " ".join(text.split())


def _check_birth_date(patient: dict[str, Any], path: str, pnr: Personnummer) -> None:
    gender = patient.get("gender")
    if gender is not None and gender not in ADMINISTRATIVE_GENDER:
        raise InvalidInput(
            f"{path}.gender", gender, "one of " + ", ".join(sorted(ADMINISTRATIVE_GENDER))
        )
    given = patient.get("birthDate")
    if given and given != pnr.birth_date.isoformat():
        raise InvalidInput(f"{path}.birthDate", given, "differs from the identity number's date")


def _municipality(patient: dict[str, Any], path: str) -> tuple[str, str]:
    """The home municipality: Address.district (kommun), else Address.city when no district."""
    addresses = patient.get("address") or []
    home = next(
        (a for a in addresses if a.get("use") == "home"), addresses[0] if addresses else None
    )
    if home is None:
        raise InvalidInput(f"{path}.address", "", "the home municipality (district) is missing")
    i = addresses.index(home)
    element = "district" if home.get("district") else "city"
    value = home.get(element)
    if not value:
        raise InvalidInput(f"{path}.address[{i}].district", "", "the home municipality is missing")
    where = f"{path}.address[{i}].{element}"
    try:
        return municipality(value).name, where
    except InvalidInput as error:
        raise InvalidInput(where, value, error.reason) from None


def _authored(request: dict[str, Any], path: str) -> tuple[datetime, str]:
    where = f"{path}.authoredOn"
    text = request.get("authoredOn")
    if not text:
        raise InvalidInput(where, "", "the referral date is missing")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(where, text, "expected a FHIR dateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment, where


def _requester(
    request: dict[str, Any], path: str, entries: list[dict[str, Any]], refs: dict[str, int]
) -> tuple[str, str, str]:
    where = f"{path}.requester"
    ref = request.get("requester") or {}
    target = refs.get(ref.get("reference", ""))
    organisation = entries[target]["resource"] if target is not None else None
    if organisation is not None and organisation["resourceType"] != "Organization":
        raise InvalidInput(f"{where}.reference", ref.get("reference"), "must be an Organization")
    name = (organisation or {}).get("name") or ref.get("display") or ""
    if not name.strip():
        raise InvalidInput(where, "", "the requesting organisation (name or display) is missing")
    identifiers = (organisation or {}).get("identifier") or []
    identifier = identifiers[0].get("value", "") if identifiers else ""
    return name.strip(), identifier, where


def _request_identifier(
    request: dict[str, Any], path: str, bundle: dict[str, Any]
) -> tuple[str, str, str]:
    identifiers = request.get("identifier") or []
    if identifiers and identifiers[0].get("value"):
        return identifiers[0].get("system", ""), identifiers[0]["value"], f"{path}.identifier[0]"
    raise InvalidInput(f"{path}.identifier", "", "the referral's identifier is missing")


def _reason(request: dict[str, Any]) -> str:
    parts = []
    for concept in request.get("reasonCode") or []:
        coding = (concept.get("coding") or [{}])[0]
        parts.append(concept.get("text") or coding.get("display") or coding.get("code") or "")
    return "; ".join(p for p in parts if p)[:500]


def _guardians(
    entries: list[dict[str, Any]],
    by_type: dict[str, list[int]],
    refs: dict[str, int],
    patient_at: int,
) -> tuple[list[tuple[str, str]], list[int]]:
    guardians: list[tuple[str, str]] = []
    indices: list[int] = []
    for i in by_type["RelatedPerson"]:
        person = entries[i]["resource"]
        path = f"Bundle.entry[{i}].resource"
        _check_reference(person.get("patient"), f"{path}.patient", refs, patient_at)
        codes = [
            c.get("code", "")
            for concept in person.get("relationship") or []
            for c in concept.get("coding") or []
        ]
        if not GUARDIAN_CODES.intersection(codes):
            raise InvalidInput(f"{path}.relationship", ",".join(codes), "is not a guardian")
        names = person.get("name") or [{}]
        first = names[0]
        name = human_name(first)
        role = next((c for c in codes if c in ("MTH", "FTH", "GUARD", "PRN")), codes[0])
        guardians.append((" ".join(name.split()), role))
        indices.append(i)
    if len(guardians) > 2:
        raise InvalidInput(
            f"Bundle.entry[{indices[2]}].resource", "", "at most two guardians have custody"
        )
    return guardians, indices


def _consenting(
    entries: list[dict[str, Any]],
    by_type: dict[str, list[int]],
    refs: dict[str, int],
    guardians: list[int],
) -> tuple[int, str]:
    """How many guardians consented: the RelatedPerson performers of active Consents."""
    consenting: set[int] = set()
    where = ""
    for i in by_type["Consent"]:
        consent = entries[i]["resource"]
        path = f"Bundle.entry[{i}].resource"
        where = where or f"{path}.performer"
        if consent.get("status") != "active":
            continue
        for j, performer in enumerate(consent.get("performer") or []):
            target = refs.get(performer.get("reference", ""))
            if target not in guardians:
                raise InvalidInput(
                    f"{path}.performer[{j}].reference",
                    performer.get("reference", ""),
                    "must refer to a guardian (RelatedPerson) in the Bundle",
                )
            consenting.add(target)
    return len(consenting), where
