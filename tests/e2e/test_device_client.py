"""The device client end to end: a real `authgate serve`, a real upstream on 127.0.0.1, the
SDK (blocking and asyncio) and the `authgate` device commands."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.client import AsyncClient, Client, ServerError, SignInRequired
from authgate.client.errors import LocalDataError
from authgate.client.home import SESSION_KEY, credentials_key
from authgate.client.tokens import TokenSet
from authgate.errors import AuthgateError
from tests.e2e.device_peers import (
    EMAIL,
    PAGES,
    PER_PAGE,
    PRIVATE,
    TOKEN,
    Deployment,
    deployment,
    function,
)
from tests.e2e.servers import AUTHGATE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("device")) as ready:
        yield ready


def signed_in(deployed: Deployment, root: Path) -> Client:
    client = Client(deployed.url, root=root)
    client.login(EMAIL, deployed.password)
    return client


def files_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_cloud_and_local_calls_return_the_same_records(
    deployed: Deployment, tmp_path: Path
) -> None:
    with signed_in(deployed, tmp_path) as client:
        report = client.sync("stock")
        assert report.version == 1
        assert report.changed
        assert report.local_functions == ("list-items-local", "list-private")
        assert report.credentials == ("stock.token",)
        assert report.withheld == {"stock.private": "not_device_usable"}

        pages: list[int] = []
        cloud = client.call("stock", "list-items")
        local = client.call("stock", "list-items-local", on_page=pages.append)
        assert (cloud.ran, local.ran) == ("cloud", "local")
        assert cloud.records == local.records
        assert len(local.records) == PAGES * PER_PAGE
        assert local.pages == PAGES
        assert pages == [1, 2, 3]
        # An upstream that echoes the token gets it redacted, in the cloud and here alike.
        assert {r["seen"] for r in local.records} == {"Bearer [redacted]"}

        assert client.data("stock", "list-items-local", ids=["2-1"]) == [local.records[5]]
        assert (
            client.data("stock", "list-items-local", where=[("page", "3")], limit=2)
            == (local.records[8:10])
        )
        assert {t.name: t.rows for t in client.tables("stock")} == {
            "list-items": 12,
            "list-items-local": 12,
        }
        with pytest.raises(ServerError) as withheld:
            client.call("stock", "list-private")
        assert withheld.value.code == "not_device_usable"

        unchanged = client.sync("stock")
        assert not unchanged.changed
        assert unchanged.version == 1
    stored = files_under(tmp_path)
    assert TOKEN.encode() not in stored
    assert PRIVATE.encode() not in stored


def test_a_declared_table_and_merging_by_id(deployed: Deployment, tmp_path: Path) -> None:
    port = deployed.upstream.server_address[1]
    deployed.publish("merged", {"pages": function(port, local=True, merge=True)}, tmp_path)
    deployed.api("PUT", "/v1/orgs/acme/solutions/merged/members", json={"email": EMAIL})
    with signed_in(deployed, tmp_path) as client:
        first = client.call("merged", "pages", {"page": 3}, table="items")
        assert first.rows == PER_PAGE
        assert first.table == "items"
        second = client.call("merged", "pages", {"page": 2}, table="items")
        # Merged: page 2 (and the page 3 it pages on to) replace rows by id; none vanish.
        assert second.rows == 2 * PER_PAGE
        replaced = client.call("stock", "list-items-local", {"page": 3}, table="items2")
        assert replaced.rows == PER_PAGE
        again = client.call("stock", "list-items-local", {"page": 3}, table="items2")
        assert again.rows == PER_PAGE


def test_local_calls_need_no_server_after_sync(tmp_path: Path) -> None:
    with deployment(tmp_path / "own") as own:
        client = signed_in(own, tmp_path / "device")
        client.sync("stock")
        before = own.upstream.requests
        own.server.stop()  # from here on, nothing answers at the server's address
        with client:
            local = client.call("stock", "list-items-local")
            assert local.ran == "local"
            assert len(local.records) == PAGES * PER_PAGE
            assert own.upstream.requests == before + PAGES
            assert len(client.data("stock", "list-items-local")) == PAGES * PER_PAGE
            with pytest.raises(Exception) as offline:
                client.call("stock", "list-items")
            assert getattr(offline.value, "code", "") == "server_unreachable"


def test_a_revoked_session_signs_the_device_out(deployed: Deployment, tmp_path: Path) -> None:
    with signed_in(deployed, tmp_path) as client:
        client.sync("stock")
        assert client.call("stock", "list-items").pages == PAGES
        tokens = client.session.current()
        revoked = httpx.post(
            deployed.url + "/oauth/revoke",
            data={"token": tokens.access_token, "client_id": "authgate-device"},
        )
        assert revoked.status_code == 200
        with pytest.raises(SignInRequired):
            client.call("stock", "list-items")
        assert client.session.stored() is None
        assert client.home.secrets.get(SESSION_KEY) is None


def test_a_rejected_access_token_is_refreshed_once(deployed: Deployment, tmp_path: Path) -> None:
    with signed_in(deployed, tmp_path) as client:
        client.sync("stock")
        tokens = client.session.current()
        # The server no longer takes this access token, but the session is alive.
        broken = TokenSet("not-a-token", tokens.refresh_token, tokens.expires_at)
        client.session.save(broken)
        assert client.call("stock", "list-items").pages == PAGES
        assert client.session.refreshes == 1
        assert client.session.current().refresh_token != tokens.refresh_token


def test_concurrent_requests_refresh_once(deployed: Deployment, tmp_path: Path) -> None:
    with signed_in(deployed, tmp_path) as client:
        tokens = client.session.current()
        client.session.save(TokenSet(tokens.access_token, tokens.refresh_token, 0.0))

        answers: list[dict[str, Any]] = []
        threads = [
            threading.Thread(target=lambda: answers.append(client.whoami())) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 8
        assert {a["email"] for a in answers} == {EMAIL}
        assert client.session.refreshes == 1

    async def many() -> int:
        async with AsyncClient(deployed.url, root=tmp_path) as device:
            current = device.session.current()
            device.session.save(TokenSet(current.access_token, current.refresh_token, 0.0))
            found = await asyncio.gather(*(device.whoami() for _ in range(10)))
            assert {me["email"] for me in found} == {EMAIL}
            return device.session.refreshes

    assert asyncio.run(many()) == 1


def test_the_async_client_syncs_and_calls(deployed: Deployment, tmp_path: Path) -> None:
    async def main() -> None:
        async with AsyncClient(deployed.url, root=tmp_path) as client:
            await client.login(EMAIL, deployed.password)
            await client.sync("stock")
            local = await client.call("stock", "list-items-local")
            cloud = await client.call("stock", "list-items")
            assert local.records == cloud.records
            assert await client.data("stock", "list-items", limit=1) == cloud.records[:1]
            assert await client.logout()
            with pytest.raises(SignInRequired):
                await client.whoami()

    asyncio.run(main())


def test_resync_follows_new_versions_and_withdrawals(deployed: Deployment, tmp_path: Path) -> None:
    port = deployed.upstream.server_address[1]
    deployed.publish("temp", {"items": function(port, local=True)}, tmp_path)
    with signed_in(deployed, tmp_path) as client:
        first = client.sync("temp")
        assert first.credentials == ("stock.token",)
        client.call("temp", "items")
        # Version 2 moves the function to the cloud: the device drops the credential.
        deployed.publish("temp", {"items": function(port, local=False)}, tmp_path)
        second = client.sync("temp")
        assert second.version == 2
        assert second.changed
        assert second.credentials == ()
        assert client.home.secrets.get(credentials_key("temp")) is None
        assert client.call("temp", "items").ran == "cloud"
        # The solution is deleted: the device forgets it, its data included.
        assert deployed.api("DELETE", "/v1/orgs/acme/solutions/temp").status_code == 204
        with pytest.raises(ServerError) as gone:
            client.sync("temp")
        assert gone.value.code == "not_found"
        assert client.home.read_definition("temp") is None
        assert client.tables("temp") == []
        with pytest.raises(LocalDataError):
            client.data("temp", "items")
        with pytest.raises(ServerError) as still_gone:
            client.call("temp", "items")  # not on the device: synced first, and refused
        assert still_gone.value.code == "not_found"


def test_a_refused_call_fails_alike_in_the_cloud_and_locally(
    deployed: Deployment, tmp_path: Path
) -> None:
    with signed_in(deployed, tmp_path) as client:
        client.sync("stock")
        errors = []
        for function_name in ("list-items", "list-items-local"):
            with pytest.raises(AuthgateError) as refused:
                client.call("stock", function_name, {"page": "not-a-number"})
            errors.append((refused.value.code, refused.value.status, refused.value.message))
        assert errors[0] == errors[1]
        assert errors[0][0] == "invalid_function_arguments"
        assert errors[0][1] == 400


def test_device_code_sign_in_through_the_verification_page(
    deployed: Deployment, tmp_path: Path
) -> None:
    shown: list[Mapping[str, Any]] = []

    def approve(started: Mapping[str, Any]) -> None:
        shown.append(started)
        # The person, on another machine's browser: the page, then the form.
        page = httpx.get(started["verification_uri_complete"])
        assert page.status_code == 200
        assert started["user_code"] in page.text
        decided = httpx.post(
            started["verification_uri"],
            data={
                "user_code": started["user_code"],
                "email": EMAIL,
                "password": deployed.password,
                "decision": "allow",
            },
        )
        assert decided.status_code == 200, decided.text

    with Client(deployed.url, root=tmp_path) as client:
        tokens = client.login_device_code(approve)
        assert tokens.organization == "acme"
        assert client.whoami()["email"] == EMAIL
    assert shown
    assert shown[0]["verification_uri"] == deployed.url + "/device"


def device_cli(
    home: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"AUTHGATE_HOME": str(home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    return subprocess.run(
        [AUTHGATE, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_device_commands(deployed: Deployment, tmp_path: Path) -> None:
    home = tmp_path / "home"
    login = device_cli(
        home, "login", "--server", deployed.url, "--email", EMAIL, "--password-stdin",
        stdin=deployed.password + "\n",
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "Signed in to acme" in login.stderr
    assert "no OS keychain found" in login.stderr  # this machine has none: the file store
    assert "acme" in device_cli(home, "whoami").stdout

    synced = device_cli(home, "sync", "stock")
    assert synced.returncode == 0, synced.stderr
    assert "version 1" in synced.stdout
    assert "stock.token" in synced.stdout
    assert "stock.private (not_device_usable)" in synced.stdout

    called = device_cli(home, "call", "stock", "list-items-local", "-p", "page:=2", "--json")
    assert called.returncode == 0, called.stderr
    assert '"id": "2-0"' in called.stdout
    assert "run local" in called.stderr
    table = device_cli(home, "call", "stock", "list-items")
    assert table.returncode == 0
    assert "item 3-3" in table.stdout

    listed = device_cli(home, "data", "stock")
    assert "list-items-local" in listed.stdout
    rows = device_cli(home, "data", "stock", "list-items-local", "--where", "page=3", "--json")
    assert rows.returncode == 0
    assert '"3-0"' in rows.stdout
    assert '"2-0"' not in rows.stdout

    bad = device_cli(home, "call", "stock", "nope")
    assert bad.returncode == 1
    assert "no function 'nope'" in bad.stderr
    out = device_cli(home, "logout")
    assert out.returncode == 0
    assert "Signed out." in out.stderr
    after = device_cli(home, "whoami")
    assert after.returncode == 1
    assert "not signed in" in after.stderr

    every_output = "".join(
        r.stdout + r.stderr for r in (login, synced, called, table, listed, rows, bad, out, after)
    )
    for secret in (TOKEN, PRIVATE, deployed.password):
        assert secret not in every_output
        assert secret.encode() not in files_under(home)
