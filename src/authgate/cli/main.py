"""``authgate``: serve, migrate, and administer a deployment."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from authgate.app import create_app, open_database
from authgate.cli import admin, idp, keys, oauth_clients, signed_fetch, solution
from authgate.cli.common import console, fail, run, settings_or_exit
from authgate.client.cli import register as register_device_commands
from authgate.config import Settings, redact_url
from authgate.logs import configure_logging
from authgate.store.migrate import current_revision, upgrade

app = typer.Typer(
    help="authgate: a self-hosted identity and data gateway for apps.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(admin.app, name="admin")
app.add_typer(keys.app, name="keys")
app.add_typer(solution.app, name="solution")
register_device_commands(app)  # login, logout, whoami, sync, call, data
app.add_typer(signed_fetch.app, name="signed-fetch")
app.add_typer(idp.app, name="idp")
app.add_typer(oauth_clients.app, name="oauth-client")


async def _needs_bootstrap(settings: Settings) -> bool:
    store = await open_database(settings)
    try:
        return await store.orgs.count() == 0
    finally:
        await store.close()


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (AUTHGATE_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (AUTHGATE_PORT)."),
) -> None:
    """Run the server (migrates the embedded SQLite database first)."""
    settings = settings_or_exit(host=host, port=port)
    configure_logging(settings.log_level, settings.log_format)
    empty = run(lambda: _needs_bootstrap(settings))
    console.print(
        f"authgate listening on http://{settings.host}:{settings.port} (issuer {settings.issuer})",
        highlight=False,
    )
    console.print(
        f"data: {settings.data_dir.resolve()}  database: {redact_url(settings.database)}",
        highlight=False,
    )
    if not settings.smtp_host:
        console.print(
            f"mail: written to the outbox {settings.outbox_dir.resolve()}", highlight=False
        )
    if empty:
        console.print(
            "No organization yet. Create the first owner with:\n"
            "  authgate admin bootstrap --email you@example.com --org acme",
            highlight=False,
        )
    _, asgi = create_app(settings)
    uvicorn.run(
        asgi,
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=settings.proxy_headers,
        server_header=False,
        lifespan="on",
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (PostgreSQL needs this before serve)."""
    settings = settings_or_exit()

    async def main() -> None:
        before = await current_revision(settings.database)
        await upgrade(settings.database)
        after = await current_revision(settings.database)
        console.print(f"database schema: {before or 'empty'} -> {after}", highlight=False)

    run(main)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except asyncio.CancelledError:  # pragma: no cover - interrupted during shutdown
        fail("interrupted", 130)
