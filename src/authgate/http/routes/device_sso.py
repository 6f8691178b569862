"""The device verification page's single sign-on (RFC 8628 §3.3 for people whose
organization signs in through its own IdP).

``POST /device/sso`` takes the code and the email, and sends the browser to the
organization's IdP through the SSO broker. The login comes back to ``/device/sso/return``,
where the person the IdP vouched for allows the device. The return only works in the
browser that started it (a cookie carries the handle that the broker's ``state`` must
match), and the broker's code is redeemed with a PKCE verifier only this server can derive.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from authgate.crypto.randomness import new_secret
from authgate.errors import AuthgateError, NoActiveMembership, ServiceUnavailable
from authgate.federation import Federation
from authgate.federation.errors import InvalidRedirectUri
from authgate.http.deps import ServicesDep, client_ip
from authgate.http.errors import NO_STORE
from authgate.http.provider_forms import form_fields
from authgate.http.routes.device import device_page, grants
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.vault.connections import pkce_challenge

router = APIRouter(include_in_schema=False)
DEVICE_PAGE_SSO_CLIENT = "authgate-device-page"
"""The client id under which the device page starts brokered SSO logins."""
DEVICE_SSO_RETURN_PATH = "/device/sso/return"
COOKIE = "authgate_device_sso"


def _federation(services: Services) -> Federation:
    if services.federation is None:
        raise ServiceUnavailable("single sign-on is not available on this server")
    return services.federation


def _verifier(services: Services, handle: str) -> str:
    # Derived, not stored: only this server can compute it from the handle.
    return services.deps.keyed.digest(f"device sso pkce\x00{handle}")


@router.post("/device/sso")
async def device_sso(request: Request, services: ServicesDep) -> Response:
    """Send the person to their organization's IdP to allow the device."""
    form = await form_fields(request, ("user_code", "email"))
    user_code, email = form.get("user_code", "")[:16], form.get("email", "").strip()[:254]
    try:
        required = await grants(services).required_organization(user_code)
        realm = await _federation(services).realm.discover(email)
        idps = [e.idp for e in realm.idps if required is None or e.org.id == required]
        if not idps:
            raise NoActiveMembership(
                "single sign-on is not set up for this email address here; use your password"
            )
        handle = new_secret()
        url = await _federation(services).brokered.start(
            idps[0].id,
            client_id=DEVICE_PAGE_SSO_CLIENT,
            redirect_uri=services.settings.issuer + DEVICE_SSO_RETURN_PATH,
            code_challenge=pkce_challenge(_verifier(services, handle)),
            code_challenge_method="S256",
            app_state=handle,
            login_hint=email,
            actor=Actor(None, client_ip(request)),
        )
    except (AuthgateError, InvalidRedirectUri) as exc:
        return device_page(status=exc.status, error=exc.message, user_code=user_code)
    response = RedirectResponse(url, 303, headers=NO_STORE)
    response.set_cookie(
        COOKIE,
        f"{handle}.{user_code}",
        max_age=900,
        path=DEVICE_SSO_RETURN_PATH,
        httponly=True,
        secure=services.settings.issuer.startswith("https://"),
        samesite="lax",
    )
    return response


@router.get(DEVICE_SSO_RETURN_PATH)
async def device_sso_return(request: Request, services: ServicesDep) -> Response:
    """Back from the IdP: the person it vouched for allows the device."""
    handle, _, user_code = request.cookies.get(COOKIE, "").partition(".")
    query = request.query_params
    try:
        if not handle or query.get("state") != handle:
            raise NoActiveMembership(
                "this sign-in was started in another browser; enter the code again here"
            )
        if query.get("error") or not query.get("code"):
            raise NoActiveMembership(
                query.get("error_description", "your identity provider refused the sign-in")[:300]
            )
        admission, _ = await _federation(services).brokered.admit(
            code=query["code"],
            code_verifier=_verifier(services, handle),
            redirect_uri=services.settings.issuer + DEVICE_SSO_RETURN_PATH,
            client_id=DEVICE_PAGE_SSO_CLIENT,
            actor=Actor(None, client_ip(request)),
        )
        required = await grants(services).required_organization(user_code)
        if required is not None and admission.org.id != required:
            raise NoActiveMembership("this app belongs to another organization")
        await grants(services).decide(
            user_code, admission.user, admission.org, allow=True,
            actor=Actor(admission.user.id, client_ip(request)),
        )  # fmt: skip
    except AuthgateError as exc:
        page = device_page(status=exc.status, error=exc.message, user_code=user_code)
        page.delete_cookie(COOKIE, path=DEVICE_SSO_RETURN_PATH)
        return page
    page = device_page(
        done=f"The device is signed in to {admission.org.name}. You can close this page."
    )
    page.delete_cookie(COOKIE, path=DEVICE_SSO_RETURN_PATH)
    return page
