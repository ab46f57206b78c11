"""Helpers for chatbot tests: files to ingest and API credentials."""

from __future__ import annotations

from pathlib import Path

from services.common import auth
from services.common.db import Database


def bearer(db: Database, name: str, role: auth.Role) -> dict[str, str]:
    auth.add_user(db, name, role)
    _, secret = auth.create_token(db, name)
    return {"Authorization": f"Bearer {secret}"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
