"""channels and documents: when a complaint was really received, by which channel, registered
late or not; files kept with a complaint; the overseer told once of an overdue task

Revision ID: 0010
Revises: 0009
"""

import re

import sqlalchemy as sa
from alembic import op

import webapp.db.types
from webapp.runtime import clock

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_KANAAL = re.compile(r'"kanaal"\s*:\s*"([a-z_-]{1,20})"')


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): a batch rebuild of instances on SQLite trips the foreign keys to it.
    op.add_column("instances", sa.Column("received_at", webapp.db.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column("instances", sa.Column("channel", sa.String(length=20), nullable=True))
    op.add_column("instances", sa.Column("registered_late", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    # Every complaint so far was registered the moment it came in. The column stays nullable: making
    # it NOT NULL would rebuild the instances table on SQLite, which the foreign keys to it forbid;
    # the runtime always sets it.
    op.execute("UPDATE instances SET received_at = created_at")
    _carry_channels()
    op.add_column("human_tasks", sa.Column("overdue_notified_at", webapp.db.types.UTCDateTime(timezone=True),
                                           nullable=True))
    # Tasks already overdue at the upgrade count as told: no flood of old news to the overseer.
    tasks = sa.table("human_tasks", sa.column("state", sa.String),
                     sa.column("due_at", webapp.db.types.UTCDateTime(timezone=True)),
                     sa.column("overdue_notified_at", webapp.db.types.UTCDateTime(timezone=True)))
    op.get_bind().execute(tasks.update().where(tasks.c.state == "ready", tasks.c.due_at < clock.now())
                          .values(overdue_notified_at=tasks.c.due_at))
    op.create_table(
        "documents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("added_by", sa.String(length=254), nullable=False),
        sa.Column("added_at", webapp.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("not_shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_documents_instance_id", "documents", ["instance_id"], unique=False)


def _carry_channels() -> None:
    """The channel of existing complaints from their data's `kanaal`, where present (the intake
    data kept at a failed intake, else the stored workflow state)."""
    bind = op.get_bind()
    instances = sa.table("instances", sa.column("id", sa.Integer), sa.column("state", sa.Text),
                         sa.column("start_data", sa.JSON), sa.column("channel", sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(instances.c.id, instances.c.state, instances.c.start_data)
                            .where(instances.c.id > last).order_by(instances.c.id).limit(500)).all()
        if not rows:
            return
        for row in rows:
            channel = None
            if isinstance(row.start_data, dict) and isinstance(row.start_data.get("kanaal"), str):
                channel = row.start_data["kanaal"][:20]
            elif row.state and (match := _KANAAL.search(row.state)):
                channel = match.group(1)
            if channel:
                bind.execute(instances.update().where(instances.c.id == row.id).values(channel=channel))
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_documents_instance_id", table_name="documents")
    op.drop_table("documents")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_column("overdue_notified_at")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("registered_late")
        batch_op.drop_column("channel")
        batch_op.drop_column("received_at")
