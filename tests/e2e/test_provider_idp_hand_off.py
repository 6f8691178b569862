"""A person whose organization signs in through its own IdP (a real npm oidc-provider, the
Okta-like peer) signs in to a third-party app: openid-client sends the browser to a real
`authgate serve`, whose sign-in page hands the person to the IdP and back, then asks for
consent; the app gets an ID token saying how the person signed in."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.provider_apps import CALLBACK, ORG, provider_deployment
from tests.e2e.provider_browser import Left, ProviderBrowser
from tests.e2e.servers import cli, free_port
from tests.peers.oidc_idp import start_idp
from tests.peers.openid_rp import start_rp

pytestmark = pytest.mark.e2e
DOMAIN = "acme.test"
SSO_CLIENT = "authgate-sso"
SSO_SECRET = "canary:Provider+Sso/ %&=4e1b"
"""authgate's client secret at the IdP: a canary that must never come back out."""


async def test_an_sso_person_signs_in_to_an_app_through_the_organizations_idp(
    tmp_path: Path,
) -> None:
    port = free_port()
    idp_client = {
        "client_id": SSO_CLIENT,
        "client_secret": SSO_SECRET,
        "redirect_uris": [f"http://127.0.0.1:{port}/v1/sso/callback"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    async with start_idp("okta", [idp_client]) as idp:
        with provider_deployment(tmp_path, port=port, egress_allowed_hosts="127.0.0.1") as dep:
            domains = cli(dep.env, "admin", "org-domains", ORG, "--add", DOMAIN)
            assert domains.returncode == 0, domains.stderr
            owner = {"authorization": f"Bearer {dep.owner_token}"}
            async with httpx.AsyncClient(base_url=dep.issuer, headers=owner) as admin:
                put = await admin.put(
                    f"/v1/orgs/{ORG}/sso/idps/main",
                    json={
                        "type": "okta",
                        "issuer": idp.issuer,
                        "clientId": SSO_CLIENT,
                        "clientSecret": SSO_SECRET,
                        "domains": [DOMAIN],
                        "displayName": "Acme Okta",
                    },
                )
                assert put.status_code == 201, put.text
                idp_id = put.json()["id"]
                settings = await admin.patch(f"/v1/orgs/{ORG}/sso", json={"provisioning": "auto"})
                assert settings.status_code == 200, settings.text
            await idp.account(idp.issuer, "ada", email=f"ada@{DOMAIN}", email_verified=True)
            app = dep.register("Planner")

            async with start_rp() as rp, ProviderBrowser(dep.issuer) as browser:
                await rp.discover("web", dep.issuer, app.client_id, app.client_secret)
                request = await rp.authorization_url("web", CALLBACK, "openid email profile")
                to_idp = await browser.browse(request.url, email=f"ada@{DOMAIN}", idp=idp_id)
                assert isinstance(to_idp, Left), to_idp
                assert to_idp.url.startswith(idp.issuer)
                # The page offered the organization's IdP by name for the email's domain.
                assert "Acme Okta" in browser.pages[-1].text
                back = await idp.sign_in(to_idp.url, "ada", browser=browser.client)
                assert back.startswith(f"{dep.issuer}/v1/sso/callback?"), back
                arrived = await browser.browse(back, decision="allow")
                assert isinstance(arrived, Left), arrived
                assert arrived.address == CALLBACK
                assert arrived.params["iss"] == dep.issuer
                granted = await rp.code_grant("web", request, arrived.url)
                claims = granted["claims"]
                assert claims["email"] == f"ada@{DOMAIN}"
                assert claims["amr"] == ["fed"]
                assert claims["acr"] == "urn:authgate:acr:sso"
                assert claims["nonce"] == request.nonce
                assert granted["at_hash_checked"] is True
                info = await rp.userinfo("web", granted["tokens"]["access_token"], claims["sub"])
                assert info["email"] == f"ada@{DOMAIN}"
            log = dep.server.log()
    assert SSO_SECRET not in log
    assert app.client_secret is not None
    assert app.client_secret not in log
