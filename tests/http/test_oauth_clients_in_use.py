"""Apps registered through the admin API, in use: they sign people in, and a new secret, a
disabled app or a deleted one takes effect at the token endpoint at once; a deleted app's
sessions end; every failed client authentication gets the same answer."""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from authgate.identity.models import Organization
from authgate.store.oauth_clients import REVOKED_REASON
from tests.http.conftest import PASSWORD, Authgate, basic, bearer
from tests.http.provider_support import REDIRECT, App, authorize_url, browser, exchange, pkce

BODY = {
    "name": "Planner",
    "redirect_uris": [REDIRECT],
    "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
}


async def registered(
    ag: Authgate, org: Organization, headers: dict[str, str], **changes: Any
) -> App:
    response = await ag.client.post(
        f"/v1/orgs/{org.slug}/oauth-clients", json={**BODY, **changes}, headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    client = await ag.services.deps.store.oauth_clients.get(body["client_id"])  # type: ignore[attr-defined]
    return App(client, body["client_secret"])


async def signed_in(ag: Authgate, app: App, email: str) -> dict[str, Any]:
    """The tokens ``app`` gets for the person ``email`` through the code flow."""
    verifier, challenge = pkce()
    async with browser(ag) as person:
        left = await person.sign_in(authorize_url(app, challenge), email, PASSWORD)
    response = await exchange(ag, app, left.params["code"], verifier)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def refresh(ag: Authgate, app: App, token: str, secret: str | None) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    headers = basic(app.client_id, secret) if secret is not None else {}
    return await ag.client.post("/oauth/token", data=form, headers=headers)


def assert_invalid_client(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "client authentication failed",
    }


async def test_rotation_disabling_and_deletion_take_effect_at_once(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = bearer((await ag.login(owner.email))["access_token"])
    app = await registered(ag, org, headers)
    tokens = await signed_in(ag, app, owner.email)
    url = f"/v1/orgs/{org.slug}/oauth-clients/{app.client_id}"

    rotated = (await ag.client.post(url + "/secret", headers=headers)).json()["client_secret"]
    assert_invalid_client(await refresh(ag, app, tokens["refresh_token"], app.secret))
    renewed = await refresh(ag, app, tokens["refresh_token"], rotated)
    assert renewed.status_code == 200, renewed.text
    tokens = renewed.json()

    await ag.client.put(url, json={**BODY, "disabled": True}, headers=headers)
    assert_invalid_client(await refresh(ag, app, tokens["refresh_token"], rotated))
    await ag.client.put(url, json=BODY, headers=headers)
    renewed = await refresh(ag, app, tokens["refresh_token"], rotated)
    assert renewed.status_code == 200, renewed.text
    tokens = renewed.json()

    assert (await ag.client.delete(url, headers=headers)).status_code == 204
    assert_invalid_client(await refresh(ag, app, tokens["refresh_token"], rotated))
    info = await ag.client.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert info.status_code == 401
    store: Any = ag.services.deps.store
    family = await store.refresh_tokens.get_family(session_of(tokens))
    assert family.revoked_reason == REVOKED_REASON


def session_of(tokens: dict[str, Any]) -> str:
    """The session (refresh-token family) id the access token names."""
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    session: str = claims["sid"]
    return session


async def test_every_failed_client_authentication_looks_the_same(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = bearer((await ag.login(owner.email))["access_token"])
    confidential = await registered(ag, org, headers)
    public = await registered(
        ag, org, headers, token_endpoint_auth_method="none", grant_types=["authorization_code"]
    )
    assert confidential.secret is not None
    grant = {"grant_type": "client_credentials"}
    attempts = [
        await ag.token(grant, basic(confidential.client_id, confidential.secret + "x")),
        await ag.token(grant, basic(confidential.client_id, "")),
        await ag.token(grant, basic("app_unknown", confidential.secret)),
        await ag.token({**grant, "client_id": confidential.client_id}),
        await ag.token(grant, basic(public.client_id, "a-secret-it-never-had")),
        await ag.token(
            {"grant_type": "refresh_token", "refresh_token": "x", "client_id": public.client_id,
             "client_secret": "a-secret-it-never-had"}
        ),
    ]  # fmt: skip
    for response in attempts:
        assert_invalid_client(response)
    issued = await ag.token(grant, basic(confidential.client_id, confidential.secret))
    assert issued.status_code == 200, issued.text
