"""Alembic environment: always run in-process on the connection the Library hands over."""

from alembic import context

from app.library.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
