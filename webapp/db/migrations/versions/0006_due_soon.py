"""warn staff when a task's deadline nears

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import webapp.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_soon_notified_at", webapp.db.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index("ix_human_tasks_state_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_state_due")
        batch_op.drop_column("due_soon_notified_at")
