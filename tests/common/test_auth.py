import pytest

from services.common import auth
from services.common.auth import Role
from services.common.db import Database
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized


def test_token_acts_for_its_user_in_its_role_until_revoked(db: Database) -> None:
    auth.add_user(db, "mette", Role.SAGSBEHANDLER)
    token, secret = auth.create_token(db, "mette", label="journal-integration")
    assert auth.principal_for_token(db, secret) == auth.Principal("mette", Role.SAGSBEHANDLER)
    assert secret not in token.token_sha256  # only the hash is stored
    auth.revoke_token(db, token.id)
    with pytest.raises(Unauthorized):
        auth.principal_for_token(db, secret)


def test_a_token_cannot_rise_above_its_user(db: Database) -> None:
    auth.add_user(db, "ali", Role.MEDARBEJDER)
    with pytest.raises(Forbidden):
        auth.create_token(db, "ali", Role.ADMIN)
    auth.add_user(db, "root", Role.ADMIN)
    _, secret = auth.create_token(db, "root", Role.MEDARBEJDER)
    assert auth.principal_for_token(db, secret).role == Role.MEDARBEJDER


def test_bad_user_input(db: Database) -> None:
    auth.add_user(db, "mette", Role.IT)
    with pytest.raises(Conflict):
        auth.add_user(db, "mette", Role.IT)
    with pytest.raises(InvalidInput):
        auth.parse_role("chef")
    with pytest.raises(NotFound):
        auth.create_token(db, "ukendt")
    with pytest.raises(Unauthorized):
        auth.principal_for_token(db, "kai_gættet")
