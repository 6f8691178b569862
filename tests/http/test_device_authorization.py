"""RFC 8628 device authorization: start, the verification page, polling and its errors."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.http.conftest import PASSWORD, Authgate, basic, bearer

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def start(ag: Authgate, **form: str) -> dict[str, Any]:
    response = await ag.client.post(
        "/oauth/device_authorization", data={"client_id": "authgate-device", **form}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def poll(
    ag: Authgate, device_code: str, client_id: str = "authgate-device"
) -> httpx.Response:
    return await ag.token({"grant_type": GRANT, "device_code": device_code, "client_id": client_id})


async def submit(ag: Authgate, user_code: str, email: str, **form: str) -> httpx.Response:
    data = {"user_code": user_code, "email": email, "password": PASSWORD, **form}
    return await ag.client.post("/device", data=data)


async def test_the_whole_grant_through_the_verification_page(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner("dev")
    started = await start(ag, scope="openid offline_access")
    assert re.fullmatch(r"[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}", started["user_code"])
    assert started["verification_uri"] == "http://testserver/device"
    assert started["verification_uri_complete"].endswith(f"?user_code={started['user_code']}")
    assert started["expires_in"] == 600
    assert started["interval"] == 5

    first = await poll(ag, started["device_code"])
    assert first.status_code == 400
    assert first.json()["error"] == "authorization_pending"
    again = await poll(ag, started["device_code"])
    assert again.json()["error"] == "slow_down"

    page = await ag.client.get("/device", params={"user_code": started["user_code"]})
    assert page.status_code == 200
    assert started["user_code"] in page.text
    assert page.headers["referrer-policy"] == "no-referrer"

    # Typed loosely (lower case, no dash): the code is still recognised.
    loose = started["user_code"].replace("-", "").lower()
    wrong = await ag.client.post(
        "/device",
        data={"user_code": loose, "email": owner.email, "password": "not-the-password"},
    )
    assert wrong.status_code == 401
    assert "invalid email or password" in wrong.text
    allowed = await submit(ag, loose, owner.email)
    assert allowed.status_code == 200, allowed.text
    assert org.name in allowed.text

    ag.clock.advance(6)
    tokens = await poll(ag, started["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["organization"] == org.slug
    assert body["refresh_token"]
    me = await ag.me(body["access_token"])
    assert me.status_code == 200
    assert me.json()["email"] == owner.email

    # Single use: the device code, and the user code, are spent.
    replay = await poll(ag, started["device_code"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    reused = await submit(ag, started["user_code"], owner.email)
    assert reused.status_code == 404


async def test_denied_expired_unknown_and_other_clients(ag: Authgate) -> None:
    _, owner = await ag.org_with_owner("dev")
    denied = await start(ag)
    answer = await submit(ag, denied["user_code"], owner.email, decision="deny")
    assert answer.status_code == 200
    assert "denied" in answer.text
    refused = await poll(ag, denied["device_code"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "access_denied"

    other = await start(ag)
    stolen = await poll(ag, other["device_code"], client_id="someone-else")
    assert stolen.json()["error"] == "invalid_client"  # no such client
    unknown = await poll(ag, "not-a-device-code")
    assert unknown.json()["error"] == "invalid_grant"
    missing = await ag.token({"grant_type": GRANT, "client_id": "authgate-device"})
    assert missing.status_code == 400
    assert "device_code" in missing.json()["error_description"]

    ag.clock.advance(601)
    expired = await poll(ag, other["device_code"])
    assert expired.json()["error"] == "expired_token"
    late = await submit(ag, other["user_code"], owner.email)
    assert late.status_code == 404

    nobody = await submit(ag, "BCDF-GHJK", owner.email)
    assert nobody.status_code == 404


@pytest.mark.parametrize(
    ("form", "headers", "error"),
    [
        ({"client_id": "a-service-client"}, {}, "invalid_client"),
        ({}, {}, "invalid_request"),
        ({"client_id": "authgate-device", "client_secret": "x"}, {}, "invalid_client"),
        ({"scope": "openid"}, basic("authgate-device", "secret"), "invalid_client"),
    ],
)
async def test_only_the_public_device_client_may_start(
    ag: Authgate, form: dict[str, str], headers: dict[str, str], error: str
) -> None:
    response = await ag.client.post("/oauth/device_authorization", data=form, headers=headers)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == error


async def test_a_signed_in_user_allows_with_the_api(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner("dev")
    tokens = await ag.login(owner.email)
    started = await start(ag)
    unauthenticated = await ag.client.post(
        "/v1/device/decision", json={"user_code": started["user_code"]}
    )
    assert unauthenticated.status_code == 401
    decided = await ag.client.post(
        "/v1/device/decision",
        json={"user_code": started["user_code"]},
        headers=bearer(tokens["access_token"]),
    )
    assert decided.status_code == 200
    assert decided.json() == {"status": "allowed"}
    issued = await poll(ag, started["device_code"])
    assert issued.status_code == 200
    assert issued.json()["organization"] == org.slug


async def test_a_disabled_user_gets_nothing(ag: Authgate) -> None:
    _, owner = await ag.org_with_owner("dev")
    started = await start(ag)
    assert (await submit(ag, started["user_code"], owner.email)).status_code == 200
    user = await ag.services.deps.store.users.get(owner.id)
    assert user is not None
    from dataclasses import replace

    await ag.services.deps.store.users.update(replace(user, disabled=True))
    refused = await poll(ag, started["device_code"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "access_denied"
