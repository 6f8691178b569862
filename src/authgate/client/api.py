"""The server's API as flows (see :mod:`authgate.client.wire`): one place for every request
the device makes and for how each answer is read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from authgate.client.errors import ServerError, SignInFailed
from authgate.client.tokens import TokenSet
from authgate.client.wire import Answer, Call, Flow, Pause
from authgate.functions.call import CallResult

DEVICE_CLIENT_ID = "authgate-device"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5
REDEEM_PATH = "/v1/sso/token"


def _answer(answer: Answer | None) -> Answer:
    assert answer is not None, "a Call is always answered"
    return answer


def _segment(value: str) -> str:
    return quote(value, safe="")


def password_login(email: str, password: str, organization: str | None) -> Flow[TokenSet]:
    """``POST /v1/auth/login``."""
    body: dict[str, Any] = {"email": email, "password": password}
    if organization:
        body["organization"] = organization
    answer = _answer((yield Call("POST", "/v1/auth/login", json=body, authenticated=False)))
    return TokenSet.from_response(answer.ok())


def refresh(refresh_token: str) -> Flow[TokenSet]:
    """RFC 6749 §6 at ``/oauth/token``; the server rotates the refresh token."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": DEVICE_CLIENT_ID,
    }
    answer = _answer((yield Call("POST", "/oauth/token", form=form, authenticated=False)))
    return TokenSet.from_response(answer.ok())


def sign_out(tokens: TokenSet) -> Flow[None]:
    """End the session on the server: logout with the access token, and RFC 7009 revocation
    of the refresh token (which works even when the access token has expired)."""
    yield Call(
        "POST",
        "/v1/auth/logout",
        headers=(("authorization", f"Bearer {tokens.access_token}"),),
        authenticated=False,
    )
    if tokens.refresh_token:
        form = {
            "token": tokens.refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": DEVICE_CLIENT_ID,
        }
        yield Call("POST", "/oauth/revoke", form=form, authenticated=False)


def me() -> Flow[dict[str, Any]]:
    """``GET /v1/me``: the signed-in user and their organizations."""
    answer = _answer((yield Call("GET", "/v1/me")))
    found: dict[str, Any] = answer.ok()
    return found


def definition(solution: str, etag: str | None) -> Flow[Answer]:
    """``GET /v1/solutions/{solution}/definition`` (conditional on the ETag held)."""
    headers = (("if-none-match", etag),) if etag else ()
    path = f"/v1/solutions/{_segment(solution)}/definition"
    return _answer((yield Call("GET", path, headers=headers)))


def device_credentials(solution: str) -> Flow[dict[str, Any]]:
    """The device-usable credentials of the solution's local functions."""
    path = f"/v1/solutions/{_segment(solution)}/device-credentials"
    found: dict[str, Any] = _answer((yield Call("GET", path))).ok()
    return found


def refresh_credential(solution: str, name: str, rejected: str) -> Flow[dict[str, Any]]:
    """A fresh OAuth access token for one credential after an upstream refused ``rejected``."""
    path = f"/v1/solutions/{_segment(solution)}/device-credentials/{_segment(name)}:refresh"
    found = _answer((yield Call("POST", path, json={"rejected": rejected}))).ok()
    entry = found.get("credentials", {}).get(name)
    if not isinstance(entry, dict):
        withheld = found.get("withheld", {}).get(name, {})
        raise ServerError(
            str(withheld.get("reason", "credential_withheld")),
            403,
            f"credential '{name}' could not be refreshed: {withheld.get('message', 'withheld')}",
        )
    return entry


def cloud_call(solution: str, function: str, parameters: Mapping[str, Any]) -> Flow[CallResult]:
    """``POST /v1/solutions/{solution}/functions/{function}:call``."""
    path = f"/v1/solutions/{_segment(solution)}/functions/{_segment(function)}:call"
    body = _answer((yield Call("POST", path, json={"parameters": dict(parameters)}))).ok()
    return CallResult(records=list(body["records"]), output=body.get("output"), pages=body["pages"])


def metadata() -> Flow[dict[str, Any]]:
    """The server's RFC 8414 metadata."""
    path = "/.well-known/oauth-authorization-server"
    found: dict[str, Any] = _answer((yield Call("GET", path, authenticated=False))).ok()
    return found


def device_authorization(scope: str | None = None) -> Flow[dict[str, Any]]:
    """RFC 8628 §3.1: a device code and the user code to show."""
    form = {"client_id": DEVICE_CLIENT_ID}
    if scope:
        form["scope"] = scope
    call = Call("POST", "/oauth/device_authorization", form=form, authenticated=False)
    found: dict[str, Any] = _answer((yield call)).ok()
    return found


def device_token(started: Mapping[str, Any]) -> Flow[TokenSet]:
    """RFC 8628 §3.4/§3.5: poll until the person decided, slowing down when told."""
    interval = float(started.get("interval", 5))
    form = {
        "grant_type": DEVICE_CODE_GRANT,
        "device_code": str(started["device_code"]),
        "client_id": DEVICE_CLIENT_ID,
    }
    while True:
        yield Pause(interval)
        answer = _answer((yield Call("POST", "/oauth/token", form=form, authenticated=False)))
        if answer.status == 200:
            return TokenSet.from_response(answer.json())
        error = answer.error()
        code = getattr(error, "code", "")
        if code == "authorization_pending":
            continue
        if code == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        if code in ("access_denied", "expired_token"):
            raise SignInFailed(f"the device sign-in ended: {getattr(error, 'message', code)}")
        raise error


def sso_discover(email: str) -> Flow[dict[str, Any]]:
    """Home-realm discovery: the identity providers of the email's domain."""
    call = Call("POST", "/v1/sso/discover", json={"email": email}, authenticated=False)
    found: dict[str, Any] = _answer((yield call)).ok()
    return found


def redeem_code(code: str, verifier: str, redirect_uri: str) -> Flow[TokenSet]:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5: the one-time code of a brokered SSO sign-in,
    redeemed at ``/v1/sso/token``."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri,
        "client_id": DEVICE_CLIENT_ID,
    }
    answer = _answer((yield Call("POST", REDEEM_PATH, form=form, authenticated=False)))
    return TokenSet.from_response(answer.ok())
