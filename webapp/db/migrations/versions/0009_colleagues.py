"""colleagues: role locations, one-time account links, organisation settings (two-factor
sign-in, OpenID Connect), TOTP secrets, and the access log

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import webapp.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Existing role rows get no location limit (null: every location), as before.
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locations", sa.JSON(), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", webapp.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", webapp.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", webapp.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", webapp.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_table(
        "organisation_settings",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("two_factor_required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("oidc_name", sa.String(length=100), nullable=True),
        sa.Column("oidc_issuer", sa.String(length=500), nullable=True),
        sa.Column("oidc_client_id", sa.String(length=300), nullable=True),
        sa.Column("oidc_client_secret", sa.String(length=1000), nullable=True),
        sa.Column("oidc_groups_claim", sa.String(length=100), nullable=True),
        sa.Column("oidc_role_map", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.String(length=254), nullable=True),
        sa.Column("updated_at", webapp.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("organisation_id"),
    )
    op.create_table(
        "access_log",
        sa.Column("id", BigId, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", BigId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("view", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", webapp.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_org_time", "access_log", ["organisation_id", "occurred_at"], unique=False)
    op.create_index("ix_access_log_instance_id", "access_log", ["instance_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_access_log_instance_id", table_name="access_log")
    op.drop_index("ix_access_log_org_time", table_name="access_log")
    op.drop_table("access_log")
    op.drop_table("organisation_settings")
    op.drop_table("account_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_column("locations")
