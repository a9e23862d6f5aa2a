"""diagram drafts; what changed in each deployed diagram version

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import webapp.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "diagram_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("dependencies", sa.JSON(), nullable=False),
        sa.Column("based_on_version_id", sa.Integer(), nullable=True),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.Column("saved_at", webapp.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["based_on_version_id"], ["diagram_versions.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("diagram_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diagram_drafts_organisation_id"), ["organisation_id"], unique=False)
    with op.batch_alter_table("diagram_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("diagram_versions", schema=None) as batch_op:
        batch_op.drop_column("changes")
    with op.batch_alter_table("diagram_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diagram_drafts_organisation_id"))
    op.drop_table("diagram_drafts")
