"""The real Redis and PostgreSQL servers some tests need (.ci/services-setup.sh starts them in CI).

Locally a missing server skips those tests with the reason; in CI (``CI`` set) it fails them, so a missing
install step cannot hide behind a skip.
"""

from __future__ import annotations

import os

import pytest

# Database 15 keeps the tests away from a developer's own data in database 0.
TEST_REDIS_URL = os.environ.get("KAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unavailable(what: str, reason: str) -> None:
    """Skip locally, fail in CI."""
    message = f"{what} is not reachable ({reason}); run .ci/services-setup.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
