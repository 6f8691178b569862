"""``authgate idp``: the operator adds, lists, replaces and removes an organization's IdPs
(checked against a real OpenID provider's metadata) and changes its SSO settings; the
client secret is read from a file or standard input and never printed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from typer.testing import CliRunner, Result

from authgate.cli.main import app
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import CLIENT_SECRET, idp_clients

runner = CliRunner()


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    async with start_idp("okta", idp_clients()) as running_idp:
        yield running_idp


async def invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    # The command runs its own event loop: in a thread, beside the test's.
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env, input=stdin)


def flat(result: Result) -> str:
    return " ".join(result.output.split())


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    """A deployment with the organization ``acme``, which verified ``acme.test``."""
    values = {
        "AUTHGATE_DATA_DIR": str(tmp_path / "data"),
        "AUTHGATE_LOG_FORMAT": "console",
        "AUTHGATE_EGRESS_ALLOWED_HOSTS": "127.0.0.1",
        "AUTHGATE_PUBLIC_URL": "https://id.acme.test",
    }
    boot = ["admin", "bootstrap", "--email", "owner@acme.test", "--org", "acme"]
    result = await invoke(values, *boot, "--generate-password")
    assert result.exit_code == 0, result.output
    result = await invoke(values, "admin", "org-domains", "acme", "--add", "acme.test")
    assert result.exit_code == 0, result.output
    return values


async def test_the_operator_adds_replaces_lists_and_removes_an_idp(
    env: dict[str, str], idp: Idp, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(CLIENT_SECRET + "\n")
    base = ["idp", "put", "okta", "--org", "acme", "--type", "okta", "--issuer", idp.issuer]
    base += ["--client-id", "authgate-sso", "--domain", "acme.test"]

    added = await invoke(env, *base, "--client-secret-file", str(secret))
    assert added.exit_code == 0, added.output
    assert "Added identity provider okta in acme" in flat(added)
    assert "https://id.acme.test/v1/sso/callback" in flat(added)
    replaced = await invoke(env, *base, "--client-secret-file", "-", stdin=CLIENT_SECRET + "2\n")
    assert replaced.exit_code == 0, replaced.output
    assert "version 2 (secret version 2)" in flat(replaced)
    kept = await invoke(env, *base, "--scope", "openid", "--scope", "email")
    assert "version 3 (secret version 2)" in flat(kept)
    settings = await invoke(
        env, "idp", "settings", "--org", "acme", "--provisioning", "auto", "--enforce-sso"
    )
    assert settings.exit_code == 0, settings.output
    assert "provisioning auto, SSO enforced" in flat(settings)
    listed = await invoke(env, "idp", "list", "--org", "acme")
    assert "okta okta enabled version 3" in flat(listed)
    assert "provisioning auto, SSO enforced" in flat(listed)
    removed = await invoke(env, "idp", "delete", "okta", "--org", "acme")
    assert removed.exit_code == 0, removed.output
    assert "0 session(s) ended" in flat(removed)
    assert "no identity providers" in flat(await invoke(env, "idp", "list", "--org", "acme"))
    for result in (added, replaced, kept, settings, listed, removed):
        assert CLIENT_SECRET not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--issuer", "https://user:pw@idp.example"], "without user or password"),
        (["--domain", "elsewhere.test"], "not a verified domain"),
        (["--authorization-endpoint", "https://idp.example/a"], "together"),
        (["--org", "nobody"], "not found"),
    ],
)
async def test_refusals_name_the_option_and_the_fix(
    env: dict[str, str], idp: Idp, tmp_path: Path, args: list[str], message: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(CLIENT_SECRET)
    values = {
        "--org": "acme",
        "--type": "okta",
        "--issuer": idp.issuer,
        "--client-id": "authgate-sso",
        "--domain": "acme.test",
        "--client-secret-file": str(secret),
    }
    extra = []
    for option, value in zip(args[::2], args[1::2], strict=True):
        if option in values:
            values[option] = value
        else:
            extra += [option, value]
    command = ["idp", "put", "okta", *[part for pair in values.items() for part in pair], *extra]

    result = await invoke(env, *command)

    assert result.exit_code != 0
    assert message in flat(result)
    assert CLIENT_SECRET not in result.output
