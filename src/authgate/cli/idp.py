"""``authgate idp``: organizations' identity providers (SSO), on the server's machine.

The client secret is read from a file, or from standard input when the file is ``-``,
never from the command line; nothing printed contains it. Changing or removing an IdP ends
the sessions it created.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import typer

from authgate.cli.common import fail, out, run, runtime, settings_or_exit
from authgate.cli.signed_fetch import read_secret
from authgate.federation.admin import IdpAdmin
from authgate.federation.logins import CALLBACK_PATH
from authgate.federation.models import Endpoints, IdpConfig, IdpSpec, IdpType, Provisioning
from authgate.federation.validation import MAX_SECRET_CHARS
from authgate.identity.deps import Actor

app = typer.Typer(
    help="Identity providers for single sign-on: Entra ID, Okta, any OpenID provider.",
    no_args_is_help=True,
)

CLI_ACTOR = Actor(None, "cli")
ORG = typer.Option(..., "--org", help="The organization's slug.")
NAME = typer.Argument(..., help="The IdP's name in the organization (e.g. entra).")


def _say(line: str) -> None:
    # Names and URLs are an administrator's text: never read as console markup.
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _with_admin(action: Callable[[IdpAdmin, str], Awaitable[None]]) -> None:
    """Run ``action`` with the IdP administration and authgate's issuer."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            federation = rt.services.federation
            if federation is None:
                fail("single sign-on is not available on this server")
            await action(federation.admin, settings.issuer)

    run(main)


def _describe(idp: IdpConfig, issuer: str) -> list[str]:
    lines = [
        f"{idp.name}  {idp.type.value}  {'enabled' if idp.enabled else 'disabled'}  "
        f"version {idp.version} (secret version {idp.secret_version})",
        f"  issuer          {idp.issuer}",
        f"  client id       {idp.client_id}",
        f"  domains         {', '.join(idp.domains)}",
        f"  scopes          {' '.join(idp.scopes)}",
        f"  redirect URI    {issuer}{CALLBACK_PATH}  (register it at the IdP)",
    ]
    if idp.tenants:
        lines.append(f"  tenants         {', '.join(idp.tenants)}")
    if idp.device_client_id:
        lines.append(f"  device client   {idp.device_client_id}")
    return lines


@app.command("put")
def put(
    name: str = NAME,
    org: str = ORG,
    type_: IdpType = typer.Option(..., "--type", help="entra, okta or oidc."),
    issuer: str = typer.Option(..., help="The issuer, exactly as its metadata states it."),
    client_id: str = typer.Option(..., help="authgate's client id at the IdP."),
    client_secret_file: str | None = typer.Option(
        None, help="File holding the client secret ('-': standard input); omit to keep it."
    ),
    domain: list[str] = typer.Option(..., help="An email domain the IdP serves (repeat)."),
    tenant: list[str] = typer.Option([], help="Entra ID: an allowed tenant id (repeat)."),
    scope: list[str] = typer.Option([], help="A scope (repeat; default openid email profile)."),
    device_client_id: str | None = typer.Option(None, help="The device app's client id."),
    display_name: str = typer.Option("", help="The name people see."),
    pkce: bool = typer.Option(True, help="Send a PKCE challenge (RFC 7636)."),
    nonce: bool = typer.Option(True, help="Send a nonce (OpenID Connect)."),
    enabled: bool = typer.Option(True, help="Whether people may sign in with it."),
    authorization_endpoint: str | None = typer.Option(None, help="Instead of discovery."),
    token_endpoint: str | None = typer.Option(None, help="Instead of discovery."),
    jwks_uri: str | None = typer.Option(None, help="Instead of discovery."),
    end_session_endpoint: str | None = typer.Option(None, help="Instead of discovery."),
) -> None:
    """Add an IdP, or replace it (which ends the sessions it created)."""
    secret = (
        read_secret(client_secret_file, "--client-secret-file", MAX_SECRET_CHARS)
        if client_secret_file
        else None
    )
    endpoints = None
    if authorization_endpoint or token_endpoint or jwks_uri or end_session_endpoint:
        if not (authorization_endpoint and token_endpoint and jwks_uri):
            fail("give --authorization-endpoint, --token-endpoint and --jwks-uri together")
        endpoints = Endpoints(
            authorization_endpoint, token_endpoint, jwks_uri, end_session_endpoint
        )
    spec = IdpSpec(
        type=type_,
        issuer=issuer,
        client_id=client_id,
        client_secret=secret,
        scopes=tuple(scope) or ("openid", "email", "profile"),
        pkce=pkce,
        nonce=nonce,
        domains=tuple(domain),
        tenants=tuple(tenant),
        endpoints=endpoints,
        device_client_id=device_client_id,
        display_name=display_name,
        enabled=enabled,
    )

    async def action(admin: IdpAdmin, own_issuer: str) -> None:
        idp, created = await admin.put(await admin.org_as_operator(org), name, spec, CLI_ACTOR)
        _say(f"{'Added' if created else 'Replaced'} identity provider {idp.name} in {org}:")
        for line in _describe(idp, own_issuer):
            _say(line)

    _with_admin(action)


@app.command("list")
def list_idps(org: str = ORG) -> None:
    """The organization's IdPs and SSO settings (never a secret)."""

    async def action(admin: IdpAdmin, own_issuer: str) -> None:
        found = await admin.org_as_operator(org)
        settings = await admin.settings(found)
        _say(
            f"{org}: provisioning {settings.provisioning.value}, SSO "
            f"{'enforced' if settings.enforce_sso else 'optional'}"
            + (f", solutions {', '.join(settings.solutions)}" if settings.solutions else "")
        )
        idps = await admin.idps(found)
        if not idps:
            _say("no identity providers")
        for idp in idps:
            for line in _describe(idp, own_issuer):
                _say(line)

    _with_admin(action)


@app.command("delete")
def delete(name: str = NAME, org: str = ORG) -> None:
    """Remove an IdP; the sessions it created end."""

    async def action(admin: IdpAdmin, _: str) -> None:
        ended = await admin.delete(await admin.org_as_operator(org), name, CLI_ACTOR)
        _say(f"Removed identity provider {name} from {org}; {ended} session(s) ended.")

    _with_admin(action)


@app.command("settings")
def settings_command(
    org: str = ORG,
    provisioning: Provisioning | None = typer.Option(
        None, help="auto, invite_only or request_access."
    ),
    enforce_sso: bool | None = typer.Option(
        None, "--enforce-sso/--no-enforce-sso", help="Refuse password sign-in to members."
    ),
    solution: list[str] | None = typer.Option(
        None, help="A solution people provisioned automatically get (repeat)."
    ),
) -> None:
    """Change the organization's SSO settings (only the options given)."""

    async def action(admin: IdpAdmin, _: str) -> None:
        changed = await admin.update_settings(
            await admin.org_as_operator(org),
            CLI_ACTOR,
            provisioning=provisioning,
            enforce_sso=enforce_sso,
            solutions=solution or None,
        )
        _say(
            f"{org}: provisioning {changed.provisioning.value}, SSO "
            f"{'enforced' if changed.enforce_sso else 'optional'}, solutions "
            f"{', '.join(changed.solutions) or 'none'}"
        )

    _with_admin(action)
