"""Engine, sessions and the declarative base shared by every service's tables.

Only portable SQLAlchemy constructs are used, so the same models run on SQLite (default) and PostgreSQL;
the schema is created and changed by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 7_262_001  # any constant; it names kai's migration lock on a shared PostgreSQL server


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite returns naive ones for timezone-aware columns, and kai
    stores UTC throughout."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012 - SQLAlchemy's own hook


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the API read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """One engine and session factory per database URL, created by the app or CLI and passed down."""

    def __init__(self, url: str) -> None:
        self.url = url
        is_sqlite = url.startswith("sqlite")
        self.engine: Engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30} if is_sqlite else {},
            pool_pre_ping=not is_sqlite,
        )
        if is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for kai's migrations, running on ``connection``."""
    # Alembic is imported when a database is opened, not with every table (a third of a second for commands
    # such as `kai minutes draft` that open none).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _sqlite_file_lock(db: Database) -> Iterator[None]:
    """SQLite's half of the migration lock: a lock file beside the database, held past the commit."""
    database = db.engine.url.database
    if db.engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def _revision_before_migrations(tables: set[str]) -> str:
    """Where a database from before migrations stands: with web logins (0002) or the pilot's (0001)."""
    return "0002" if "web_sessions" in tables else "0001"


def migrate(db: Database) -> None:
    """Bring the database schema to the newest migration (SQLite or PostgreSQL alike).

    Processes that start together (several API workers) migrate one after the other: a lock file for SQLite,
    a transaction-scoped advisory lock on PostgreSQL.
    """
    from alembic import command

    with _sqlite_file_lock(db), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if tables and "alembic_version" not in tables:
            command.stamp(config, _revision_before_migrations(tables))
        # A new database is built by the migrations too (as fast as creating the models' schema at once, and
        # it needs no service's tables imported: tests/common/test_migrations.py proves the two are equal).
        command.upgrade(config, "head")


def open_database(url: str) -> Database:
    """A ready database: connected and migrated to the newest schema (the app, CLI and workers start here)."""
    db = Database(url)
    migrate(db)
    return db
