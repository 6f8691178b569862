"""``authgate keys``: the token signing keys and the vault's key-encryption key."""

from __future__ import annotations

import typer

from authgate.app import open_database
from authgate.cli.common import out, run, runtime, settings_or_exit
from authgate.crypto.root_key import load_or_create_root_key
from authgate.vault.keys import envelope_from_settings
from authgate.vault.rotation import BATCH, JoinedKeyRows, KekRotation, RotationProgress

app = typer.Typer(
    help="Token signing keys and the vault's key-encryption key.", no_args_is_help=True
)


@app.command()
def rotate() -> None:
    """Add a new signing key of each algorithm (EdDSA for access tokens, RS256 for ID tokens);
    older keys stop signing but stay published until expiry."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            kids = await rt.keys.rotate()
            for algorithm, kid in kids.items():
                out.print(f"New {algorithm} signing key {kid}", highlight=False)
            out.print("Running servers switch to the new keys within 30 s.", highlight=False)

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


@app.command("rotate-kek")
def rotate_kek(
    batch: int = typer.Option(BATCH, min=1, max=10_000, help="Rows read per batch."),
) -> None:
    """Re-wrap every sealed data key (vault, gateway, IdPs) under the current KEK.

    Set the new KEK in AUTHGATE_VAULT_KEK and the old one in AUTHGATE_VAULT_PREVIOUS_KEKS on
    every node first: servers keep working throughout, since older KEKs still unwrap. Each
    row is committed on its own, so an interrupted run resumes where it stopped. When it
    reports nothing left, remove the old KEK from AUTHGATE_VAULT_PREVIOUS_KEKS.
    """
    settings = settings_or_exit()

    async def main() -> None:
        root = load_or_create_root_key(
            settings.secret_key.get_secret_value() if settings.secret_key else None,
            settings.data_dir,
            may_create=settings.is_sqlite,
        )
        envelope = envelope_from_settings(settings, root)
        store = await open_database(settings)
        try:
            rotation = KekRotation(
                JoinedKeyRows(store.vault, store.signed_fetch, store.federation), envelope
            )
            pending = await rotation.pending()
            out.print(
                f"current KEK {envelope.current.kek_id}; {pending} data key(s) to re-wrap",
                highlight=False,
            )

            def progress(state: RotationProgress) -> None:
                if state.rewrapped % batch == 0 or state.rewrapped == state.total:
                    out.print(f"re-wrapped {state.rewrapped}/{state.total}", highlight=False)

            done = await rotation.run(batch=batch, on_progress=progress)
            left = await rotation.pending()
        finally:
            await store.close()
        out.print(f"done: {done} data key(s) re-wrapped, {left} left", highlight=False)

    run(main)
