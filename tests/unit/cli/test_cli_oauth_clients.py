"""``authgate oauth-client``: the operator registers, lists, shows, changes, re-keys and
deletes an organization's apps; a secret is printed once and only its keyed hash is stored;
refused metadata is named by its field; changes are audited as the CLI's."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from authgate.app import open_database
from authgate.cli.main import app
from authgate.config import load_settings
from authgate.crypto.keyed_hash import KeyedHasher
from authgate.crypto.root_key import derive_key, load_or_create_root_key
from authgate.provider.models import OAuthClient

ORG = "acme"
REDIRECT = "https://planner.example.com/callback"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A deployment with the organization ``acme`` and its owner."""
    values = {"AUTHGATE_DATA_DIR": str(tmp_path / "data"), "AUTHGATE_LOG_FORMAT": "console"}
    boot = ["admin", "bootstrap", "--email", "owner@acme.test", "--org", ORG]
    result = runner.invoke(app, [*boot, "--generate-password"], env=values)
    assert result.exit_code == 0, result.output
    return values


def invoke(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, ["oauth-client", *args], env=env)


def flat(result: Result) -> str:
    """The output with every run of white space as one space (the console wraps lines)."""
    return " ".join(result.output.split())


def secret_of(result: Result) -> str:
    match = re.search(r"(?:client secret|New secret of OAuth client \S+): (\S+)", flat(result))
    assert match, result.output
    return match.group(1)


def client_id_of(result: Result) -> str:
    match = re.search(r"Registered OAuth client (app_\S+) in", flat(result))
    assert match, result.output
    return match.group(1)


async def _stored(env: dict[str, str], client_id: str) -> tuple[OAuthClient | None, str, bytes]:
    """The stored client, the organization's audit log as text, the database's bytes."""
    settings = load_settings(env=env)
    store = await open_database(settings)
    try:
        client = await store.oauth_clients.get(client_id)
        org = await store.orgs.get_by_slug(ORG)
        assert org is not None
        events = await store.audit.list(org.id, limit=100)
    finally:
        await store.close()
    audit = repr([(e.action, e.actor_id, e.ip, e.subject, e.details) for e in events])
    raw = b"".join(path.read_bytes() for path in settings.data_dir.glob("*.db*"))
    return client, audit, raw


def stored(env: dict[str, str], client_id: str) -> tuple[OAuthClient | None, str, bytes]:
    return asyncio.run(_stored(env, client_id))


def digest(env: dict[str, str], secret: str) -> str:
    settings = load_settings(env=env)
    root = load_or_create_root_key(None, settings.data_dir, may_create=False)
    return KeyedHasher(derive_key(root, "authgate keyed hash v1")).digest(secret)


def test_the_operator_registers_an_app_and_sees_its_secret_once(env: dict[str, str]) -> None:
    created = invoke(
        env,
        "create",
        "Planner",
        "--org",
        ORG,
        "--redirect-uri",
        REDIRECT,
        "--redirect-uri",
        "https://planner.example.com/callback/",
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--logo-uri",
        "https://planner.example.com/logo.png",
    )
    assert created.exit_code == 0, created.output
    client_id, secret = client_id_of(created), secret_of(created)
    assert "shown only this once" in flat(created)
    assert "offline_access" in flat(created)

    listed = invoke(env, "list", "--org", ORG)
    shown = invoke(env, "show", client_id, "--org", ORG)
    assert listed.exit_code == shown.exit_code == 0
    assert f"{client_id} Planner confidential web" in flat(listed)
    assert REDIRECT in flat(shown)
    assert "client_secret_basic" in flat(shown)
    client, audit, raw = stored(env, client_id)
    assert client is not None
    assert client.secret_hash == digest(env, secret)
    for output in (listed, shown):
        assert secret not in output.output
        assert client.secret_hash not in output.output
    assert secret not in audit
    assert secret.encode() not in raw
    assert "('oauth_client.create', None, 'cli', " + repr(client_id) in audit


def test_update_changes_only_what_is_given_and_rotation_replaces_the_secret(
    env: dict[str, str],
) -> None:
    created = invoke(env, "create", "Planner", "--org", ORG, "--redirect-uri", REDIRECT)
    client_id, first = client_id_of(created), secret_of(created)

    renamed = invoke(env, "update", client_id, "--org", ORG, "--name", "Planner 2", "--disable")
    assert renamed.exit_code == 0, renamed.output
    assert "client secret" not in flat(renamed)
    client, _, _ = stored(env, client_id)
    assert client is not None
    assert (client.name, client.disabled, client.redirect_uris) == ("Planner 2", True, (REDIRECT,))
    assert client.secret_hash == digest(env, first)

    public = invoke(env, "update", client_id, "--org", ORG, "--type", "public", "--enable")
    assert public.exit_code == 0, public.output
    client, _, _ = stored(env, client_id)
    assert client is not None
    assert (client.is_public, client.secret_hash, client.disabled) == (True, None, False)
    refused = invoke(env, "rotate-secret", client_id, "--org", ORG)
    assert refused.exit_code == 1
    assert "public client has no secret" in flat(refused)

    confidential = invoke(env, "update", client_id, "--org", ORG, "--type", "confidential")
    second = secret_of(confidential)
    rotated = invoke(env, "rotate-secret", client_id, "--org", ORG)
    assert rotated.exit_code == 0, rotated.output
    third = secret_of(rotated)
    assert len({first, second, third}) == 3
    client, audit, _ = stored(env, client_id)
    assert client is not None
    assert client.secret_hash == digest(env, third)
    for secret in (first, second, third):
        assert secret not in audit
    assert "oauth_client.rotate" in audit


def test_refusals_name_the_option_and_store_nothing(env: dict[str, str]) -> None:
    for args, says in (
        (["--redirect-uri", "http://planner.example.com/cb"], "redirect_uris:"),
        (["--redirect-uri", "javascript:alert(1)"], "javascript: scheme"),
        (["--redirect-uri", REDIRECT, "--scope", "admin"], "scopes: 'admin'"),
        (["--redirect-uri", REDIRECT, "--grant", "password"], "grant_types: 'password'"),
        (["--grant", "client_credentials", "--type", "public"], "public client cannot"),
        ([], "at least one redirect URI"),
    ):
        result = invoke(env, "create", "Planner", "--org", ORG, *args)
        assert result.exit_code == 1, (args, result.output)
        assert says in flat(result), (args, result.output)
    assert f"{ORG} has no OAuth clients." in flat(invoke(env, "list", "--org", ORG))


def test_delete_and_unknown_names(env: dict[str, str]) -> None:
    created = invoke(env, "create", "Planner", "--org", ORG, "--redirect-uri", REDIRECT)
    client_id = client_id_of(created)
    deleted = invoke(env, "delete", client_id, "--org", ORG)
    assert deleted.exit_code == 0, deleted.output
    assert stored(env, client_id)[0] is None
    again = invoke(env, "show", client_id, "--org", ORG)
    assert again.exit_code == 1
    assert "no OAuth client" in flat(again)
    unknown_org = invoke(env, "list", "--org", "nowhere")
    assert unknown_org.exit_code == 1
    assert "organization 'nowhere' not found" in flat(unknown_org)
