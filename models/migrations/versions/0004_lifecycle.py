"""lifecycle: consent per guardian, paused cases, one open case per child, step review and
no-show counts, appointment status and iCalendar sequence, skippable pathway steps

Carries existing databases over:
- each case's count of consenting guardians becomes one `guardian_consent` row per
  guardian (given on the recorded day, or the referral day); a working case whose consent
  was short is paused;
- a second open case of the same child (possible before this revision) is withdrawn as a
  duplicate of the first one opened, and audited; then a partial unique index allows one
  open case per child;
- appointments get a status: attended when their step is completed, cancelled when their
  step is cancelled or their case is withdrawn, closed or paused, else booked; one booked
  appointment per step is enforced by a partial unique index (the old unique constraint on
  case and step goes, so history can be kept);
- stored pathway templates get `skippable` per step (the default pathway: everything but
  intake, team conference, feedback and written report; other pathways: everything but
  the intake and feedback milestones) with their fingerprints recomputed.

The downgrade carries it back where the old schema can hold it: consent counts from the
rows, paused cases back to the state they paused from, one appointment per step (the
booked one, else the latest attended one), templates without `skippable`.

Revision ID: 0004_lifecycle
Revises: 0003
Create Date: 2026-12-01 05:00:00
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0004_lifecycle"
down_revision = "0003"
branch_labels = None
depends_on = None

NOT_SKIPPABLE_DEFAULT = {"intake", "team_conference", "feedback_meeting", "written_report"}
OPEN_STATES = ("referred", "consented", "assessing", "feedback-given", "paused")
WORKING_STATES = ("consented", "assessing", "feedback-given")
CASE_STATES_SQL = (
    "state IN ('referred', 'consented', 'assessing', 'feedback-given', 'closed', "
    "'withdrawn', 'paused')"
)
STEP_STATES_SQL = (
    "state IN ('requested', 'ready', 'in-progress', 'on-hold', 'completed', 'cancelled', "
    "'entered-in-error')"
)
OPEN_CASE_SQL = "state NOT IN ('closed', 'withdrawn')"
BOOKED_SQL = "status = 'booked'"
MIGRATION_USER = "migration-0004"
FLOWS_USER = "system-flows"

case_table = sa.table(
    "essence_case",
    sa.column("id", sa.String),
    sa.column("personnummer", sa.String),
    sa.column("referral_date", sa.Date),
    sa.column("guardians", sa.Integer),
    sa.column("consenting", sa.Integer),
    sa.column("consent_recorded_on", sa.Date),
    sa.column("state", sa.String),
    sa.column("paused_from", sa.String),
    sa.column("opened_at", models.types.AwareDateTime()),
    sa.column("closed_at", models.types.AwareDateTime()),
    sa.column("withdrawn_reason", sa.String),
    sa.column("version", sa.Integer),
)
step_table = sa.table(
    "case_step",
    sa.column("case_id", sa.String),
    sa.column("key", sa.String),
    sa.column("state", sa.String),
    sa.column("resume_state", sa.String),
)
consent_table = sa.table(
    "guardian_consent",
    sa.column("case_id", sa.String),
    sa.column("guardian", sa.Integer),
    sa.column("status", sa.String),
    sa.column("given_on", sa.Date),
    sa.column("recorded_by", sa.String),
    sa.column("recorded_at", models.types.AwareDateTime()),
)
appointment_table = sa.table(
    "appointment",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.String),
    sa.column("step_key", sa.String),
    sa.column("start", models.types.AwareDateTime()),
    sa.column("status", sa.String),
    sa.column("sequence", sa.Integer),
    sa.column("changed_at", models.types.AwareDateTime()),
)
template_table = sa.table(
    "pathway_template",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("fingerprint", sa.String),
    sa.column("content", sa.Text),
)
audit_table = sa.table(
    "audit_event",
    sa.column("at", models.types.AwareDateTime()),
    sa.column("user_id", sa.String),
    sa.column("role", sa.String),
    sa.column("action", sa.String),
    sa.column("case_id", sa.String),
    sa.column("outcome", sa.String),
    sa.column("detail", sa.String),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


# --- upgrade --------------------------------------------------------------------------------


def upgrade() -> None:
    now = datetime.now(UTC)
    bind = op.get_bind()
    _templates_with_skippable(bind)

    op.add_column("essence_case", sa.Column("paused_from", sa.String(length=20), nullable=True))
    op.create_table(
        "guardian_consent",
        sa.Column("case_id", sa.String(length=20), nullable=False),
        sa.Column("guardian", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", models.types.AwareDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("guardian IN (1, 2)", name="ck_consent_guardian"),
        sa.CheckConstraint("status IN ('given', 'withdrawn')", name="ck_consent_status"),
        sa.ForeignKeyConstraint(["case_id"], ["essence_case.id"]),
        sa.PrimaryKeyConstraint("case_id", "guardian"),
    )
    cases = bind.execute(
        sa.select(
            case_table.c.id,
            case_table.c.personnummer,
            case_table.c.referral_date,
            case_table.c.guardians,
            case_table.c.consenting,
            case_table.c.consent_recorded_on,
            case_table.c.state,
            case_table.c.opened_at,
        )
    ).all()
    consent_rows = [
        {
            "case_id": c.id,
            "guardian": guardian,
            "status": "given",
            "given_on": c.consent_recorded_on or c.referral_date,
            "recorded_by": MIGRATION_USER,
            "recorded_at": now,
        }
        for c in cases
        for guardian in range(1, min(c.consenting, c.guardians) + 1)
    ]
    if consent_rows:
        bind.execute(consent_table.insert(), consent_rows)
    for c in cases:
        if c.state in WORKING_STATES and c.consenting < c.guardians:
            bind.execute(
                case_table.update()
                .where(case_table.c.id == c.id)
                .values(state="paused", paused_from=c.state, version=case_table.c.version + 1)
            )
    _withdraw_duplicates(bind, cases, now)
    _add_flows_user(bind, now)

    if _sqlite():
        op.execute("ALTER TABLE essence_case DROP COLUMN consenting")
        op.execute("ALTER TABLE essence_case DROP COLUMN consent_recorded_on")
    else:
        op.drop_column("essence_case", "consenting")
        op.drop_column("essence_case", "consent_recorded_on")
        op.create_check_constraint("ck_case_state", "essence_case", CASE_STATES_SQL)
        op.create_check_constraint("ck_case_guardians", "essence_case", "guardians IN (1, 2)")
    op.create_index(
        "uq_case_open_child",
        "essence_case",
        ["personnummer"],
        unique=True,
        sqlite_where=sa.text(OPEN_CASE_SQL),
        postgresql_where=sa.text(OPEN_CASE_SQL),
    )

    with op.batch_alter_table("case_step", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("no_shows", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint("ck_step_state", STEP_STATES_SQL)
        batch_op.create_check_constraint("ck_step_no_shows", "no_shows >= 0")

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), nullable=False, server_default="booked")
        )
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("changed_at", models.types.AwareDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint("uq_appointment_case_step", type_="unique")
        batch_op.create_check_constraint(
            "ck_appointment_status", "status IN ('booked', 'attended', 'cancelled', 'no_show')"
        )
        batch_op.create_check_constraint("ck_appointment_sequence", "sequence >= 0")
        batch_op.create_check_constraint("ck_appointment_times", '"end" > start')
        batch_op.create_index("ix_appointment_status", ["status"], unique=False)
    _appointment_statuses(bind, now)
    op.create_index(
        "uq_appointment_booked_step",
        "appointment",
        ["case_id", "step_key"],
        unique=True,
        sqlite_where=sa.text(BOOKED_SQL),
        postgresql_where=sa.text(BOOKED_SQL),
    )


def _withdraw_duplicates(bind: sa.Connection, cases: list, now: datetime) -> None:
    """Withdraw every open case of a child but the first opened, and audit it."""
    seen: dict[str, str] = {}
    ordered = sorted(
        (c for c in cases if c.state in OPEN_STATES), key=lambda c: (c.opened_at, c.id)
    )
    for c in ordered:
        first = seen.setdefault(c.personnummer, c.id)
        if first == c.id:
            continue
        bind.execute(
            case_table.update()
            .where(case_table.c.id == c.id)
            .values(
                state="withdrawn",
                paused_from=None,
                closed_at=now,
                withdrawn_reason=f"duplicate of open case {first} (migration 0004)",
                version=case_table.c.version + 1,
            )
        )
        bind.execute(
            step_table.update()
            .where(
                step_table.c.case_id == c.id,
                step_table.c.state.in_(["requested", "ready", "in-progress", "on-hold"]),
            )
            .values(state="cancelled", resume_state=None)
        )
        bind.execute(
            audit_table.insert().values(
                at=now,
                user_id=MIGRATION_USER,
                role="admin",
                action="case.withdraw",
                case_id=c.id,
                outcome="ok",
                detail=f"migration 0004: duplicate of open case {first}",
            )
        )


def _add_flows_user(bind: sa.Connection, now: datetime) -> None:
    """The named login the Prefect flows act as (a coordinator without a password)."""
    users = sa.table(
        "app_user",
        sa.column("id", sa.String),
        sa.column("role", sa.String),
        sa.column("clinician_id", sa.String),
        sa.column("created_at", models.types.AwareDateTime()),
    )
    if bind.execute(sa.select(users.c.id).where(users.c.id == FLOWS_USER)).first() is None:
        bind.execute(
            users.insert().values(id=FLOWS_USER, role="coordinator", clinician_id=None, created_at=now)
        )


def _appointment_statuses(bind: sa.Connection, now: datetime) -> None:
    steps = {
        (row.case_id, row.key): row.state
        for row in bind.execute(sa.select(step_table.c.case_id, step_table.c.key, step_table.c.state))
    }
    case_states = {
        row.id: row.state for row in bind.execute(sa.select(case_table.c.id, case_table.c.state))
    }
    for row in bind.execute(
        sa.select(appointment_table.c.id, appointment_table.c.case_id, appointment_table.c.step_key)
    ).all():
        step_state = steps.get((row.case_id, row.step_key))
        if step_state == "completed":
            status = "attended"
        elif step_state in ("cancelled", "entered-in-error") or case_states.get(row.case_id) in (
            "withdrawn",
            "closed",
            "paused",
        ):
            status = "cancelled"
        else:
            continue
        bind.execute(
            appointment_table.update()
            .where(appointment_table.c.id == row.id)
            .values(status=status, sequence=1, changed_at=now)
        )


def _templates_with_skippable(bind: sa.Connection) -> None:
    for row in bind.execute(
        sa.select(template_table.c.id, template_table.c.name, template_table.c.content)
    ).all():
        content = json.loads(row.content)
        for step in content.get("steps", []):
            if "skippable" in step:
                continue
            if row.name == "essence-default":
                step["skippable"] = step["key"] not in NOT_SKIPPABLE_DEFAULT
            else:
                step["skippable"] = step.get("milestone", "") not in ("intake", "feedback")
        _store_template(bind, row.id, content)


def _store_template(bind: sa.Connection, template_id: int, content: dict) -> None:
    """Write a template's content with its fingerprint (as PathwayTemplate.fingerprint)."""
    canonical = json.dumps(content, sort_keys=True)
    bind.execute(
        template_table.update()
        .where(template_table.c.id == template_id)
        .values(
            content=json.dumps(content, ensure_ascii=False),
            fingerprint=hashlib.sha256(canonical.encode()).hexdigest()[:12],
        )
    )


# --- downgrade ------------------------------------------------------------------------------


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("uq_appointment_booked_step", table_name="appointment")
    _one_appointment_per_step(bind)
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_status")
        batch_op.drop_constraint("ck_appointment_times", type_="check")
        batch_op.drop_constraint("ck_appointment_sequence", type_="check")
        batch_op.drop_constraint("ck_appointment_status", type_="check")
        batch_op.drop_column("changed_at")
        batch_op.drop_column("sequence")
        batch_op.drop_column("status")
        batch_op.create_unique_constraint("uq_appointment_case_step", ["case_id", "step_key"])

    with op.batch_alter_table("case_step", schema=None) as batch_op:
        batch_op.drop_constraint("ck_step_no_shows", type_="check")
        batch_op.drop_constraint("ck_step_state", type_="check")
        batch_op.drop_column("no_shows")
        batch_op.drop_column("needs_review")

    op.drop_index("uq_case_open_child", table_name="essence_case")
    if not _sqlite():
        op.drop_constraint("ck_case_guardians", "essence_case", type_="check")
        op.drop_constraint("ck_case_state", "essence_case", type_="check")
    op.add_column(
        "essence_case",
        sa.Column("consenting", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("essence_case", sa.Column("consent_recorded_on", sa.Date(), nullable=True))
    counts: dict[str, tuple[int, object]] = {}
    for row in bind.execute(
        sa.select(
            consent_table.c.case_id,
            consent_table.c.guardian,
            consent_table.c.status,
            consent_table.c.given_on,
        )
    ):
        given, last = counts.get(row.case_id, (0, None))
        if row.status == "given":
            given += 1
        last = row.given_on if last is None or row.given_on > last else last
        counts[row.case_id] = (given, last)
    for case_id, (given, last) in counts.items():
        bind.execute(
            case_table.update()
            .where(case_table.c.id == case_id)
            .values(consenting=given, consent_recorded_on=last)
        )
    for row in bind.execute(
        sa.select(case_table.c.id, case_table.c.paused_from).where(case_table.c.state == "paused")
    ).all():
        bind.execute(
            case_table.update()
            .where(case_table.c.id == row.id)
            .values(state=row.paused_from or "consented")
        )
    op.drop_table("guardian_consent")
    if _sqlite():
        op.execute("ALTER TABLE essence_case DROP COLUMN paused_from")
    else:
        op.drop_column("essence_case", "paused_from")

    for row in bind.execute(
        sa.select(template_table.c.id, template_table.c.content)
    ).all():
        content = json.loads(row.content)
        for step in content.get("steps", []):
            step.pop("skippable", None)
        _store_template(bind, row.id, content)


def _one_appointment_per_step(bind: sa.Connection) -> None:
    """Keep one appointment per step for the old unique constraint: the booked one, else
    the latest attended one; cancelled and missed appointments cannot be told apart there."""
    rows = bind.execute(
        sa.select(
            appointment_table.c.id,
            appointment_table.c.case_id,
            appointment_table.c.step_key,
            appointment_table.c.status,
            appointment_table.c.start,
        )
    ).all()
    keep: dict[tuple[str, str], tuple[int, object, int]] = {}
    rank = {"booked": 2, "attended": 1}
    for row in rows:
        if row.status not in rank:
            continue
        key = (row.case_id, row.step_key)
        candidate = (rank[row.status], row.start, row.id)
        if key not in keep or candidate > keep[key]:
            keep[key] = candidate
    kept = {value[2] for value in keep.values()}
    doomed = [row.id for row in rows if row.id not in kept]
    for start in range(0, len(doomed), 500):
        bind.execute(
            appointment_table.delete().where(appointment_table.c.id.in_(doomed[start : start + 500]))
        )
