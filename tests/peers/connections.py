"""authgate connected to the real OAuth provider: an organization with an ``oauth_client``
credential for it, users who connect their accounts, and a function that uses them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from authgate.identity.models import Organization, Role
from tests.egress.upstreams import Received, Reply, Upstream
from tests.http.conftest import BASE_URL, Authgate, bearer, unique
from tests.peers.oauth_provider import OAuthProvider

CLIENT_ID = "crm-client"
CLIENT_SECRET = "canary:Client+Secret/ %&=5b9e"
"""A client secret with the characters RFC 6749 §2.3.1's form-urlencoding must escape."""
REDIRECT_URI = f"{BASE_URL}/v1/connections/callback"
CREDENTIAL = "crm.oauth"
SCOPES = ["openid", "offline_access", "crm.read"]


@dataclass
class Tenant:
    """An organization with the provider's credential, and its owner signed in."""

    ag: Authgate
    provider: OAuthProvider
    org: Organization
    owner: dict[str, str]

    @property
    def slug(self) -> str:
        return self.org.slug

    async def member(self, role: Role = Role.USER) -> dict[str, str]:
        """A new member of the organization, signed in: their bearer headers."""
        user = await self.ag.user(f"{unique('member')}@{self.slug}.test")
        await self.ag.member(self.org, user, role)
        return bearer((await self.ag.login(user.email))["access_token"])

    async def authorize(
        self,
        headers: dict[str, str],
        name: str = CREDENTIAL,
        solution: str | None = None,
    ) -> httpx.Response:
        query = f"?{urlencode({'solution': solution})}" if solution else ""
        return await self.ag.client.get(f"/v1/connections/{name}/authorize{query}", headers=headers)

    async def consent(
        self,
        headers: dict[str, str],
        name: str = CREDENTIAL,
        solution: str | None = None,
        *,
        deny: bool = False,
    ) -> str:
        """Start connecting and consent at the provider: the callback path and query."""
        started = await self.authorize(headers, name, solution)
        assert started.status_code == 200, started.text
        back = await self.provider.consent(started.json()["authorizationUrl"], deny=deny)
        assert back.startswith(REDIRECT_URI + "?"), back
        return back.removeprefix(BASE_URL)

    async def connect(
        self, headers: dict[str, str], name: str = CREDENTIAL, solution: str | None = None
    ) -> httpx.Response:
        """The whole consent loop, ending on authgate's callback page."""
        response = await self.ag.client.get(await self.consent(headers, name, solution))
        assert response.status_code == 200, response.text
        return response

    async def connections(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        response = await self.ag.client.get("/v1/connections", headers=headers)
        assert response.status_code == 200, response.text
        listed: list[dict[str, Any]] = response.json()
        return listed

    async def publish(self, upstream: Upstream, solution: str = "crm") -> None:
        """A solution whose function ``orders`` calls the upstream with the user's token."""
        function = f"""\
provider: DATA_PROVIDER_REST
method: GET
url: {upstream.url("/orders")}
parameters:
  accessToken:
    location: header
    type: string
    required: true
    value: {CREDENTIAL}
records: =$.value
"""
        files = {"solution.yaml": f"name: {solution}\n", "functions/orders.yaml": function}
        response = await self.ag.client.put(
            f"/v1/orgs/{self.slug}/solutions/{solution}",
            headers=self.owner,
            json={"files": files},
        )
        assert response.status_code == 200, response.text

    async def call(
        self,
        headers: dict[str, str] | None = None,
        solution: str = "crm",
        ag: Authgate | None = None,
    ) -> httpx.Response:
        return await (ag or self.ag).client.post(
            f"/v1/solutions/{solution}/functions/orders:call",
            headers=headers or self.owner,
            json={"parameters": {}},
        )


def credential_body(
    provider: OAuthProvider, hosts: tuple[str, ...] = ("127.0.0.1",), **extra: Any
) -> dict[str, Any]:
    """The ``oauth_client`` credential of the provider's client."""
    return {
        "kind": "oauth_client",
        "clientSecret": provider.client_secret,
        "authorizeUrl": provider.authorize_url,
        "tokenUrl": provider.token_url,
        "clientId": provider.client_id,
        "scopes": SCOPES,
        # OpenID Connect issues a refresh token for offline_access only with prompt=consent.
        "extraAuthorizeParams": {"prompt": "consent"},
        "allowedHosts": list(hosts),
        **extra,
    }


async def tenant(
    ag: Authgate, provider: OAuthProvider, name: str = CREDENTIAL, **extra: Any
) -> Tenant:
    """A new organization whose owner stored the provider's credential as ``name``."""
    org, owner = await ag.org_with_owner("conn")
    headers = bearer((await ag.login(owner.email))["access_token"])
    stored = await ag.client.put(
        f"/v1/orgs/{org.slug}/credentials/{name}",
        headers=headers,
        json=credential_body(provider, **extra),
    )
    assert stored.status_code == 201, stored.text
    return Tenant(ag, provider, org, headers)


@dataclass
class CheckingUpstream:
    """An API that accepts a bearer token only if the provider says it is active (RFC 7662),
    and refuses the tokens listed in ``refuse`` once each, as an API that revoked them."""

    upstream: Upstream
    provider: OAuthProvider
    tokens: list[str]
    refuse: set[str]

    async def __call__(self, request: Received, reply: Reply) -> None:
        token = (request.header("authorization") or "").removeprefix("Bearer ")
        self.tokens.append(token)
        active = bool(token) and (await self.provider.introspect(token)).get("active") is True
        if token in self.refuse:
            self.refuse.discard(token)
            active = False
        if not active:
            await reply.send(401, [("www-authenticate", 'Bearer error="invalid_token"')])
            return
        body = json.dumps({"value": [{"id": "order-1"}]}).encode()
        await reply.send(200, [("content-type", "application/json")], body)


def checking(upstream: Upstream, provider: OAuthProvider) -> CheckingUpstream:
    """Route ``/orders`` of the upstream to a token-checking handler."""
    handler = CheckingUpstream(upstream, provider, [], set())
    upstream.routes["/orders"] = handler
    return handler
