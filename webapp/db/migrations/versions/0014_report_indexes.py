"""report indexes: complaints by organisation and receipt; planner statistics of the per-complaint tables

Reports, exports and the reports page select an organisation's complaints received in a period;
without this index PostgreSQL filters every complaint of every organisation. On PostgreSQL the
planner also learns how many rows one complaint has in audit_events and human_tasks: sampled on a
table of millions it guesses one complaint has some 600 audit rows (it has tens), and then
prefers reading the whole table over the index for a year's complaints.

Revision ID: 0014
Revises: 0012 (rebase onto 0013 when merging)
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Distinct values as a fraction of the rows (negative = a fraction): some 20 audit rows and 3
# inbox rows per complaint; the order of magnitude is what the planner needs.
N_DISTINCT = {"audit_events": -0.05, "human_tasks": -0.3}


def upgrade() -> None:
    op.create_index("ix_instances_org_created", "instances", ["organisation_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        for table, fraction in N_DISTINCT.items():
            op.execute(f"ALTER TABLE {table} ALTER COLUMN instance_id SET (n_distinct = {fraction})")
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in N_DISTINCT:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN instance_id RESET (n_distinct)")
    op.drop_index("ix_instances_org_created", table_name="instances")
