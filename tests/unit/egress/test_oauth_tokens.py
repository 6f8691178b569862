"""Token requests to a provider through the egress client (RFC 6749 §4.1.3, §6, §2.3.1,
§5.1, §5.2; RFC 7636 §4.5), against a real HTTP server on 127.0.0.1 playing the provider."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import pytest
import pytest_asyncio

from authgate.egress import AddressPolicy, EgressClient
from authgate.egress.errors import ForbiddenDestination, UpstreamTooLarge, UpstreamUnreachable
from authgate.egress.oauth_tokens import (
    EgressTokenClient,
    TokenClientRejected,
    TokenEndpointFailed,
    basic_authorization,
)
from authgate.errors import AuthgateError
from authgate.vault.errors import TokenRequestRejected
from authgate.vault.models import OAuthClientConfig, TokenEndpointAuth
from tests.egress.upstreams import Received, Reply, Upstream

SECRET = "canary:se cret+/%&=é"
CODE = "canary-code-8d1e"
VERIFIER = "canary-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
REFRESH = "canary-refresh-77ab"
ACCESS = "canary-access-19fe"
CANARIES = (SECRET, CODE, VERIFIER, REFRESH, ACCESS)


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def egress() -> AsyncIterator[EgressClient]:
    async with EgressClient(AddressPolicy.from_entries(["127.0.0.1"])) as client:
        yield client


@pytest_asyncio.fixture
async def tokens(egress: EgressClient) -> EgressTokenClient:
    return EgressTokenClient(egress, max_bytes=4096)


def config(provider: Upstream, **extra: Any) -> OAuthClientConfig:
    return OAuthClientConfig(
        authorize_url=provider.url("/authorize"),
        token_url=provider.url("/token"),
        client_id="crm client:1",
        **extra,
    )


def answer(body: Any, status: int = 200, content_type: str = "application/json") -> Any:
    async def handler(request: Received, reply: Reply) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await reply.send(status, [("content-type", content_type)], data)

    return handler


def form_of(request: Received) -> dict[str, list[str]]:
    return parse_qs(request.body.decode(), keep_blank_values=True)


async def exchange(tokens: EgressTokenClient, provider: Upstream, **extra: Any) -> Any:
    return await tokens.exchange_code(
        config(provider, **extra),
        SECRET,
        code=CODE,
        redirect_uri="https://a.test/cb",
        code_verifier=VERIFIER,
    )


async def test_a_code_is_exchanged_with_the_verifier_and_basic_authentication(
    tokens: EgressTokenClient, provider: Upstream
) -> None:
    provider.routes["/token"] = answer(
        {
            "access_token": ACCESS,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": REFRESH,
            "scope": "openid crm.read",
        }
    )

    grant = await exchange(tokens, provider)

    assert (grant.access_token, grant.refresh_token) == (ACCESS, REFRESH)
    assert (grant.expires_in, grant.scope) == (3600, "openid crm.read")
    [request] = provider.received
    assert request.method == "POST"
    assert request.header("content-type") == "application/x-www-form-urlencoded"
    assert request.header("accept") == "application/json"
    assert form_of(request) == {
        "grant_type": ["authorization_code"],
        "code": [CODE],
        "redirect_uri": ["https://a.test/cb"],
        "code_verifier": [VERIFIER],
    }
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    client_id, _, secret = base64.b64decode(encoded).decode("ascii").partition(":")
    assert scheme == "Basic"
    assert (unquote_plus(client_id), unquote_plus(secret)) == ("crm client:1", SECRET)
    assert ":" not in secret  # the secret's colon is encoded, so the split is unambiguous
    assert ACCESS not in repr(grant)


async def test_client_secret_post_puts_id_and_secret_in_the_body(
    tokens: EgressTokenClient, provider: Upstream
) -> None:
    provider.routes["/token"] = answer({"access_token": ACCESS, "token_type": "bearer"})

    await exchange(tokens, provider, token_auth=TokenEndpointAuth.CLIENT_SECRET_POST)

    [request] = provider.received
    assert request.header("authorization") is None
    form = form_of(request)
    assert (form["client_id"], form["client_secret"]) == (["crm client:1"], [SECRET])


async def test_without_pkce_no_verifier_is_sent(
    tokens: EgressTokenClient, provider: Upstream
) -> None:
    provider.routes["/token"] = answer({"access_token": ACCESS, "token_type": "Bearer"})

    await tokens.exchange_code(
        config(provider), SECRET, code=CODE, redirect_uri="https://a.test/cb", code_verifier=None
    )

    assert "code_verifier" not in form_of(provider.received[0])


async def test_a_refresh_sends_the_refresh_token_and_may_get_none_back(
    tokens: EgressTokenClient, provider: Upstream
) -> None:
    provider.routes["/token"] = answer({"access_token": ACCESS, "token_type": "Bearer"})

    grant = await tokens.refresh(config(provider), SECRET, refresh_token=REFRESH)

    assert grant.refresh_token is None  # the vault keeps the one it has (RFC 6749 §6)
    assert grant.expires_in is None
    assert form_of(provider.received[0]) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH],
    }


@pytest.mark.parametrize(
    ("expires_in", "seen"),
    [(3600, 3600), ("3600", 3600), (3600.0, 3600), (0, 0), (10**12, 10 * 365 * 24 * 3600)],
)
async def test_expires_in_is_read_in_the_forms_providers_send(
    tokens: EgressTokenClient, provider: Upstream, expires_in: object, seen: int
) -> None:
    provider.routes["/token"] = answer(
        {"access_token": ACCESS, "token_type": "Bearer", "expires_in": expires_in}
    )

    assert (await exchange(tokens, provider)).expires_in == seen


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_grant", "error_description": f"bad {REFRESH}"}),
        (400, {"error": "invalid_request"}),
        (400, {"error": "invalid_scope"}),
        (400, {"error": "unsupported_grant_type"}),
        (400, b"<html>bad request</html>"),
        (400, {"error": 'quote"and\\slash'}),
        (401, {"error": "invalid_grant"}),
    ],
)
async def test_a_refused_grant_is_token_request_rejected(
    tokens: EgressTokenClient, provider: Upstream, status: int, body: Any
) -> None:
    provider.routes["/token"] = answer(body, status)

    with pytest.raises(TokenRequestRejected) as refused:
        await tokens.refresh(config(provider), SECRET, refresh_token=REFRESH)

    assert refused.value.status == 400
    assert "127.0.0.1" in refused.value.message
    assert_clean(refused.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "invalid_client"}),
        (400, {"error": "invalid_client"}),
        (400, {"error": "unauthorized_client"}),
        (401, b""),
    ],
)
async def test_a_refused_client_is_not_the_users_consent(
    tokens: EgressTokenClient, provider: Upstream, status: int, body: Any
) -> None:
    provider.routes["/token"] = answer(body, status)

    with pytest.raises(TokenClientRejected) as refused:
        await exchange(tokens, provider)

    assert not isinstance(refused.value, TokenRequestRejected)
    assert "clientSecret" in refused.value.message
    assert_clean(refused.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": "server_error"}),
        (503, b"down"),
        (429, {"error": "slow_down"}),
        (201, {"access_token": ACCESS, "token_type": "Bearer"}),
        (200, b"not json"),
        (200, [ACCESS]),
        (200, {"token_type": "Bearer"}),
        (200, {"access_token": "", "token_type": "Bearer"}),
        (200, {"access_token": 42, "token_type": "Bearer"}),
        (200, {"access_token": ACCESS + "\n", "token_type": "Bearer"}),
        (200, {"access_token": ACCESS + "é", "token_type": "Bearer"}),
        (200, {"access_token": "a" * 16385, "token_type": "Bearer"}),
        (200, {"access_token": ACCESS, "token_type": "DPoP"}),
        (200, {"access_token": ACCESS, "token_type": "mac"}),
        (200, {"access_token": ACCESS, "token_type": None}),
        (200, {"access_token": ACCESS, "refresh_token": 7}),
        (200, {"access_token": ACCESS, "refresh_token": REFRESH + "\x00"}),
        (200, {"access_token": ACCESS, "expires_in": -1}),
        (200, {"access_token": ACCESS, "expires_in": True}),
        (200, {"access_token": ACCESS, "expires_in": "soon"}),
        (200, {"access_token": ACCESS, "expires_in": 1.5}),
        (200, {"access_token": ACCESS, "scope": ["openid"]}),
    ],
)
async def test_a_failing_or_malformed_answer_is_an_upstream_error_naming_the_host(
    egress: EgressClient, provider: Upstream, status: int, body: Any
) -> None:
    provider.routes["/token"] = answer(body, status)

    with pytest.raises(TokenEndpointFailed) as failed:
        await exchange(EgressTokenClient(egress, max_bytes=64 * 1024), provider)

    assert failed.value.status == 502
    assert "127.0.0.1" in failed.value.message
    assert_clean(failed.value)


async def test_a_redirect_is_not_followed_with_the_secret(
    tokens: EgressTokenClient, provider: Upstream
) -> None:
    elsewhere = await Upstream().start()
    try:

        async def moved(request: Received, reply: Reply) -> None:
            await reply.send(307, [("location", elsewhere.url("/token"))])

        provider.routes["/token"] = moved

        with pytest.raises(TokenEndpointFailed) as failed:
            await exchange(tokens, provider, token_auth=TokenEndpointAuth.CLIENT_SECRET_POST)
    finally:
        await elsewhere.close()

    assert "redirect" in failed.value.message
    assert elsewhere.received == []
    assert_clean(failed.value)


async def test_an_oversized_answer_is_bounded(
    tokens: EgressTokenClient, provider: Upstream
) -> None:
    provider.routes["/token"] = answer({"access_token": ACCESS, "padding": "x" * 8192})

    with pytest.raises(UpstreamTooLarge):
        await exchange(tokens, provider)


async def test_an_unreachable_provider_is_an_upstream_error(tokens: EgressTokenClient) -> None:
    closed = await Upstream().start()
    client = config(closed)
    await closed.close()

    with pytest.raises(UpstreamUnreachable) as failed:
        await tokens.refresh(client, SECRET, refresh_token=REFRESH)

    assert_clean(failed.value)


@pytest.mark.parametrize(
    "token_url", ["http://10.0.0.1/token", "http://169.254.169.254/token", "http://[::1]/token"]
)
async def test_the_address_policy_applies_to_token_requests(token_url: str) -> None:
    async with EgressClient(AddressPolicy()) as egress:
        client = OAuthClientConfig(
            authorize_url="https://login.test/authorize", token_url=token_url, client_id="c"
        )
        with pytest.raises(ForbiddenDestination):
            await EgressTokenClient(egress).refresh(client, SECRET, refresh_token=REFRESH)


@pytest.mark.parametrize(
    ("client_id", "secret", "encoded"),
    [
        ("abc", "def", "abc:def"),
        ("a b", "c d", "a+b:c+d"),
        ("id:1", "s:e", "id%3A1:s%3Ae"),
        ("x", "+/=%&", "x:%2B%2F%3D%25%26"),
        ("é", "ü", "%C3%A9:%C3%BC"),
    ],
)
def test_basic_authentication_form_urlencodes_id_and_secret(
    client_id: str, secret: str, encoded: str
) -> None:
    header = basic_authorization(client_id, secret)

    assert header == "Basic " + base64.b64encode(encoded.encode()).decode()


def assert_clean(error: AuthgateError) -> None:
    """No code, verifier, token or secret in the message or the details."""
    shown = error.message + json.dumps(error.details)
    for canary in CANARIES:
        assert canary not in shown
