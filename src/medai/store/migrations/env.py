"""Alembic environment: runs migrations on the connection medai hands over (or the configured URL)."""

from alembic import context

from medai.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    from medai.store.db import make_engine
    from medai.config import get_settings

    connection = make_engine(get_settings().resolved_database_url()).connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
