"""``authgate signed-fetch``: the apps gateway's containers and apps, on the server's machine.

Secrets are read from files, or from standard input when the file is ``-``, never from the
command line, where they would show in the process list and the shell's history. Nothing
printed contains a secret. Running servers see a change within
:data:`authgate.signedfetch.lookup.CACHE_SECONDS`.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import typer
from rich.markup import escape

from authgate.cli.common import fail, out, run, runtime, settings_or_exit
from authgate.identity.deps import Actor
from authgate.signedfetch.admin import RegistryAdmin
from authgate.signedfetch.lookup import CACHE_SECONDS
from authgate.signedfetch.registration import MAX_SECRET_CHARS
from authgate.signedfetch.registry import AppSpec, ContainerSpec
from authgate.signedfetch.signature import SignatureMethod

app = typer.Typer(
    help="The apps gateway: containers that sign fetches, and apps with their home servers.",
    no_args_is_help=True,
)
container_app = typer.Typer(help="Containers (instances that send signed fetches).")
apps_app = typer.Typer(help="Apps (home servers the gateway re-signs for).")
app.add_typer(container_app, name="container", no_args_is_help=True)
app.add_typer(apps_app, name="app", no_args_is_help=True)

CLI_ACTOR = Actor(None, "cli")
MAX_PEM_CHARS = 16384
ORG = typer.Option(..., "--org", help="The organization's slug.")


class AppSignatureMethod(enum.StrEnum):
    """The methods the gateway may sign an app's requests with (it holds no app RSA key)."""

    HMAC_SHA1 = SignatureMethod.HMAC_SHA1.value
    HMAC_SHA256 = SignatureMethod.HMAC_SHA256.value


def read_secret(path: str, option: str, limit: int = MAX_SECRET_CHARS) -> str:
    """The text of ``path`` (``-``: standard input) without its final line break."""
    try:
        if path == "-" and sys.stdin.isatty():
            raw = str(typer.prompt(option.removeprefix("--"), hide_input=True))
        elif path == "-":
            raw = sys.stdin.read(limit + 3)
        else:
            with Path(path).open(encoding="utf-8") as handle:
                raw = handle.read(limit + 3)
    except (OSError, UnicodeDecodeError) as exc:
        # Name the file and the failure, never its content.
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror
        fail(f"{option}: cannot read {escape(path)} ({type(exc).__name__}: {reason})")
    text = raw.removesuffix("\n").removesuffix("\r")
    if len(text) > limit:
        fail(f"{option}: {escape(path)} holds more than {limit} characters")
    if not text:
        fail(f"{option}: {escape(path)} is empty")
    return text


def _seen_within() -> str:
    return f"running servers see the change within {CACHE_SECONDS:g} s"


def _say(line: str) -> None:
    # Descriptions and URLs are free text: never read as console markup.
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _with_registry(action: Callable[[RegistryAdmin], Awaitable[None]]) -> None:
    """Run ``action`` on the operator's registry of this deployment."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            await action(rt.services.registry.as_operator())

    run(main)


# --- containers ---------------------------------------------------------------------


@container_app.command("put")
def put_container(
    name: str = typer.Argument(..., help="The container's name in the organization."),
    org: str = ORG,
    consumer_key: str = typer.Option(..., help="The consumer key the container signs with."),
    secret_file: str | None = typer.Option(
        None, help="File holding the HMAC secret ('-': standard input)."
    ),
    public_key_file: str | None = typer.Option(
        None, help="PEM file of the RSA public key or certificate ('-': standard input)."
    ),
    instance_id: str | None = typer.Option(
        None, help="The id appended to its users' ids (default: kept, or a new random one)."
    ),
    description: str = typer.Option("", help="What this container is."),
) -> None:
    """Register a container, or replace its key and settings."""
    if (secret_file is None) == (public_key_file is None):
        fail(
            "give exactly one of --secret-file (HMAC-SHA1 and HMAC-SHA256 signatures) and "
            "--public-key-file (RSA-SHA1 signatures)"
        )
    secret = read_secret(secret_file, "--secret-file") if secret_file else None
    public_key = (
        read_secret(public_key_file, "--public-key-file", MAX_PEM_CHARS)
        if public_key_file
        else None
    )
    spec = ContainerSpec(consumer_key, secret, public_key, instance_id, description)

    async def put(registry: RegistryAdmin) -> None:
        container, created = await registry.put_container(org, name, spec, CLI_ACTOR)
        _say(
            f"{'Registered' if created else 'Replaced'} container {container.name} "
            f"in {org}: consumer key {container.consumer_key}, instance id "
            f"{container.instance_id}, {container.key_type.value.upper()}, version "
            f"{container.secret_version}; {_seen_within()}."
        )

    _with_registry(put)


@container_app.command("list")
def list_containers(org: str = ORG) -> None:
    """The organization's containers (never their secrets)."""

    async def show(registry: RegistryAdmin) -> None:
        found = await registry.list_containers(org, CLI_ACTOR)
        if not found:
            _say(f"{org} has no containers.")
        for c in found:
            _say(
                f"{c.name}  key {c.consumer_key}  instance {c.instance_id}  "
                f"{c.key_type.value}  v{c.secret_version}  {c.description}".rstrip()
            )

    _with_registry(show)


@container_app.command("delete")
def delete_container(
    name: str = typer.Argument(..., help="The container's name."), org: str = ORG
) -> None:
    """Remove a container: its signatures stop verifying."""

    async def delete(registry: RegistryAdmin) -> None:
        await registry.delete_container(org, name, CLI_ACTOR)
        _say(f"Deleted container {name} of {org}; {_seen_within()}.")

    _with_registry(delete)


# --- apps ---------------------------------------------------------------------------


@apps_app.command("put")
def put_app(
    app_id: str = typer.Argument(..., help="The app id (unique across organizations)."),
    org: str = ORG,
    app_url: str = typer.Option(..., help="The app's URL (e.g. its gadget XML)."),
    home_server: list[str] = typer.Option(
        ..., help="A base URL the gateway may forward to (repeatable)."
    ),
    consumer_key: str = typer.Option(
        ..., help="The key the gateway signs forwarded requests with."
    ),
    consumer_secret_file: str | None = typer.Option(
        None,
        help="File holding the app's consumer secret ('-': standard input); "
        "may be left out when replacing an app, to keep its secret.",
    ),
    signature_method: AppSignatureMethod = typer.Option(
        AppSignatureMethod.HMAC_SHA1, help="How the gateway signs what it forwards."
    ),
    description: str = typer.Option("", help="What this app is."),
) -> None:
    """Register an app, or replace its settings (and its secret, when one is given)."""
    secret = (
        read_secret(consumer_secret_file, "--consumer-secret-file")
        if consumer_secret_file
        else None
    )
    method = SignatureMethod(signature_method.value)
    spec = AppSpec(app_url, tuple(home_server), consumer_key, secret, method, description)

    async def put(registry: RegistryAdmin) -> None:
        registered, created = await registry.put_app(org, app_id, spec, CLI_ACTOR)
        _say(
            f"{'Registered' if created else 'Replaced'} app {registered.app_id} "
            f"in {org}: home servers {', '.join(registered.home_servers)}, "
            f"{registered.signature_method.value}, version {registered.secret_version}; "
            f"containers call /v1/gateway/{registered.app_id}/; {_seen_within()}."
        )

    _with_registry(put)


@apps_app.command("list")
def list_apps(org: str = ORG) -> None:
    """The organization's apps (never their secrets)."""

    async def show(registry: RegistryAdmin) -> None:
        found = await registry.list_apps(org, CLI_ACTOR)
        if not found:
            _say(f"{org} has no apps.")
        for a in found:
            _say(
                f"{a.app_id}  {a.app_url}  home {' '.join(a.home_servers)}  "
                f"key {a.consumer_key}  {a.signature_method.value}  v{a.secret_version}  "
                f"{a.description}".rstrip()
            )

    _with_registry(show)


@apps_app.command("delete")
def delete_app(app_id: str = typer.Argument(..., help="The app id."), org: str = ORG) -> None:
    """Remove an app: the gateway stops forwarding to its home servers."""

    async def delete(registry: RegistryAdmin) -> None:
        await registry.delete_app(org, app_id, CLI_ACTOR)
        _say(f"Deleted app {app_id} of {org}; {_seen_within()}.")

    _with_registry(delete)
