"""Use cases that set essence up: store pathway versions, seed the synthetic demo team."""

from __future__ import annotations

from essence.domain.access import Role, User, require_role
from essence.domain.pathway import PathwayTemplate
from essence.domain.professions import Organisation, Profession
from essence.domain.team import Clinician, Roster
from essence.services.context import FLOWS_USER, ServiceContext, run_use_case
from essence.services.ports import UnitOfWork

# A Västerbotten-style team (DOMAIN.md): 3 psychologists, 1 speech therapist,
# 1 physiotherapist, 1 physician, 1 coordinator, plus BHV and habilitation contacts.
# Names are invented.
DEMO_TEAM: tuple[tuple[str, str, Profession, Organisation, str, int], ...] = (
    ("coord-1", "Saga Lindqvist", Profession.COORDINATOR, Organisation.BUP, "Umeå", 300),
    ("psy-1", "Elin Norberg", Profession.PSYCHOLOGIST, Organisation.BUP, "Umeå", 300),
    ("psy-2", "Oskar Hedlund", Profession.PSYCHOLOGIST, Organisation.BUP, "Umeå", 300),
    ("psy-3", "Maja Forsberg", Profession.PSYCHOLOGIST, Organisation.BUC, "Skellefteå", 300),
    ("slp-1", "Ida Wikström", Profession.SPEECH_THERAPIST, Organisation.LOGOPEDI, "Umeå", 300),
    ("pt-1", "Jonas Berglund", Profession.PHYSIOTHERAPIST, Organisation.HABILITATION, "Umeå", 240),
    ("md-1", "Karin Sundqvist", Profession.PHYSICIAN, Organisation.BUC, "Umeå", 240),
    ("bhv-1", "Lena Öberg", Profession.BHV_NURSE, Organisation.BHV, "Umeå", 120),
    ("hab-1", "Anders Nyström", Profession.HABILITATION, Organisation.HABILITATION, "Umeå", 120),
)
DEMO_USERS: tuple[tuple[str, Role], ...] = (("planner-1", Role.PLANNER), ("admin", Role.ADMIN))


def store_pathway(ctx: ServiceContext, template: PathwayTemplate) -> PathwayTemplate:
    """Store a template version (idempotent for identical content). Admins and coordinators."""

    def body(uow: UnitOfWork, user: User) -> PathwayTemplate:
        require_role(user, "store a pathway", Role.COORDINATOR)
        uow.pathways.add(template)
        return template

    return run_use_case(ctx, "pathway.store", body)


def get_pathway(ctx: ServiceContext, name: str, version: int | None = None) -> PathwayTemplate:
    """One stored template version (the newest by default); any role may read pathways."""
    return run_use_case(ctx, "pathway.show", lambda uow, _user: uow.pathways.get(name, version))


def list_pathways(ctx: ServiceContext) -> list[PathwayTemplate]:
    """Every stored template version."""
    return run_use_case(ctx, "pathway.list", lambda uow, _user: uow.pathways.list())


def demo_team() -> list[Clinician]:
    """The synthetic demo team (invented names)."""
    return [
        Clinician(cid, name, profession, org, base, Roster.uniform(minutes))
        for cid, name, profession, org, base, minutes in DEMO_TEAM
    ]


def seed(ctx: ServiceContext, template: PathwayTemplate, *, with_demo_team: bool) -> list[str]:
    """Store the default template, an admin login, the flows' named system login (a
    coordinator without a password) and (optionally) the demo team and logins.

    Idempotent: what exists already is left alone. Returns the user ids created.
    """

    def body(uow: UnitOfWork, _user: User) -> list[str]:
        uow.pathways.add(template)
        existing_users = {u.id for u in uow.users.list()}
        existing_staff = {c.id for c in uow.clinicians.list(active_only=False)}
        created: list[str] = []
        if "admin" not in existing_users:
            uow.users.add(User("admin", Role.ADMIN))
            created.append("admin")
        if FLOWS_USER not in existing_users:
            uow.users.add(User(FLOWS_USER, Role.COORDINATOR))
        if not with_demo_team:
            return created
        for clinician in demo_team():
            if clinician.id not in existing_staff:
                uow.clinicians.add(clinician)
            if clinician.id not in existing_users:
                role = (
                    Role.COORDINATOR
                    if clinician.profession is Profession.COORDINATOR
                    else Role.CLINICIAN
                )
                uow.users.add(User(clinician.id, role, clinician.id))
                created.append(clinician.id)
        for user_id, role in DEMO_USERS:
            if user_id not in existing_users and user_id != "admin":
                uow.users.add(User(user_id, role))
                created.append(user_id)
        return created

    return run_use_case(ctx.as_system(), "setup.seed", body)
