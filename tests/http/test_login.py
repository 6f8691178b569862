"""Password sign-in: the token response, the access token's claims, choosing an organization,
one answer for every failure, and throttling that does not lock a victim out."""

from __future__ import annotations

import jwt
import pytest

from authgate.identity.deps import Actor
from authgate.identity.models import Role
from tests.http.conftest import BASE_URL, PASSWORD, Authgate, Start, unique

CLAIMS = {"iss", "sub", "aud", "exp", "iat", "jti", "org", "roles", "sid", "client_id", "scope"}


async def test_login_returns_a_no_store_token_response(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    response = await ag.login_response(owner.email)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "organization",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    assert body["organization"] == org.slug
    assert len(body["refresh_token"]) >= 40
    assert "." not in body["refresh_token"]  # opaque, not a JWT


async def test_access_token_verifies_with_pyjwt_and_the_published_key(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    tokens = await ag.login(owner.email)
    jwks = (await ag.client.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "at+jwt"
    [jwk] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert "d" not in jwk  # the private half is never published
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(
        tokens["access_token"],
        key,
        algorithms=["EdDSA"],
        audience="authgate",
        issuer=BASE_URL,
        options={"require": sorted(CLAIMS)},
    )
    assert set(claims) == CLAIMS
    assert claims["sub"] == owner.id
    assert claims["org"] == org.id
    assert claims["roles"] == ["OWNER"]
    assert claims["client_id"] == "authgate-device"
    assert claims["scope"] == tokens["scope"]
    assert claims["exp"] - claims["iat"] == 900
    # Signed by this key and no other: a changed payload fails.
    head, _, sig = tokens["access_token"].split(".")
    other = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256").split(".")[1]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{other}.{sig}", key, algorithms=["EdDSA"], audience="authgate")


async def test_me_describes_the_token_owner(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    tokens = await ag.login(owner.email)
    me = await ag.me(tokens["access_token"])
    assert me.status_code == 200
    assert me.json()["email"] == owner.email
    assert me.json()["organization"] == org.slug
    assert me.json()["roles"] == ["OWNER"]


async def test_several_organizations_require_naming_one(ag: Authgate) -> None:
    first, owner = await ag.org_with_owner("first")
    second = await ag.org(unique("second"), await ag.user(f"o2@{first.slug}.test"))
    await ag.member(second, owner, Role.MAKER)

    response = await ag.login_response(owner.email)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "organization_required"
    assert error["details"]["organizations"] == sorted([first.slug, second.slug])
    assert "access_token" not in response.text

    picked = await ag.login(owner.email, organization=second.slug)
    assert picked["organization"] == second.slug
    claims = jwt.decode(picked["access_token"], options={"verify_signature": False})
    assert claims["org"] == second.id
    assert claims["roles"] == ["MAKER"]

    by_id = await ag.login(owner.email, organization=first.id)
    assert by_id["organization"] == first.slug

    elsewhere = await ag.login_response(owner.email, organization="no-such-org")
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "no_active_membership"


async def test_denied_membership_does_not_count_and_none_left_is_403(ag: Authgate) -> None:
    org, _ = await ag.org_with_owner()
    user = await ag.user(f"denied@{org.slug}.test")
    await ag.member(org, user, Role.DENY)
    response = await ag.login_response(user.email)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_active_membership"


async def test_unknown_user_wrong_password_and_disabled_user_look_the_same(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    disabled = await ag.user(f"gone@{org.slug}.test")
    await ag.member(org, disabled, Role.USER)
    await ag.services.accounts.set_disabled(disabled.email, True, Actor(None))

    answers = [
        await ag.login_response(f"nobody@{org.slug}.test", PASSWORD),
        await ag.login_response(owner.email, "wrong-" + PASSWORD),
        await ag.login_response(disabled.email, PASSWORD),
        await ag.login_response("not an email", PASSWORD),
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert answers[0].json() == {
        "error": {"code": "invalid_credentials", "message": "invalid email or password"}
    }
    assert len({r.headers.get("www-authenticate") for r in answers}) == 1


async def test_account_throttle_answers_429_for_known_and_unknown_emails(start: Start) -> None:
    async with start(signin_account_limit=3, signin_window=600) as ag:
        org, owner = await ag.org_with_owner()
        for email in (owner.email, f"nobody@{org.slug}.test"):
            for _ in range(3):
                assert (await ag.login_response(email, "wrong-password-1")).status_code == 401
            blocked = await ag.login_response(email, "wrong-password-1")
            assert blocked.status_code == 429
            assert blocked.headers["retry-after"] == "600"
            assert blocked.json()["error"]["code"] == "too_many_requests"
        # Throttled answers do not tell a known account from an unknown one.
        known = await ag.login_response(owner.email, PASSWORD)
        unknown = await ag.login_response(f"nobody@{org.slug}.test", PASSWORD)
        assert known.status_code == unknown.status_code == 429
        assert known.content == unknown.content
        # The window passes: the owner signs in again.
        ag.clock.advance(601)
        assert (await ag.login_response(owner.email)).status_code == 200


async def test_failures_from_one_address_do_not_lock_out_another(start: Start) -> None:
    async with start(signin_account_limit=2, signin_window=600) as ag:
        _, owner = await ag.org_with_owner()
        attacker = ag.client_at("203.0.113.7")
        victim = ag.client_at("198.51.100.20")
        for _ in range(2):
            r = await ag.login_response(owner.email, "guess-guess-1", client=attacker)
            assert r.status_code == 401
        assert (await ag.login_response(owner.email, client=attacker)).status_code == 429
        assert (await ag.login_response(owner.email, client=victim)).status_code == 200

        # Only a flood from many addresses reaches the account-wide limit (ten times higher).
        for n in range(9):
            spread = ag.client_at(f"192.0.2.{n + 1}")
            for _ in range(2):
                r = await ag.login_response(owner.email, "guess-guess-1", client=spread)
                assert r.status_code == 401
        fresh = ag.client_at("192.0.2.200")
        assert (await ag.login_response(owner.email, client=fresh)).status_code == 429


async def test_per_address_limit_covers_every_email(start: Start) -> None:
    async with start(signin_ip_limit=4, signin_account_limit=10) as ag:
        org, owner = await ag.org_with_owner()
        sprayer = ag.client_at("203.0.113.99")
        for n in range(4):
            email = f"user{n}@{org.slug}.test"
            r = await ag.login_response(email, "spray-password-1", client=sprayer)
            assert r.status_code == 401
        r = await ag.login_response(owner.email, client=sprayer)
        assert r.status_code == 429
        assert "retry-after" in r.headers
        assert (await ag.login_response(owner.email)).status_code == 200
