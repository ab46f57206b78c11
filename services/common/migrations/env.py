"""Alembic environment: migrations run on the connection ``db.migrate`` hands in, or on KAI_DATABASE_URL when
the ``alembic`` command is used directly (``alembic revision --autogenerate -m ...`` in development).

Only autogenerate compares against the models: then, and only then, the composition root imports every
service's tables (this script is an entry point run by Alembic, not a kernel module anything imports)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from services.common.config import get_settings
from services.common.db import Base


def _configure_and_run(connection, target_metadata=None) -> None:  # type: ignore[no-untyped-def]
    # Batch mode lets the same migration alter tables on SQLite, which has almost no ALTER TABLE.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:
    from services.registry import import_tables

    import_tables()
    engine = create_engine(get_settings().resolved_database_url)
    with engine.connect() as own_connection:
        _configure_and_run(own_connection, Base.metadata)
    engine.dispose()
