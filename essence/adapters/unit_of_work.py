"""The SQL unit of work: one session, one transaction per use case."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from essence.adapters.appointments import SqlAppointmentRepository
from essence.adapters.database import describe_url
from essence.adapters.family_needs import SqlFamilyNeedsRepository
from essence.adapters.repositories import (
    SqlAuditLog,
    SqlCaseRepository,
    SqlClinicianRepository,
    SqlPathwayRepository,
    SqlUserRepository,
)
from essence.domain.errors import ConcurrencyConflict, EssenceError, InfrastructureError
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
        self.clinicians = SqlClinicianRepository(self.session)
        self.users = SqlUserRepository(self.session)
        self.audit = SqlAuditLog(self.session)
        self.appointments = SqlAppointmentRepository(self.session)
        self.family_needs = SqlFamilyNeedsRepository(self.session)
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        assert self.session is not None
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, OperationalError | DBAPIError):
            translated = translate_database_error(exc, self.engine)
            if translated is not None:
                raise translated from None

    def commit(self) -> None:
        assert self.session is not None
        try:
            self.session.commit()
        except DBAPIError as error:
            translated = translate_database_error(error, self.engine)
            if translated is not None:
                raise translated from None
            raise

    def rollback(self) -> None:
        if self.session is not None:
            self.session.rollback()


_CONFLICT_SQLSTATES = {"40001", "40P01", "55P03"}


def translate_database_error(error: DBAPIError, engine: Engine) -> EssenceError | None:
    """Map a driver error to ours: lock/serialisation problems are conflicts (retried),
    a lost or refused connection is an infrastructure error naming the host, not the password.
    """
    text = str(error.orig).lower() if error.orig is not None else str(error).lower()
    sqlstate = getattr(error.orig, "sqlstate", None)
    if "database is locked" in text or sqlstate in _CONFLICT_SQLSTATES:
        return ConcurrencyConflict("(busy)")
    if error.connection_invalidated or ("connection" in text and "refused" in text):
        return InfrastructureError(f"database: lost connection to {describe_url(str(engine.url))}")
    return None
