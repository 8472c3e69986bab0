"""The SQL unit of work: one session, one transaction per use case."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from essence.adapters.appointments import SqlAppointmentRepository
from essence.adapters.case_lists import SqlCaseLists
from essence.adapters.database import describe_url, read_only_location
from essence.adapters.db_errors import Fault, classify
from essence.adapters.family_needs import SqlFamilyNeedsRepository
from essence.adapters.integrity import integrity_error
from essence.adapters.ops_queries import SqlOpsQueries
from essence.adapters.referral_origins import SqlReferralOriginRepository
from essence.adapters.repositories import (
    SqlAuditLog,
    SqlCaseRepository,
    SqlClinicianRepository,
    SqlPathwayRepository,
    SqlUserRepository,
)
from essence.domain.errors import (
    ConcurrencyConflict,
    DatabaseUnavailable,
    EssenceError,
    InfrastructureError,
)
from essence.services.ports import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """Opens a session on enter; `commit()` makes everything durable, exit rolls back the rest."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False)
        self.pathways = SqlPathwayRepository(self.session)
        self.cases = SqlCaseRepository(self.session, self.pathways)
        self.case_lists = SqlCaseLists(self.session, self.pathways)
        self.clinicians = SqlClinicianRepository(self.session)
        self.users = SqlUserRepository(self.session)
        self.audit = SqlAuditLog(self.session)
        self.appointments = SqlAppointmentRepository(self.session)
        self.referral_origins = SqlReferralOriginRepository(self.session)
        self.family_needs = SqlFamilyNeedsRepository(self.session)
        self.ops = SqlOpsQueries(self.session)
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        assert self.session is not None
        try:
            self.session.rollback()
        except DBAPIError:
            pass  # the connection is gone; the error that brought us here says why
        finally:
            self.session.close()
        if isinstance(exc, DBAPIError):
            translated = translate_database_error(exc, self.engine)
            if translated is not None:
                raise translated from None

    def commit(self) -> None:
        assert self.session is not None
        try:
            self.session.commit()
        except DBAPIError as error:
            translated = translate_database_error(error, self.engine, during_commit=True)
            if translated is not None:
                raise translated from None
            raise

    def rollback(self) -> None:
        if self.session is not None:
            self.session.rollback()


def translate_database_error(
    error: DBAPIError, engine: Engine, *, during_commit: bool = False
) -> EssenceError | None:
    """Map a driver error to ours by its class and SQLSTATE (see `db_errors.classify`).

    Lock and serialisation problems are conflicts (retried on fresh data); a lost connection
    is `DatabaseUnavailable`, retried only when it did not happen while committing (then the
    change may be stored already); a violated constraint is named; a read-only or broken
    disk is an infrastructure error naming the database, never the password.
    """
    if isinstance(error, IntegrityError):
        return integrity_error(error)
    fault = classify(error)
    where = describe_url(str(engine.url))
    if fault is None:
        return None
    if fault.conflict:
        return ConcurrencyConflict("(busy)")
    if fault is Fault.CONNECTION:
        if during_commit:
            return DatabaseUnavailable(
                f"database: lost the connection to {where} while saving; the change may or "
                "may not be stored, look before trying again",
                during_commit=True,
            )
        return DatabaseUnavailable(f"database: lost the connection to {where}")
    if fault is Fault.READ_ONLY or read_only_location(engine):
        return InfrastructureError(
            f"database: {where} is read-only (file, directory or disk); nothing was saved"
        )
    return InfrastructureError(f"database: {where}: {fault.value}; nothing was saved")
