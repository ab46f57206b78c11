"""``kai users …`` and ``kai tokens …``: people, their roles, and API tokens for integrations."""

from __future__ import annotations

from typing import Annotated

import typer

from services.common import auth
from services.common.config import get_settings
from services.common.console import console, exit_on_error
from services.common.db import Database, open_database

users_app = typer.Typer(help="Brugere og roller.", no_args_is_help=True)
tokens_app = typer.Typer(help="API-tokens til integrationer.", no_args_is_help=True)


def _db() -> Database:
    settings = get_settings()
    settings.prepare_dirs()
    return open_database(settings.resolved_database_url)


@users_app.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="medarbejder, sagsbehandler, it, ledelse or admin.")],
) -> None:
    """Add a user with a role."""
    with exit_on_error():
        user = auth.add_user(_db(), name, auth.parse_role(role))
    console.print(f"Bruger '{user.name}' oprettet med rollen {user.role}.")


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option(help="The user the token acts for.")],
    role: Annotated[str | None, typer.Option(help="Role scope (default: the user's role).")] = None,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create an API token; the secret is printed once and cannot be shown again."""
    with exit_on_error():
        token, secret = auth.create_token(_db(), user, auth.parse_role(role) if role else None, label)
    console.print(f"Token {token.id} ({token.role}) for {user}:")
    typer.echo(secret)


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument(help="The token's number.")]) -> None:
    """Revoke a token; requests with it are refused from now on."""
    with exit_on_error():
        auth.revoke_token(_db(), token_id)
    console.print(f"Token {token_id} er tilbagekaldt.")
