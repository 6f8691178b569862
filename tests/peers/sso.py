"""authgate federated to the real OpenID provider (``oidc_idp.py``): organizations with an
IdP configured through the admin API, and the device app's side of both loops."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from authgate.identity.deps import Actor
from authgate.identity.models import Organization
from tests.http.conftest import BASE_URL, Authgate, bearer, unique
from tests.peers.oidc_idp import Idp

CLIENT_ID = "authgate-sso"
CLIENT_SECRET = "canary:Sso+Secret/ %&=7c1d"
"""authgate's client at the IdP; a canary that must never come back out."""
DEVICE_CLIENT = "authgate-device-app"
"""The device app's own (public) client at the IdP, for the device-run loop."""
CALLBACK = f"{BASE_URL}/v1/sso/callback"
APP_REDIRECT = "http://127.0.0.1/callback"
"""The device app's redirect URI registered with authgate (the default setting)."""
DEVICE_REDIRECT = "http://127.0.0.1:7777/device-callback"
"""The device app's redirect URI registered at the IdP for its own loop."""


def idp_clients() -> list[dict[str, Any]]:
    """authgate's confidential client and the device app's public client, as the IdP knows
    them."""
    return [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": [APP_REDIRECT],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        {
            "client_id": DEVICE_CLIENT,
            "redirect_uris": [DEVICE_REDIRECT],
            "token_endpoint_auth_method": "none",
        },
    ]


def pkce() -> tuple[str, str]:
    """A fresh RFC 7636 (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class AppLogin:
    """One brokered login as the device app runs it."""

    verifier: str
    challenge: str
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    redirect_uri: str = APP_REDIRECT

    def start_path(self, idp_id: str, **extra: str) -> str:
        params = {
            "idp": idp_id,
            "client_id": "authgate-device",
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "state": self.state,
            **extra,
        }
        return "/v1/sso/start?" + urlencode({k: v for k, v in params.items() if v is not None})


@dataclass
class SsoOrg:
    """An organization with a verified domain, its owner signed in, and an IdP."""

    ag: Authgate
    idp: Idp
    org: Organization
    owner: dict[str, str]
    domain: str
    idp_id: str = ""

    @property
    def slug(self) -> str:
        return self.org.slug

    def email(self, local: str) -> str:
        return f"{local}@{self.domain}"

    async def put_idp(self, name: str = "main", **body: Any) -> httpx.Response:
        return await self.ag.client.put(
            f"/v1/orgs/{self.slug}/sso/idps/{name}", headers=self.owner, json=body
        )

    async def settings(self, **body: Any) -> dict[str, Any]:
        response = await self.ag.client.patch(
            f"/v1/orgs/{self.slug}/sso", headers=self.owner, json=body
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def start(self, login: AppLogin | None = None, **extra: str) -> tuple[AppLogin, str]:
        """Start a brokered login: the app's login and the IdP's authorization URL."""
        login = login or AppLogin(*pkce())
        response = await self.ag.client.get(login.start_path(self.idp_id, **extra))
        assert response.status_code == 302, response.text
        return login, response.headers["location"]

    async def to_callback(self, login_name: str, **extra: str) -> tuple[AppLogin, str]:
        """Start, sign in at the IdP: the app's login and authgate's callback path."""
        login, url = await self.start(**extra)
        back = await self.idp.sign_in(url, login_name)
        assert back.startswith(CALLBACK + "?"), back
        return login, back.removeprefix(BASE_URL)

    async def to_app(self, login_name: str, **extra: str) -> tuple[AppLogin, dict[str, str]]:
        """The whole browser part: the query authgate redirects the app's URI with."""
        login, callback = await self.to_callback(login_name, **extra)
        response = await self.ag.client.get(callback)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(login.redirect_uri + "?"), location
        return login, query_of(location)

    async def redeem(self, login: AppLogin, code: str, **override: str) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": login.redirect_uri,
            "client_id": "authgate-device",
            "code_verifier": login.verifier,
            **override,
        }
        return await self.ag.client.post("/v1/sso/token", data=form)

    async def sign_in(self, login_name: str, **extra: str) -> dict[str, Any]:
        """A brokered login ending in authgate's tokens."""
        login, answer = await self.to_app(login_name, **extra)
        assert "code" in answer, answer
        response = await self.redeem(login, answer["code"])
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def sign_in_as(self, login_name: str, login_hint: str) -> dict[str, Any]:
        """:meth:`sign_in` with a login hint (which an Entra-like IdP routes by)."""
        return await self.sign_in(login_name, login_hint=login_hint)


async def sso_org(ag: Authgate, idp: Idp, prefix: str = "sso", domain: str | None = None) -> SsoOrg:
    """A new organization (domain ``<slug>.test`` unless given, verified by the operator)."""
    org, owner = await ag.org_with_owner(prefix)
    domain = domain or f"{org.slug}.test"
    org = await ag.services.organizations.set_domains_as_operator(
        org.slug, [domain], [], Actor(None)
    )
    headers = bearer((await ag.login(owner.email))["access_token"])
    return SsoOrg(ag, idp, org, headers, domain)


async def with_okta(ag: Authgate, idp: Idp, *, provisioning: str = "auto", **extra: Any) -> SsoOrg:
    """An organization whose IdP is the Okta-like peer's default issuer."""
    tenant = await sso_org(ag, idp)
    body = {
        "type": "okta",
        "issuer": idp.issuer,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "deviceClientId": DEVICE_CLIENT,
        "domains": [tenant.domain],
        **extra,
    }
    response = await tenant.put_idp(**body)
    assert response.status_code == 201, response.text
    tenant.idp_id = response.json()["id"]
    await tenant.settings(provisioning=provisioning)
    return tenant


async def person(tenant: SsoOrg, login: str, issuer: str | None = None, **claims: Any) -> str:
    """An account at the IdP (default: verified email at the organization's domain)."""
    claims.setdefault("email", tenant.email(login))
    claims.setdefault("email_verified", True)
    claims.setdefault("name", login.title())
    await tenant.idp.account(issuer or tenant.idp.issuer, login, **claims)
    return login


def unique_login(prefix: str = "user") -> str:
    return unique(prefix)
