"""CSRF: a request that changes state with the session cookie must carry the session's token; bearer-token
calls need none, as a browser never adds that header by itself."""

from __future__ import annotations

import hashlib
import hmac

CSRF_HEADER = "X-CSRF-Token"
CSRF_FAILED = "Formularen er udløbet eller mangler sit sikkerhedstoken (CSRF). Genindlæs siden, og prøv igen."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_secret: str) -> str:
    """The session's CSRF token: derived from its secret, so it is bound to it and needs no storage."""
    return hashlib.sha256(b"kai-csrf:" + session_secret.encode()).hexdigest()


def csrf_matches(session_secret: str, candidate: str | None) -> bool:
    return bool(candidate) and hmac.compare_digest(csrf_token(session_secret), candidate or "")
