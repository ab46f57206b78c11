"""Users, roles, passwords, web sessions and API tokens, and the FastAPI dependencies that check them.

Roles are the municipality's kinds of users. A token is scoped to a role (never above its user's) and can be
revoked; only its sha256 is stored, since tokens are long random secrets. People in a browser log in with a
password (argon2) and get a server-side session: the cookie holds a random secret, the database its sha256, so
logging out (or a new password) revokes it at once. Requests that change state with the session cookie must
carry the session's CSRF token; bearer-token calls need none, as a browser never adds that header by itself.

One concern a module, in the order they build on each other: ``models`` (roles, the tables, the principal),
``passwords``, ``users`` (accounts and the login check), ``tokens``, ``sessions``, ``csrf``, ``dependencies``
(FastAPI). This package's names below are its public face: callers write ``auth.Role``, ``auth.add_user``.
"""

from services.common.auth.csrf import CSRF_FAILED, CSRF_HEADER, SAFE_METHODS, csrf_matches, csrf_token
from services.common.auth.dependencies import (
    PRINCIPAL_STATE,
    PrincipalDep,
    authenticate_request,
    require_roles,
)
from services.common.auth.models import (
    LOCAL_OPERATOR,
    Principal,
    Role,
    User,
    parse_role,
)
from services.common.auth.passwords import hash_password
from services.common.auth.sessions import (
    SESSION_COOKIE,
    create_session,
    principal_for_session,
    revoke_session,
)
from services.common.auth.tokens import create_token, principal_for_token, revoke_token
from services.common.auth.users import (
    LOGIN_FAILED,
    add_user,
    authenticate,
    ensure_admin,
    set_password,
    unlock_user,
)

__all__ = [
    "CSRF_FAILED",
    "CSRF_HEADER",
    "LOCAL_OPERATOR",
    "LOGIN_FAILED",
    "PRINCIPAL_STATE",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Principal",
    "PrincipalDep",
    "Role",
    "User",
    "add_user",
    "authenticate",
    "authenticate_request",
    "create_session",
    "create_token",
    "csrf_matches",
    "csrf_token",
    "ensure_admin",
    "hash_password",
    "parse_role",
    "principal_for_session",
    "principal_for_token",
    "require_roles",
    "revoke_session",
    "revoke_token",
    "set_password",
    "unlock_user",
]
