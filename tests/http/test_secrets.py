"""SECURITY promise 1: no secret is readable back. Canary passwords and a client secret go
in through every door; afterwards no response body, audit entry, log line, email or byte of
the database holds them, and refresh tokens are stored only as keyed hashes."""

from __future__ import annotations

import pytest

from tests.http.conftest import PASSWORD, Authgate, Start, basic, bearer

WRONG = "canary-Wrong-Password-8d1f4c"
REGISTERED = "canary-Register-Password-2b7e90"
DUPLICATE = "canary-Duplicate-Password-41aa07"
INVITEE = "canary-Invitee-Password-c3e512"
CHANGED = "canary-Changed-Password-9f0b3d"
RESET = "canary-Reset-Password-77e1a2"
PASSWORDS = (WRONG, REGISTERED, DUPLICATE, INVITEE, CHANGED, RESET)


def database_bytes(ag: Authgate) -> bytes:
    files = sorted(ag.data_dir.glob("authgate.db*"))
    assert files, "no SQLite files in the data directory"
    return b"".join(path.read_bytes() for path in files)


async def exercise(ag: Authgate) -> tuple[list[str], list[str], str]:
    """Every path a secret can take in; returns client secrets, refresh tokens, org slug."""
    org, owner = await ag.org_with_owner("canary")
    tokens = await ag.login(owner.email)
    admin = bearer(tokens["access_token"])
    refresh_tokens = [tokens["refresh_token"]]

    assert (await ag.login_response(owner.email, WRONG)).status_code == 401
    assert (await ag.login_response(f"ghost@{org.slug}.test", WRONG)).status_code == 401
    register = {"email": f"new@{org.slug}.test", "password": REGISTERED, "display_name": "N"}
    assert (await ag.client.post("/v1/auth/register", json=register)).status_code == 202
    duplicate = {"email": owner.email, "password": DUPLICATE, "display_name": "D"}
    assert (await ag.client.post("/v1/auth/register", json=duplicate)).status_code == 202

    invited = f"invitee@{org.slug}.test"
    r = await ag.client.post(f"/v1/orgs/{org.slug}/invites", headers=admin, json={"email": invited})
    assert r.status_code == 201
    accept = {"token": ag.link_token(invited, "accept-invite"), "password": INVITEE}
    accepted = await ag.client.post("/v1/auth/invites/accept", json=accept)
    assert accepted.status_code == 200
    invitee_tokens = accepted.json()
    refresh_tokens.append(invitee_tokens["refresh_token"])
    change = {"current_password": INVITEE, "new_password": CHANGED}
    r = await ag.client.post(
        "/v1/auth/password/change", headers=bearer(invitee_tokens["access_token"]), json=change
    )
    assert r.status_code == 204
    await ag.client.post("/v1/auth/password/forgot", json={"email": invited})
    reset = {"token": ag.link_token(invited, "reset-password"), "password": RESET}
    assert (await ag.client.post("/v1/auth/password/reset", json=reset)).status_code == 204

    rotated = await ag.refresh(tokens["refresh_token"])
    refresh_tokens.append(rotated.json()["refresh_token"])

    created = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients", headers=admin, json={"name": "etl", "scopes": "read"}
    )
    client = created.json()
    grant = await ag.token(
        {"grant_type": "client_credentials"}, basic(client["client_id"], client["client_secret"])
    )
    assert grant.status_code == 200
    wrong = basic(client["client_id"], client["client_secret"][:-1] + "x")
    assert (await ag.token({"grant_type": "client_credentials"}, wrong)).status_code == 401
    renewed = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients/{client['client_id']}/secret", headers=admin
    )
    secrets = [client["client_secret"], renewed.json()["client_secret"]]
    await ag.client.post(
        "/oauth/introspect",
        data={"token": tokens["refresh_token"]},
        headers=basic(client["client_id"], secrets[1]),
    )
    await ag.client.get(f"/v1/orgs/{org.slug}/clients", headers=admin)
    return secrets, refresh_tokens, org.slug


async def test_no_secret_is_readable_back(start: Start, capfd: pytest.CaptureFixture[str]) -> None:
    async with start() as ag:
        secrets, refresh_tokens, slug = await exercise(ag)
        admin = bearer((await ag.login(f"owner@{slug}.test"))["access_token"])
        audit = await ag.client.get(f"/v1/orgs/{slug}/audit", headers=admin)
        assert audit.status_code == 200
        actions = {entry["action"] for entry in audit.json()}
        assert {"signin", "invite.accept", "client.create", "client.rotate"} <= actions
        live_database = database_bytes(ag)
        bodies = [response.content for response in ag.responses]
        outbox = b"".join(path.read_bytes() for path in (ag.data_dir / "outbox").glob("*.eml"))
    stored = live_database + database_bytes(ag)  # while running (WAL) and after shut-down
    logs = capfd.readouterr()
    log_text = logs.out + logs.err
    assert "request" in log_text  # the access log was captured
    assert f"owner@{slug}.test".encode() in stored  # the right files were read

    for canary in PASSWORDS:
        assert not any(canary.encode() in body for body in bodies), canary
        assert canary not in audit.text, canary
        assert canary.encode() not in stored, canary
        assert canary.encode() not in outbox, canary
        assert canary not in log_text, canary
    for secret in secrets:
        # Shown exactly once: in the response that created it.
        assert sum(secret.encode() in body for body in bodies) == 1
        assert secret not in audit.text
        assert secret.encode() not in stored
        assert secret not in log_text
    for token in refresh_tokens:
        assert token.encode() not in stored, "a refresh token is stored in the clear"
        assert token not in log_text
        assert token not in audit.text


async def test_error_answers_echo_no_secret(ag: Authgate) -> None:
    _, owner = await ag.org_with_owner()
    probes = [
        await ag.login_response(owner.email, WRONG),
        await ag.client.post(
            "/v1/auth/register",
            json={"email": "x@canary.test", "password": WRONG, "display_name": "X", "zz": 1},
        ),
        await ag.client.post(
            "/v1/auth/register",
            json={"email": "x@canary.test", "password": WRONG * 40, "display_name": "X"},
        ),
        await ag.refresh(WRONG),
        await ag.token(
            {"grant_type": "client_credentials", "client_id": "svc_x", "client_secret": WRONG}
        ),
        await ag.client.get("/v1/me", headers=bearer(WRONG)),
        await ag.client.post(
            "/v1/auth/password/reset", json={"token": WRONG, "password": PASSWORD}
        ),
    ]
    for response in probes:
        assert 400 <= response.status_code < 500
        assert WRONG not in response.text, response.text
