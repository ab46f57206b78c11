"""``kai users …`` and ``kai tokens …``: people, their roles, and API tokens for integrations."""

from __future__ import annotations

from typing import Annotated

import typer

from services.common import auth
from services.common.console import console, exit_on_error, open_cli_database

users_app = typer.Typer(help="Brugere og roller.", no_args_is_help=True)
tokens_app = typer.Typer(help="API-tokens til integrationer.", no_args_is_help=True)


def _prompt_password() -> str:
    # Prompted, never an argument: a password on the command line ends up in the shell history.
    return typer.prompt("Adgangskode", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="medarbejder, sagsbehandler, it, ledelse or admin.")],
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password so the user can log in on the web.")
    ] = False,
) -> None:
    """Add a user with a role (and, with --password, a web login)."""
    with exit_on_error():
        parsed = auth.parse_role(role)
        secret = _prompt_password() if password else None
        if secret is not None:
            auth.hash_password(secret)  # refuse a too short password before the user is created
        db = open_cli_database()[0]
        user = auth.add_user(db, name, parsed)
        if secret is not None:
            auth.set_password(db, user.name, secret)
    console.print(f"Bruger '{user.name}' oprettet med rollen {user.role}.")


@users_app.command("passwd")
def set_password(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Set a user's web password; ends the account's wait after failed logins and logs the user out
    everywhere."""
    with exit_on_error():
        db = open_cli_database()[0]
        auth.set_password(db, name, _prompt_password())
    console.print(f"Adgangskoden for '{name}' er ændret.")


@users_app.command("unlock")
def unlock(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """End the account's wait after failed logins (the next attempt is checked at once)."""
    with exit_on_error():
        auth.unlock_user(open_cli_database()[0], name)
    console.print(f"'{name}' kan logge ind igen.")


@users_app.command("ensure-admin")
def ensure_admin() -> None:
    """Create the user 'admin' with a random password if kai has no admin yet (safe to run again)."""
    with exit_on_error():
        password = auth.ensure_admin(open_cli_database()[0])
    if password is None:
        console.print("Der findes allerede en administrator.")
        return
    console.print("Administratoren 'admin' er oprettet. Log ind på /login med denne adgangskode")
    console.print("(den vises kun nu – skift den med 'kai users passwd admin'):")
    typer.echo(password)


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option(help="The user the token acts for.")],
    role: Annotated[str | None, typer.Option(help="Role scope (default: the user's role).")] = None,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create an API token; the secret is printed once and cannot be shown again."""
    with exit_on_error():
        token, secret = auth.create_token(
            open_cli_database()[0], user, auth.parse_role(role) if role else None, label
        )
    console.print(f"Token {token.id} ({token.role}) for {user}:")
    typer.echo(secret)


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument(help="The token's number.")]) -> None:
    """Revoke a token; requests with it are refused from now on."""
    with exit_on_error():
        auth.revoke_token(open_cli_database()[0], token_id)
    console.print(f"Token {token_id} er tilbagekaldt.")
