"""What the security tests share: users and roles, test recordings, and a handle on a running kai."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.common.auth import Role
from services.common.config import Settings, shared_data_dir
from services.common.db import Database

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = shared_data_dir()
JFK = SHARED_DATA / "audio_en" / "jfk.flac"
DANISH_WAV = SHARED_DATA / "audio_da" / "u0013002.wav"
MODEL_CACHE = REPO / "var" / "models"
PASSWORD = "sikkerhed-test-kodeord"

# Who is who: the meeting's owner, a colleague it is never shared with, a colleague it is shared with by
# name, a caseworker it is shared with through her role, and an administrator.
OWNER, OUTSIDER, NAMED, CASEWORKER, ADMIN = "ejer", "kollega", "bob", "sara", "chef"
USERS = {
    OWNER: Role.MEDARBEJDER,
    OUTSIDER: Role.MEDARBEJDER,
    NAMED: Role.MEDARBEJDER,
    CASEWORKER: Role.SAGSBEHANDLER,
    ADMIN: Role.ADMIN,
}


@dataclass
class Kai:
    """A running kai (the app with its job runner) and a bearer header for each user."""

    client: TestClient
    settings: Settings
    db: Database
    headers: dict[str, dict[str, str]]

    def as_user(
        self, user: str, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self.client.request(method, path, headers={**self.headers[user], **(headers or {})}, **kwargs)

    def browser(self, user: str) -> TestClient:
        """A browser logged in as ``user`` (session cookie; the pages need one)."""
        browser = TestClient(self.client.app)
        page = browser.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match is not None
        form = {"username": user, "password": PASSWORD, "csrf_token": match.group(1), "next": "/"}
        assert browser.post("/login", data=form, follow_redirects=False).status_code == 303
        return browser

    def upload(self, user: str, path: Path, name: str | None = None, **form: str) -> httpx.Response:
        return self.as_user(
            user,
            "POST",
            "/api/minutes/meetings",
            files={"file": (name or path.name, path.read_bytes())},
            data=form,
        )

    def wait_done(self, user: str, meeting_id: str, timeout: float = 240.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            meeting = self.as_user(user, "GET", f"/api/minutes/meetings/{meeting_id}").json()
            if meeting["job"]["status"] in ("done", "failed", "cancelled"):
                return meeting
            time.sleep(0.2)
        raise AssertionError(f"the job of {meeting_id} did not finish")
