"""``authgate oauth-client``: apps that sign people in with authgate, on the server's machine.

A confidential app's secret is printed once, when it is created or replaced, and never
again; authgate keeps only a keyed hash of it. Running servers see a change within
:data:`authgate.provider.clients.CACHE_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import typer

from authgate.cli.common import out, run, runtime, settings_or_exit
from authgate.errors import ServiceUnavailable
from authgate.identity.deps import Actor
from authgate.provider.client_metadata import ClientSpec
from authgate.provider.clients import CACHE_SECONDS, ClientRegistry
from authgate.provider.models import ApplicationType, AuthMethod, ClientType, OAuthClient

app = typer.Typer(
    help="Apps that sign people in with authgate (OAuth 2.0 / OpenID Connect clients).",
    no_args_is_help=True,
)

CLI_ACTOR = Actor(None, "cli")
ORG = typer.Option(..., "--org", help="The organization's slug.")
CLIENT_ID = typer.Argument(..., help="The app's client id (app_…).")
_REDIRECT = "A redirect URI, exactly as the app sends it (repeat)."
_LOGOUT = "Where the app may send people after sign-out (repeat)."
_GRANT = "authorization_code, refresh_token, client_credentials or the device_code URN (repeat)."
_SCOPE = "openid, profile, email or offline_access (repeat; default: by grant)."


def _say(line: str) -> None:
    # Names and URIs are an administrator's text: never read as console markup.
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _with_registry(action: Callable[[ClientRegistry], Awaitable[None]]) -> None:
    """Run ``action`` on the operator's client registry of this deployment."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            if rt.services.oauth_clients is None:
                raise ServiceUnavailable("the OAuth provider is not available on this server")
            await action(rt.services.oauth_clients.as_operator())

    run(main)


def _describe(client: OAuthClient) -> list[str]:
    lines = [
        f"{client.client_id}  {client.name}  {client.client_type.value} "
        f"{client.application_type.value} app"
        + ("  disabled" if client.disabled else "")
        + ("  (registered dynamically)" if client.dynamic else ""),
        f"  redirect URIs   {' '.join(client.redirect_uris) or '-'}",
        f"  grants          {' '.join(client.grant_types)}",
        f"  scopes          {' '.join(client.scopes) or '-'}",
        f"  authentication  {client.token_endpoint_auth_method.value}",
        f"  ID tokens       {client.id_token_signed_response_alg}",
    ]
    if client.post_logout_redirect_uris:
        lines.append(f"  after sign-out  {' '.join(client.post_logout_redirect_uris)}")
    if client.logo_uri:
        lines.append(f"  logo            {client.logo_uri}")
    return lines


def _print(client: OAuthClient, secret: str | None, headline: str) -> None:
    _say(headline)
    for line in _describe(client):
        _say(line)
    if secret is not None:
        _say(f"client secret: {secret}")
        _say("Store the secret now: it is shown only this once.")
    _say(f"Running servers see the change within {CACHE_SECONDS:g} s.")


@app.command("create")
def create(
    name: str = typer.Argument(..., help="The app's name, shown on the consent page."),
    org: str = ORG,
    redirect_uri: list[str] = typer.Option([], help=_REDIRECT),
    post_logout_redirect_uri: list[str] = typer.Option([], help=_LOGOUT),
    grant: list[str] = typer.Option(["authorization_code"], help=_GRANT),
    scope: list[str] | None = typer.Option(None, help=_SCOPE),
    client_type: ClientType | None = typer.Option(
        None, "--type", help="confidential (has a secret) or public (default: by --auth-method)."
    ),
    application_type: ApplicationType = typer.Option(
        ApplicationType.WEB, "--application-type", help="web, or native (RFC 8252 redirects)."
    ),
    auth_method: AuthMethod | None = typer.Option(
        None, help="client_secret_basic (default), client_secret_post, or none (public)."
    ),
    id_token_alg: str | None = typer.Option(None, help="RS256 (default) or EdDSA."),
    logo_uri: str | None = typer.Option(None, help="An https URL of the app's logo."),
) -> None:
    """Register an app; a confidential app's secret is printed once."""
    spec = ClientSpec(
        name=name,
        redirect_uris=tuple(redirect_uri),
        post_logout_redirect_uris=tuple(post_logout_redirect_uri),
        grant_types=tuple(grant),
        scopes=None if scope is None else tuple(scope),
        client_type=None if client_type is None else client_type.value,
        application_type=application_type.value,
        token_endpoint_auth_method=None if auth_method is None else auth_method.value,
        id_token_signed_response_alg=id_token_alg,
        logo_uri=logo_uri,
    )

    async def action(registry: ClientRegistry) -> None:
        client, secret = await registry.create(org, spec, CLI_ACTOR)
        _print(client, secret, f"Registered OAuth client {client.client_id} in {org}:")

    _with_registry(action)


@app.command("list")
def list_clients(org: str = ORG) -> None:
    """The organization's apps (never a secret)."""

    async def action(registry: ClientRegistry) -> None:
        found = await registry.list(org, CLI_ACTOR)
        if not found:
            _say(f"{org} has no OAuth clients.")
        for client in found:
            _say(
                f"{client.client_id}  {client.name}  {client.client_type.value} "
                f"{client.application_type.value}" + ("  disabled" if client.disabled else "")
            )

    _with_registry(action)


@app.command("show")
def show(client_id: str = CLIENT_ID, org: str = ORG) -> None:
    """One app's registration (never its secret)."""

    async def action(registry: ClientRegistry) -> None:
        for line in _describe(await registry.get(org, client_id, CLI_ACTOR)):
            _say(line)

    _with_registry(action)


@app.command("update")
def update(
    client_id: str = CLIENT_ID,
    org: str = ORG,
    name: str | None = typer.Option(None, help="A new name."),
    redirect_uri: list[str] | None = typer.Option(None, help=_REDIRECT + " Replaces them."),
    post_logout_redirect_uri: list[str] | None = typer.Option(None, help=_LOGOUT),
    grant: list[str] | None = typer.Option(None, help=_GRANT + " Replaces them."),
    scope: list[str] | None = typer.Option(None, help=_SCOPE + " Replaces them."),
    client_type: ClientType | None = typer.Option(None, "--type", help="confidential or public."),
    application_type: ApplicationType | None = typer.Option(None, "--application-type"),
    auth_method: AuthMethod | None = typer.Option(None, help="How it authenticates."),
    id_token_alg: str | None = typer.Option(None, help="RS256 or EdDSA."),
    logo_uri: str | None = typer.Option(None, help="An https URL ('' removes the logo)."),
    enabled: bool | None = typer.Option(None, "--enable/--disable", help="Allow sign-ins."),
) -> None:
    """Change the options given and keep the rest; an app made confidential gets a secret,
    printed once."""

    async def action(registry: ClientRegistry) -> None:
        current = await registry.get(org, client_id, CLI_ACTOR)
        kind = client_type or current.client_type
        method = auth_method
        if method is None and kind is current.client_type:
            method = current.token_endpoint_auth_method
        spec = ClientSpec(
            name=current.name if name is None else name,
            redirect_uris=tuple(current.redirect_uris if redirect_uri is None else redirect_uri),
            post_logout_redirect_uris=tuple(
                current.post_logout_redirect_uris
                if post_logout_redirect_uri is None
                else post_logout_redirect_uri
            ),
            grant_types=tuple(current.grant_types if grant is None else grant),
            scopes=tuple(current.scopes if scope is None else scope),
            client_type=kind.value,
            application_type=(application_type or current.application_type).value,
            token_endpoint_auth_method=None if method is None else method.value,
            id_token_signed_response_alg=id_token_alg or current.id_token_signed_response_alg,
            logo_uri=current.logo_uri if logo_uri is None else logo_uri or None,
            disabled=current.disabled if enabled is None else not enabled,
        )
        client, secret = await registry.update(org, client_id, spec, CLI_ACTOR)
        _print(client, secret, f"Updated OAuth client {client.client_id} of {org}:")

    _with_registry(action)


@app.command("delete")
def delete(client_id: str = CLIENT_ID, org: str = ORG) -> None:
    """Remove an app: its codes and consents go, and the sessions it holds end."""

    async def action(registry: ClientRegistry) -> None:
        await registry.delete(org, client_id, CLI_ACTOR)
        _say(f"Deleted OAuth client {client_id} of {org}; its sessions ended.")

    _with_registry(action)


@app.command("rotate-secret")
def rotate_secret(client_id: str = CLIENT_ID, org: str = ORG) -> None:
    """A new secret for a confidential app, printed once; the old one stops working."""

    async def action(registry: ClientRegistry) -> None:
        secret = await registry.rotate_secret(org, client_id, CLI_ACTOR)
        _say(f"New secret of OAuth client {client_id}: {secret}")
        _say(
            "Store it now: it is shown only this once. Running servers stop accepting the "
            f"old one within {CACHE_SECONDS:g} s."
        )

    _with_registry(action)
