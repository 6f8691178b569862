"""``authgate signed-fetch``: containers and apps registered by the operator, secrets read
from files or standard input and never printed, refused input named by its option."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner, Result

from authgate.app import open_database
from authgate.cli.main import app
from authgate.config import load_settings
from authgate.crypto.root_key import load_or_create_root_key
from authgate.signedfetch.lookup import RegistryLookup
from authgate.signedfetch.signature import SharedSecret
from authgate.vault.keys import envelope_from_settings

ORG = "acme"
CONTAINER_SECRET = "cli-container-secret-" + secrets.token_hex(8)
APP_SECRET = "cli-app-secret-" + secrets.token_hex(8)
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A deployment with the organization ``acme`` and its owner."""
    values = {"AUTHGATE_DATA_DIR": str(tmp_path / "data"), "AUTHGATE_LOG_FORMAT": "console"}
    result = runner.invoke(
        app,
        ["admin", "bootstrap", "--email", "owner@acme.test", "--org", ORG, "--generate-password"],
        env=values,
    )
    assert result.exit_code == 0, result.output
    return values


def invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["signed-fetch", *args], env=env, input=stdin)


def secret_file(tmp_path: Path, value: str, name: str = "secret.txt") -> str:
    path = tmp_path / name
    path.write_text(value + "\n")  # as `openssl rand -base64 32 > file` leaves it
    return str(path)


def flat(result: Result) -> str:
    """The output with every run of white space as one space (the console wraps lines)."""
    return " ".join(result.output.split())


def no_secret_in(result: Result) -> None:
    assert CONTAINER_SECRET not in flat(result)
    assert APP_SECRET not in flat(result)


async def _opened(env: dict[str, str], consumer_key: str | None, app_id: str | None) -> str:
    """The secret the gateway would use, opened from the database with the deployment's keys."""
    settings = load_settings(env=env)
    root = load_or_create_root_key(None, settings.data_dir, may_create=False)
    store = await open_database(settings)
    try:
        lookup = RegistryLookup(
            store.signed_fetch, envelope_from_settings(settings, root), time.monotonic
        )
        if app_id is not None:
            found_app = await lookup.app(app_id)
            assert found_app is not None
            return found_app.consumer_secret
        assert consumer_key is not None
        found = await lookup.container(consumer_key)
        assert found is not None
        assert isinstance(found.credential, SharedSecret)
        return found.credential.consumer_secret
    finally:
        await store.close()


def opened_container(env: dict[str, str], consumer_key: str) -> str:
    return asyncio.run(_opened(env, consumer_key, None))


def opened_app(env: dict[str, str], app_id: str) -> str:
    return asyncio.run(_opened(env, None, app_id))


async def _audit(env: dict[str, str]) -> list[tuple[str, str | None, str | None, str]]:
    settings = load_settings(env=env)
    store = await open_database(settings)
    try:
        org = await store.orgs.get_by_slug(ORG)
        assert org is not None
        events = await store.audit.list(org.id, limit=100)
    finally:
        await store.close()
    return [
        (e.action, e.actor_id, e.ip, repr(e.details))
        for e in reversed(events)
        if e.action.startswith("signed_fetch.")
    ]


def _audit_of(env: dict[str, str]) -> list[tuple[str, str | None, str | None, str]]:
    return asyncio.run(_audit(env))


def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encoded = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded.decode()


# --- containers -----------------------------------------------------------------------


def test_a_container_is_registered_listed_replaced_and_deleted(
    env: dict[str, str], tmp_path: Path
) -> None:
    put = invoke(env, "container", "put", "jive", "--org", ORG, "--consumer-key", "jive-key",
                 "--secret-file", secret_file(tmp_path, CONTAINER_SECRET),
                 "--instance-id", "inst-1", "--description", "Our [/b] Jive")  # fmt: skip
    assert put.exit_code == 0, put.output
    assert "Registered container jive in acme" in flat(put)
    assert "instance id inst-1, HMAC, version 1" in flat(put)
    no_secret_in(put)
    assert opened_container(env, "jive-key") == CONTAINER_SECRET  # without the line break

    listed = invoke(env, "container", "list", "--org", ORG)
    assert listed.exit_code == 0, listed.output
    assert "jive key jive-key instance inst-1 hmac v1 Our [/b] Jive" in flat(listed)
    no_secret_in(listed)

    pem = tmp_path / "container.pem"
    pem.write_text(public_pem())
    replaced = invoke(env, "container", "put", "jive", "--org", ORG,
                      "--consumer-key", "jive-key", "--public-key-file", str(pem))  # fmt: skip
    assert replaced.exit_code == 0, replaced.output
    assert "Replaced container jive" in flat(replaced)
    assert "instance id inst-1, RSA, version 2" in flat(replaced)  # the instance id is kept

    deleted = invoke(env, "container", "delete", "jive", "--org", ORG)
    assert deleted.exit_code == 0, deleted.output
    assert "acme has no containers." in flat(invoke(env, "container", "list", "--org", ORG))

    audit = _audit_of(env)
    assert [a[0] for a in audit] == [
        "signed_fetch.container.created",
        "signed_fetch.container.replaced",
        "signed_fetch.container.deleted",
    ]
    assert all(actor is None and ip == "cli" for _, actor, ip, _ in audit)
    assert not [a for a in audit if CONTAINER_SECRET in a[3]]


def test_a_secret_can_come_from_standard_input(env: dict[str, str]) -> None:
    put = invoke(env, "container", "put", "c", "--org", ORG, "--consumer-key", "stdin-key",
                 "--secret-file", "-", stdin=CONTAINER_SECRET + "\n")  # fmt: skip
    assert put.exit_code == 0, put.output
    no_secret_in(put)
    assert opened_container(env, "stdin-key") == CONTAINER_SECRET


@pytest.mark.parametrize("files", [(), ("--secret-file", "--public-key-file")])
def test_exactly_one_of_secret_and_public_key_is_given(
    env: dict[str, str], tmp_path: Path, files: tuple[str, ...]
) -> None:
    path = secret_file(tmp_path, CONTAINER_SECRET)
    args = [arg for option in files for arg in (option, path)]
    result = invoke(env, "container", "put", "c", "--org", ORG, "--consumer-key", "k", *args)

    assert result.exit_code == 2
    assert "exactly one of --secret-file" in flat(result)
    assert "acme has no containers." in flat(invoke(env, "container", "list", "--org", ORG))


def test_an_unreadable_or_empty_secret_file_is_named(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")

    cases = (
        (missing, f"--secret-file: cannot read {missing} (FileNotFoundError"),
        (empty, f"--secret-file: {empty} is empty"),
    )
    for path, message in cases:
        result = invoke(env, "container", "put", "c", "--org", ORG, "--consumer-key", "k",
                        "--secret-file", str(path))  # fmt: skip
        assert result.exit_code == 2, result.output
        assert message in flat(result)


def test_refused_registrations_name_the_fault_and_not_the_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    short = "short-" + secrets.token_hex(2)
    result = invoke(env, "container", "put", "c", "--org", ORG, "--consumer-key", "k",
                    "--secret-file", secret_file(tmp_path, short))  # fmt: skip
    assert result.exit_code == 1
    assert "secret must be 16 to 1024 printable characters" in flat(result)
    assert short not in flat(result)

    at = invoke(env, "container", "put", "c", "--org", ORG, "--consumer-key", "k",
                "--secret-file", secret_file(tmp_path, CONTAINER_SECRET),
                "--instance-id", "a@b")  # fmt: skip
    assert at.exit_code == 1
    assert "instanceId" in flat(at)
    no_secret_in(at)


def test_an_unknown_organization_is_reported(env: dict[str, str], tmp_path: Path) -> None:
    result = invoke(env, "container", "put", "c", "--org", "nope", "--consumer-key", "k",
                    "--secret-file", secret_file(tmp_path, CONTAINER_SECRET))  # fmt: skip
    assert result.exit_code == 1
    assert "organization 'nope' not found" in flat(result)
    assert invoke(env, "container", "delete", "c", "--org", ORG).exit_code == 1


# --- apps -----------------------------------------------------------------------------


def test_an_app_is_registered_replaced_keeping_its_secret_and_deleted(
    env: dict[str, str], tmp_path: Path
) -> None:
    put = invoke(env, "app", "put", "planner", "--org", ORG,
                 "--app-url", "https://planner.example.com/app.xml",
                 "--home-server", "https://api.planner.example.com/",
                 "--home-server", "http://127.0.0.1:8080/api",
                 "--consumer-key", "planner-key", "--consumer-secret-file", "-",
                 "--signature-method", "HMAC-SHA256", stdin=APP_SECRET)  # fmt: skip
    assert put.exit_code == 0, put.output
    assert "Registered app planner in acme" in flat(put)
    assert "https://api.planner.example.com, http://127.0.0.1:8080/api" in flat(put)
    assert "HMAC-SHA256, version 1" in flat(put)
    no_secret_in(put)
    assert opened_app(env, "planner") == APP_SECRET

    replaced = invoke(env, "app", "put", "planner", "--org", ORG,
                      "--app-url", "https://planner.example.com/v2.xml",
                      "--home-server", "https://api.planner.example.com",
                      "--consumer-key", "planner-key")  # fmt: skip
    assert replaced.exit_code == 0, replaced.output
    assert "Replaced app planner" in flat(replaced)
    assert "HMAC-SHA1, version 1" in flat(replaced)
    assert opened_app(env, "planner") == APP_SECRET  # kept

    listed = invoke(env, "app", "list", "--org", ORG)
    assert listed.exit_code == 0, listed.output
    assert (
        "planner https://planner.example.com/v2.xml home https://api.planner.example.com "
        "key planner-key HMAC-SHA1 v1"
    ) in flat(listed)
    no_secret_in(listed)

    deleted = invoke(env, "app", "delete", "planner", "--org", ORG)
    assert deleted.exit_code == 0, deleted.output
    assert "acme has no apps." in flat(invoke(env, "app", "list", "--org", ORG))
    assert [a[0] for a in _audit_of(env)] == [
        "signed_fetch.app.created",
        "signed_fetch.app.replaced",
        "signed_fetch.app.deleted",
    ]


def test_a_new_app_needs_a_secret_and_an_https_home_server(
    env: dict[str, str], tmp_path: Path
) -> None:
    common = ["app", "put", "planner", "--org", ORG, "--app-url", "https://p.example.com",
              "--consumer-key", "k"]  # fmt: skip
    no_secret = invoke(env, *common, "--home-server", "https://api.example.com")
    assert no_secret.exit_code == 1
    assert "consumerSecret is required" in flat(no_secret)

    plain = invoke(env, *common, "--home-server", "http://api.example.com",
                   "--consumer-secret-file", secret_file(tmp_path, APP_SECRET))  # fmt: skip
    assert plain.exit_code == 1
    assert "homeServers must be an absolute https URL" in flat(plain)
    no_secret_in(plain)
    assert "acme has no apps." in flat(invoke(env, "app", "list", "--org", ORG))


def test_rsa_sha1_is_not_offered_for_an_app(env: dict[str, str], tmp_path: Path) -> None:
    result = invoke(env, "app", "put", "planner", "--org", ORG,
                    "--app-url", "https://p.example.com", "--home-server", "https://a.example.com",
                    "--consumer-key", "k", "--signature-method", "RSA-SHA1",
                    "--consumer-secret-file", secret_file(tmp_path, APP_SECRET))  # fmt: skip
    assert result.exit_code == 2
    assert "RSA-SHA1" in flat(result)
    assert "acme has no apps." in flat(invoke(env, "app", "list", "--org", ORG))
