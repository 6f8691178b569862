"""What a member's device receives for a solution's local functions, and what it never does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from authgate.identity.models import Role
from tests.http.conftest import Authgate, bearer, running, unique
from tests.peers.connections import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, tenant
from tests.peers.oauth_provider import OAuthProvider, start_provider

TOKEN = "canary-device-token-61f0aa"
HIDDEN = "canary-hidden-token-2c9d4e"
CLOUD = "canary-cloud-token-83b7d1"
DATABASE = "postgresql://canary-user:canary-db-secret-5d1e@db.internal/crm"


def local_function(credential: str, *, local: bool = True) -> str:
    return (
        "provider: DATA_PROVIDER_REST\nmethod: GET\nurl: https://api.crm.example/items\n"
        f"useLocalCall: {'true' if local else 'false'}\n"
        f"parameters:\n  accessToken: {{location: header, type: string, required: true, "
        f"value: {credential}}}\nrecords: =$.value\n"
    )


async def put(ag: Authgate, slug: str, headers: dict[str, str], name: str, **body: Any) -> None:
    answer = await ag.client.put(f"/v1/orgs/{slug}/credentials/{name}", headers=headers, json=body)
    assert answer.status_code == 201, answer.text


async def test_members_get_device_usable_credentials_of_local_functions_only(
    ag: Authgate,
) -> None:
    org, owner = await ag.org_with_owner("dev")
    headers = bearer((await ag.login(owner.email))["access_token"])
    hosts = {"allowedHosts": ["api.crm.example"]}
    await put(ag, org.slug, headers, "crm.token", kind="bearer_token", value=TOKEN,
              deviceUsable=True, **hosts)  # fmt: skip
    await put(ag, org.slug, headers, "crm.hidden", kind="bearer_token", value=HIDDEN, **hosts)
    await put(ag, org.slug, headers, "crm.cloud", kind="api_key", value=CLOUD,
              deviceUsable=True, **hosts)  # fmt: skip
    await put(ag, org.slug, headers, "crm.db", kind="sql_connection", value=DATABASE)
    files = {
        "solution.yaml": "name: crm\n",
        "functions/a.yaml": local_function("crm.token"),
        "functions/b.yaml": local_function("crm.hidden"),
        "functions/c.yaml": local_function("crm.cloud", local=False),
        "functions/d.yaml": local_function("crm.db"),
    }
    published = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/crm", headers=headers, json={"files": files}
    )
    assert published.status_code == 200, published.text

    answer = await ag.client.get("/v1/solutions/crm/device-credentials", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["solution"] == "crm"
    assert body["version"] == 1
    assert body["credentials"] == {
        "crm.token": {"kind": "bearer", "value": TOKEN, "allowedHosts": ["api.crm.example"],
                      "version": 1},
    }  # fmt: skip
    assert {name: item["reason"] for name, item in body["withheld"].items()} == {
        "crm.hidden": "not_device_usable",
        "crm.db": "not_device_usable",
    }
    for secret in (HIDDEN, CLOUD, DATABASE, "canary-db-secret"):
        assert secret not in answer.text

    events = await ag.services.deps.store.audit.list(org.id)
    sent = [e for e in events if e.action == "credential.sent_to_device"]
    assert [e.subject for e in sent] == ["crm.token"]
    assert sent[0].actor_id == owner.id

    # A member of the organization who is not a member of the solution, and another
    # organization's owner: the solution does not exist for them.
    outsider = await ag.user(f"{unique('outsider')}@{org.slug}.test")
    await ag.member(org, outsider, Role.USER)
    _other_org, other_owner = await ag.org_with_owner("other")
    for email in (outsider.email, other_owner.email):
        token = (await ag.login(email))["access_token"]
        refused = await ag.client.get("/v1/solutions/crm/device-credentials", headers=bearer(token))
        assert refused.status_code == 404
        assert TOKEN not in refused.text
    unauthenticated = await ag.client.get("/v1/solutions/crm/device-credentials")
    assert unauthenticated.status_code == 401

    unknown = await ag.client.post(
        "/v1/solutions/crm/device-credentials/crm.cloud:refresh", headers=headers, json={}
    )
    assert unknown.status_code == 404
    assert CLOUD not in unknown.text


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[OAuthProvider]:
    async with start_provider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
    ) as running_provider:
        yield running_provider


@pytest_asyncio.fixture
async def oauth_ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, egress_allowed_hosts=("127.0.0.1",)) as instance:
        yield instance


async def test_an_oauth_credential_is_the_users_own_access_token(
    oauth_ag: Authgate, provider: OAuthProvider
) -> None:
    ag = oauth_ag
    acme = await tenant(ag, provider, deviceUsable=True)
    files = {"solution.yaml": "name: crm\n", "functions/a.yaml": local_function("crm.oauth")}
    published = await ag.client.put(
        f"/v1/orgs/{acme.slug}/solutions/crm", headers=acme.owner, json={"files": files}
    )
    assert published.status_code == 200, published.text

    before = await ag.client.get("/v1/solutions/crm/device-credentials", headers=acme.owner)
    withheld = before.json()["withheld"]["crm.oauth"]
    assert withheld["reason"] == "consent_required"
    assert withheld["authorize"] == "/v1/connections/crm.oauth/authorize"

    await acme.connect(acme.owner)
    after = await ag.client.get("/v1/solutions/crm/device-credentials", headers=acme.owner)
    entry = after.json()["credentials"]["crm.oauth"]
    assert entry["kind"] == "oauth"
    assert (await provider.introspect(entry["value"]))["active"] is True
    assert entry["oauth"]["clientId"] == CLIENT_ID
    assert "clientSecret" not in entry["oauth"]
    assert CLIENT_SECRET not in after.text
    assert "refresh_token" not in after.text

    refreshed = await ag.client.post(
        "/v1/solutions/crm/device-credentials/crm.oauth:refresh",
        headers=acme.owner,
        json={"rejected": entry["value"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()["credentials"]["crm.oauth"]["value"]
    assert fresh != entry["value"]
    assert (await provider.introspect(fresh))["active"] is True
    assert await provider.grants("refresh_token") == 1
