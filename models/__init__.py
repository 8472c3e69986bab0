"""SQLModel tables of essence (XRecord) and the metadata Alembic migrates."""

from models.audit import AuditRecord
from models.case import CaseRecord, GuardianConsentRecord, StepAssignmentRecord, StepRecord
from models.pathway import PathwayTemplateRecord
from models.schedule import AppointmentRecord
from models.team import AbsenceRecord, ClinicianRecord, UserRecord
from models.web import WebPreferenceRecord, WebRunRecord, WebSessionRecord

__all__ = [
    "AbsenceRecord",
    "AppointmentRecord",
    "AuditRecord",
    "CaseRecord",
    "ClinicianRecord",
    "GuardianConsentRecord",
    "PathwayTemplateRecord",
    "StepAssignmentRecord",
    "StepRecord",
    "UserRecord",
    "WebPreferenceRecord",
    "WebRunRecord",
    "WebSessionRecord",
]
