"""``authgate admin``: bootstrap the first owner, manage organizations and users."""

from __future__ import annotations

import secrets
import sys

import typer

from authgate.cli.common import out, run, runtime, settings_or_exit
from authgate.identity.deps import Actor
from authgate.identity.emails import normalise_email

app = typer.Typer(
    help="Organizations and users, from the server's own machine.", no_args_is_help=True
)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
app.add_typer(user_app, name="user")

CLI_ACTOR = Actor(None, "cli")


def _password(generate: bool) -> tuple[str, bool]:
    if generate or not sys.stdin.isatty():
        return secrets.token_urlsafe(18), True
    value = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(value), False


@app.command()
def bootstrap(
    email: str = typer.Option(..., help="The first owner's email address."),
    org: str = typer.Option(..., help="The organization's slug, e.g. acme."),
    name: str = typer.Option("", help="The organization's display name (default: the slug)."),
    display_name: str = typer.Option("", help="The owner's name (default: from the email)."),
    generate_password: bool = typer.Option(
        False, "--generate-password", help="Generate a password instead of asking for one."
    ),
) -> None:
    """Create an organization and its first OWNER (asks for, or generates, a password)."""
    settings = settings_or_exit()
    password, generated = _password(generate_password)

    async def main() -> None:
        async with runtime(settings) as rt:
            services = rt.services
            user = await services.accounts.create_user(
                email, password, display_name or email.split("@", 1)[0]
            )
            created = await services.organizations.create(org, name or org, user, CLI_ACTOR)
            await services.deps.audit("bootstrap", CLI_ACTOR, org_id=created.id, subject=user.id)
            out.print(
                f"Created organization [bold]{created.slug}[/] with owner [bold]{user.email}[/].",
                highlight=False,
            )
            if generated:
                out.print(
                    f"Generated password (shown once): {password}", highlight=False, soft_wrap=True
                )

    run(main)


@app.command("create-org")
def create_org(
    slug: str = typer.Argument(..., help="The new organization's slug."),
    owner: str = typer.Option(..., help="Email of an existing user who becomes OWNER."),
    name: str = typer.Option("", help="Display name (default: the slug)."),
) -> None:
    """Create another organization owned by an existing user."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            user = await rt.services.deps.store.users.get_by_email(normalise_email(owner))
            if user is None:
                raise typer.BadParameter(f"no user with the email {owner}")
            created = await rt.services.organizations.create(slug, name or slug, user, CLI_ACTOR)
            out.print(f"Created organization [bold]{created.slug}[/].", highlight=False)

    run(main)


@app.command("org-domains")
def org_domains(
    slug: str = typer.Argument(..., help="The organization's slug."),
    add: list[str] = typer.Option([], "--add", help="A domain to verify (repeatable)."),
    remove: list[str] = typer.Option([], "--remove", help="A domain to drop (repeatable)."),
) -> None:
    """Verify email domains for an organization after checking ownership out of band."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            org = await rt.services.organizations.set_domains_as_operator(
                slug, add, remove, CLI_ACTOR
            )
            out.print(
                f"{org.slug}: {', '.join(org.domains) or 'no verified domains'}", highlight=False
            )

    run(main)


def _set_disabled(email: str, disabled: bool) -> None:
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            user = await rt.services.accounts.set_disabled(email, disabled, CLI_ACTOR)
            state = "disabled; every session ended" if disabled else "enabled"
            out.print(f"{user.email} is {state}.", highlight=False)

    run(main)


@user_app.command("disable")
def disable_user(email: str) -> None:
    """Disable a user: sign-in fails and every refresh token stops working at once."""
    _set_disabled(email, True)


@user_app.command("enable")
def enable_user(email: str) -> None:
    """Re-enable a disabled user."""
    _set_disabled(email, False)
