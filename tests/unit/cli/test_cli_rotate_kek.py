"""``authgate keys rotate-kek``: re-wraps under the new KEK, resumes, refuses unknown KEKs."""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authgate.app import open_database
from authgate.cli.main import app
from authgate.config import load_settings
from authgate.crypto.envelope import UnknownKek
from authgate.crypto.root_key import load_or_create_root_key
from authgate.identity.deps import Actor
from authgate.vault.keys import envelope_from_settings
from authgate.vault.models import CredentialKind, CredentialSpec, SecretFields
from tests.unit.vault.conftest import open_world

KEK_A, KEK_B, KEK_C = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3))
VALUES = {f"k{i}": f"canary-cli-value-{i}" for i in range(5)}
runner = CliRunner()


def env_for(data_dir: Path, kek: str, previous: str = "") -> dict[str, str]:
    return {
        "AUTHGATE_DATA_DIR": str(data_dir),
        "AUTHGATE_VAULT_KEK": kek,
        "AUTHGATE_VAULT_PREVIOUS_KEKS": previous,
        "AUTHGATE_LOG_FORMAT": "console",
    }


async def seed(env: dict[str, str]) -> None:
    settings = load_settings(env=env)
    root = load_or_create_root_key(None, settings.data_dir, may_create=True)
    envelope = envelope_from_settings(settings, root)
    async with open_world(
        await open_database(settings), envelope, settings.data_dir / "outbox"
    ) as world:
        for name, value in VALUES.items():
            spec = CredentialSpec(
                CredentialKind.SECRET, SecretFields({"value": value}), ("api.example.com",)
            )
            await world.vault.put("acme", name, spec, world.admin)


async def read_all(env: dict[str, str]) -> dict[str, str]:
    settings = load_settings(env=env)
    root = load_or_create_root_key(None, settings.data_dir, may_create=False)
    envelope = envelope_from_settings(settings, root)
    async with open_world(
        await open_database(settings), envelope, settings.data_dir / "outbox"
    ) as world:
        resolver = world.vault.resolver(world.org.id, None, "f", Actor(None))
        return {name: (await resolver.resolve(name)).value for name in VALUES}


def test_rotate_kek_rewraps_everything_and_the_old_kek_can_go(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(seed(env_for(data, KEK_A)))

    result = runner.invoke(
        app, ["keys", "rotate-kek", "--batch", "2"], env=env_for(data, KEK_B, KEK_A)
    )

    assert result.exit_code == 0, result.output
    assert "5 data key(s) to re-wrap" in result.output
    assert "re-wrapped 2/5" in result.output
    assert "done: 5 data key(s) re-wrapped, 0 left" in result.output
    assert KEK_A not in result.output
    assert KEK_B not in result.output
    assert asyncio.run(read_all(env_for(data, KEK_B))) == VALUES  # KEK_A removed

    again = runner.invoke(app, ["keys", "rotate-kek"], env=env_for(data, KEK_B))
    assert again.exit_code == 0, again.output
    assert "done: 0 data key(s) re-wrapped, 0 left" in again.output


def test_rotate_kek_refuses_an_unknown_kek_and_names_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(seed(env_for(data, KEK_A)))

    result = runner.invoke(app, ["keys", "rotate-kek"], env=env_for(data, KEK_C, KEK_B))

    assert result.exit_code == 1
    assert "AUTHGATE_VAULT_PREVIOUS_KEKS" in result.output
    assert "5 stored secret(s)" in result.output
    assert KEK_A not in result.output
    assert asyncio.run(read_all(env_for(data, KEK_B, KEK_A))) == VALUES  # nothing changed


def test_a_server_without_the_kek_of_a_row_reports_it_clearly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(seed(env_for(data, KEK_A)))
    with pytest.raises(UnknownKek, match="AUTHGATE_VAULT_PREVIOUS_KEKS"):
        asyncio.run(read_all(env_for(data, KEK_B)))
