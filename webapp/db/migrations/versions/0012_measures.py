"""measures: the register of agreed measures, their follow-up, and published reports

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import webapp.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = webapp.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "measures",
        sa.Column("id", BigId, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", BigId, nullable=True),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible_role", sa.String(length=64), nullable=True),
        sa.Column("responsible_person", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("feedback_letter", sa.Boolean(), nullable=False),
        sa.Column("follow_up_at", Moment, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("closed_at", Moment, nullable=True),
        sa.Column("closed_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_measures_org_status", "measures", ["organisation_id", "status"])
    op.create_index("ix_measures_status_due", "measures", ["status", "due_on"])
    op.create_index("ix_measures_instance_id", "measures", ["instance_id"])
    op.create_table(
        "measure_complaints",
        sa.Column("measure_id", BigId, nullable=False),
        sa.Column("instance_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(["measure_id"], ["measures.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("measure_id", "instance_id"),
    )
    op.create_index("ix_measure_complaints_instance_id", "measure_complaints", ["instance_id"])
    op.create_table(
        "published_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("prepared_at", Moment, nullable=False),
        sa.Column("prepared_by", sa.String(length=254), nullable=False),
        sa.Column("published_at", Moment, nullable=True),
        sa.Column("published_by", sa.String(length=254), nullable=True),
        sa.Column("ggd_sent_on", sa.Date(), nullable=True),
        sa.Column("ggd_recorded_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "kind", "period"),
    )
    op.create_table(
        "report_reminders",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sent_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "year"),
    )


def downgrade() -> None:
    op.drop_table("report_reminders")
    op.drop_table("published_reports")
    op.drop_index("ix_measure_complaints_instance_id", table_name="measure_complaints")
    op.drop_table("measure_complaints")
    op.drop_index("ix_measures_instance_id", table_name="measures")
    op.drop_index("ix_measures_status_due", table_name="measures")
    op.drop_index("ix_measures_org_status", table_name="measures")
    op.drop_table("measures")
