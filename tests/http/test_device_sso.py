"""The device client's browser sign-in against authgate's brokered SSO and a real OpenID
provider (npm oidc-provider, Okta-like): discovery, the loopback redirect, PKCE, and the
one-time code redeemed for authgate's tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from authgate.client import AsyncClient, SignInFailed
from tests.http.conftest import BASE_URL, Authgate, running
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import SsoOrg, idp_clients, person, unique_login, with_okta


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    async with start_idp("okta", idp_clients()) as running_idp:
        yield running_idp


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, egress_allowed_hosts=("127.0.0.1",)) as instance:
        yield instance


def browser_for(
    acme: SsoOrg, login: str, loop: asyncio.AbstractEventLoop, seen: list[str]
) -> Callable[[str], None]:
    """The system browser: authgate (in process), the IdP's pages, then the loopback."""

    async def browse(url: str) -> None:
        seen.append(url)
        start = await acme.ag.client.get(url.removeprefix(BASE_URL))
        assert start.status_code == 302, start.text
        back = await acme.idp.sign_in(start.headers["location"], login)
        callback = await acme.ag.client.get(back.removeprefix(BASE_URL))
        assert callback.status_code == 302, callback.text
        seen.append(callback.headers["location"])
        async with httpx.AsyncClient() as loopback:
            await loopback.get(callback.headers["location"])

    def open_browser(url: str) -> None:
        asyncio.run_coroutine_threadsafe(browse(url), loop).result(timeout=60)

    return open_browser


async def test_the_device_signs_in_through_the_organizations_idp(
    ag: Authgate, idp: Idp, tmp_path: Path
) -> None:
    acme = await with_okta(ag, idp)
    login = await person(acme, unique_login("ada"), name="Ada Lovelace")
    seen: list[str] = []
    async with AsyncClient(
        BASE_URL, root=tmp_path, transport=httpx.ASGITransport(app=ag.asgi)
    ) as client:
        tokens = await client.login_sso(
            acme.email(login),
            open_browser=browser_for(acme, login, asyncio.get_running_loop(), seen),
            give_up_after=60,
        )
        assert tokens.organization == acme.slug
        me = await client.whoami()
        assert me["email"] == acme.email(login)
    start, back = seen
    assert start.startswith(f"{BASE_URL}/v1/sso/start?idp={acme.idp_id}&")
    assert "code_challenge_method=S256" in start
    assert back.startswith("http://127.0.0.1:")
    assert "/callback?" in back


async def test_a_domain_without_sso_is_told_to_use_a_password(ag: Authgate, tmp_path: Path) -> None:
    async with AsyncClient(
        BASE_URL, root=tmp_path, transport=httpx.ASGITransport(app=ag.asgi)
    ) as client:
        with pytest.raises(SignInFailed) as refused:
            await client.login_sso("someone@no-sso.example", open_browser=lambda url: None)
    assert "password" in refused.value.message
