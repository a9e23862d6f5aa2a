"""Alembic environment: the connection comes from `webapp.db.migrate`."""

from alembic import context

from webapp.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `klachtroute db upgrade` (webapp.db.migrate)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
