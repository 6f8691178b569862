"""``authgate keys``: the token signing keys."""

from __future__ import annotations

import typer

from authgate.cli.common import out, run, runtime, settings_or_exit

app = typer.Typer(help="Token signing keys.", no_args_is_help=True)


@app.command()
def rotate() -> None:
    """Add a new signing key; older keys stop signing but stay published until expiry."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            kid = await rt.keys.rotate()
            out.print(
                f"New signing key {kid}; running servers switch to it within 30 s.", highlight=False
            )

    run(main)


@app.command("list")
def list_keys() -> None:
    """The published keys (public parts only)."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            for key in await rt.store.signing_keys.list():
                state = "retired" if key.retired_at else "active"
                out.print(
                    f"{key.kid}  {key.algorithm}  {state}  created {key.created_at:%F %T}",
                    highlight=False,
                )

    run(main)
