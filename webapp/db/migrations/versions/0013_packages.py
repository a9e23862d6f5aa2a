"""packages: a version's whole procedure (forms, letters, settings, scenarios) in the database;
platform administrators

Revision ID: 0013
Revises: 0012

Until this release the forms, letters and settings were read from the repository's folders at
run time, so every version in use ran on the files as they are now. Those files are carried into
every stored version and draft of the organisation whose template folder they are; an
organisation without a template folder keeps a null package (the runtime then reads its settings
from the configured templates, as the previous release did) until its next version is published.
"""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _template_packages() -> dict[str, dict[str, str]]:
    from webapp.runtime import packages
    from webapp.runtime.organisations import BPMN_ROOT

    folders = sorted(p.parent for p in BPMN_ROOT.glob("*/organisation.yaml"))
    folders += [Path(f) for f in os.environ.get("KLACHTROUTE_ORGANISATION_DIRS", "").split(os.pathsep) if f]
    result = {}
    for folder in folders:
        try:
            files = packages.read_template(folder)
            slug = str(packages.settings_of(files).get("slug"))
            result[slug] = packages.split(files)[1]
        except Exception:  # noqa: BLE001 - a broken template must not stop the upgrade; its versions keep null
            continue
    return result


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: on SQLite a batch recreates `users`, and dropping the
    # old table would cascade into user_roles.
    op.add_column("diagram_versions", sa.Column("files", sa.JSON(), nullable=True))
    op.add_column("diagram_drafts", sa.Column("files", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("platform_admin", sa.Boolean(), nullable=False, server_default=sa.false()))

    conn = op.get_bind()
    orgs = dict(conn.execute(sa.text("SELECT slug, id FROM organisations")).all())
    if not orgs:
        return
    versions = sa.table("diagram_versions", sa.column("organisation_id", sa.Integer), sa.column("files", sa.JSON))
    drafts = sa.table("diagram_drafts", sa.column("organisation_id", sa.Integer), sa.column("files", sa.JSON))
    for slug, files in _template_packages().items():
        if slug in orgs:
            for table in (versions, drafts):
                conn.execute(table.update().where(table.c.organisation_id == orgs[slug]).values(files=files))


def downgrade() -> None:
    op.drop_column("users", "platform_admin")
    op.drop_column("diagram_drafts", "files")
    op.drop_column("diagram_versions", "files")
