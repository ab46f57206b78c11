"""API credentials for tests: a new user and the bearer header of a token for it."""

from __future__ import annotations

from services.common import auth
from services.common.config import Settings
from services.common.db import Database, open_database


def bearer(db: Database, name: str, role: auth.Role = auth.Role.MEDARBEJDER) -> dict[str, str]:
    """Add the user ``name`` with ``role`` and return an Authorization header with a new token of theirs."""
    auth.add_user(db, name, role)
    _, secret = auth.create_token(db, name, label="tests")
    return {"Authorization": f"Bearer {secret}"}


def bearer_for(settings: Settings, name: str, role: auth.Role = auth.Role.MEDARBEJDER) -> dict[str, str]:
    """``bearer`` on the database of ``settings`` (a test's own kai)."""
    settings.prepare_dirs()
    db = open_database(settings.resolved_database_url)
    try:
        return bearer(db, name, role)
    finally:
        db.dispose()
