"""``containerguard token create --role ...``: a new API token for the store under $CONTAINERGUARD_HOME
(or ``CONTAINERGUARD_DATABASE_URL``)."""

from __future__ import annotations

from typing import Annotated

import typer

token_app = typer.Typer(no_args_is_help=True, help="API tokens of the server.")
ROLES = ("admin", "reader", "webhook", "agent")


@token_app.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help=" | ".join(ROLES))] = "reader",
    name: Annotated[str, typer.Option("--name", help="a label to recognise the token by")] = "",
) -> None:
    """Create a token and print it (only its hash is kept: copy it now)."""
    from containerguard.config import load_settings
    from containerguard.store.db import Store
    from containerguard.store.tokens import create_token

    store = Store.open(load_settings())
    try:
        with store.session() as session:
            token, _ = create_token(session, role, name=name)
    finally:
        store.close()
    typer.echo(token)
