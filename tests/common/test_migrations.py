"""The Alembic migrations: they build exactly the models' schema, adopt pre-migration databases, go down and
up again, and let processes that start together wait for each other. SQLite, and PostgreSQL in its pass."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from services.common import auth
from services.common.config import Settings
from services.common.db import (
    MIGRATIONS_DIR,
    Base,
    Database,
    alembic_config,
    open_database,
)
from services.mailsort import service as mailsort
from services.registry import import_tables

import_tables()  # every service's tables on Base.metadata, to compare the migrations with


def _empty(db: Database) -> None:
    """Drop every table (the fixture's database was created by ``open_database``)."""
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def _schema_differences(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_migrations_build_exactly_the_models_schema(db: Database) -> None:
    _empty(db)
    _upgrade(db)
    assert _schema_differences(db) == []


def test_a_new_database_is_created_at_the_newest_revision(db: Database) -> None:
    # open_database builds a new database with the migrations: it must equal the models' schema.
    assert _schema_differences(db) == []
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == _head()


def _head() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_down_and_up_again(db: Database) -> None:
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    _upgrade(db)
    assert _schema_differences(db) == []


def test_pilot_database_from_before_migrations_is_adopted(db: Database, settings: Settings) -> None:
    # A database as the pilot created it: its tables, no web logins, no alembic_version, some data.
    _empty(db)
    _upgrade(db, "0001")
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text("INSERT INTO users (name, role, created_at) VALUES ('gammel', 'it', :at)"),
            {"at": datetime(2026, 1, 2, 3, 4, 5)},
        )
        connection.execute(
            text(
                "INSERT INTO mail_models (version, file, created_at, active, trained_on, corrections, "
                "metrics, note) VALUES ('v1', 'router-v1.joblib', :at, false, 10, 0, '{}', 'old')"
            ),
            {"at": datetime(2026, 1, 2, 3, 4, 5)},
        )
    db.dispose()

    adopted = open_database(settings.resolved_database_url)
    try:
        assert _schema_differences(adopted) == []
        auth.set_password(adopted, "gammel", "en-lang-adgangskode")
        attempt = auth.authenticate(adopted, settings, "gammel", "en-lang-adgangskode", "192.0.2.1")
        assert attempt.principal is not None
        [old] = mailsort.list_models(adopted)
        # Models from before candidates count as having been in use since they were made.
        assert old.comparison is None
        assert old.activated_at is not None and old.activated_at.replace(
            tzinfo=None
        ) == old.created_at.replace(tzinfo=None)
    finally:
        adopted.dispose()


def test_processes_starting_together_migrate_one_after_the_other(settings: Settings) -> None:
    settings.prepare_dirs()
    starter = "import sys; from services.common.db import open_database; open_database(sys.argv[1]).dispose()"
    url = settings.resolved_database_url
    processes = [
        subprocess.Popen([sys.executable, "-c", starter, url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
