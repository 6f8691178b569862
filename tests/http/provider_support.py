"""Registered apps, PKCE pairs and a browser for the provider's in-process tests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt

from authgate.identity.models import Organization
from authgate.provider.models import (
    ApplicationType,
    AuthMethod,
    ClientType,
    GrantType,
    OAuthClient,
)
from tests.e2e.provider_browser import ProviderBrowser
from tests.http.conftest import BASE_URL, Authgate, basic, unique

REDIRECT = "https://planner.example.com/callback"
LOGOUT_REDIRECT = "https://planner.example.com/signed-out"
ALL_GRANTS = (
    GrantType.AUTHORIZATION_CODE,
    GrantType.REFRESH_TOKEN,
    GrantType.CLIENT_CREDENTIALS,
)
SCOPES = ("openid", "profile", "email", "offline_access")


@dataclass(frozen=True)
class App:
    """A registered app and its secret (None for a public one)."""

    client: OAuthClient
    secret: str | None

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def auth(self) -> dict[str, str]:
        """Basic credentials for a confidential app, nothing for a public one."""
        return basic(self.client_id, self.secret) if self.secret else {}

    def form(self, **fields: str) -> dict[str, str]:
        """A token-endpoint form (a public app names itself in the body)."""
        return {**fields, **({} if self.secret else {"client_id": self.client_id})}


async def register(
    ag: Authgate,
    org: Organization,
    *,
    public: bool = False,
    redirect_uris: tuple[str, ...] = (REDIRECT,),
    grants: tuple[GrantType, ...] = ALL_GRANTS,
    algorithm: str = "RS256",
    native: bool = False,
) -> App:
    """Register an app straight in the store (the admin API has its own tests)."""
    now = ag.clock()
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=unique("app"),
        org_id=org.id,
        name="Planner",
        client_type=ClientType.PUBLIC if public else ClientType.CONFIDENTIAL,
        application_type=ApplicationType.NATIVE if native else ApplicationType.WEB,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=(LOGOUT_REDIRECT,),
        grant_types=grants,
        scopes=SCOPES,
        token_endpoint_auth_method=AuthMethod.NONE if public else AuthMethod.CLIENT_SECRET_BASIC,
        id_token_signed_response_alg=algorithm,
        secret_hash=None if secret is None else ag.services.deps.keyed.digest(secret),
        logo_uri=None,
        created_at=now,
        updated_at=now,
    )
    await ag.services.deps.store.oauth_clients.create(client)  # type: ignore[attr-defined]
    return App(client, secret)


def pkce() -> tuple[str, str]:
    """A verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(app: App, challenge: str | None, **extra: str) -> str:
    """An authorization request URL for ``app``."""
    params: dict[str, str] = {
        "client_id": app.client_id,
        "response_type": "code",
        "redirect_uri": app.client.redirect_uris[0],
        "scope": "openid profile email offline_access",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(extra)
    params = {k: v for k, v in params.items() if v != "<drop>"}
    return f"{BASE_URL}/oauth/authorize?{urlencode(params)}"


def browser(ag: Authgate, ip: str = "203.0.113.50") -> ProviderBrowser:
    """A person's browser on the in-process server (its own cookie jar)."""
    return ProviderBrowser(BASE_URL, client=ag.client_at(ip))


async def exchange(ag: Authgate, app: App, code: str, verifier: str | None, **extra: str) -> Any:
    """The token endpoint's answer for a code."""
    form = app.form(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    if verifier is not None:
        form["code_verifier"] = verifier
    form.update(extra)
    form = {k: v for k, v in form.items() if v != "<drop>"}
    return await ag.client.post("/oauth/token", data=form, headers=app.auth())


async def id_claims(ag: Authgate, id_token: str, app: App) -> dict[str, Any]:
    """The ID token's claims, checked by PyJWT with the published JWKS."""
    keys = (await ag.client.get("/.well-known/jwks.json")).json()["keys"]
    kid = jwt.get_unverified_header(id_token)["kid"]
    jwk = next(key for key in keys if key["kid"] == kid)
    key = jwt.PyJWK(jwk)
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key,
        algorithms=[app.client.id_token_signed_response_alg],
        audience=app.client_id,
        issuer=BASE_URL,
    )
    return claims
