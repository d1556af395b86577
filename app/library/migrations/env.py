"""Alembic environment: always run in-process on the connection the Library hands over."""

from alembic import context

# Both handed over by db.migrate(), so this script imports nothing of the package by name.
connection = context.config.attributes["connection"]
metadata = context.config.attributes.get("target_metadata")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
