"""Two `authgate serve` processes on one PostgreSQL database behave as one deployment."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import jwt
import pytest

from tests.e2e.servers import Server, base_env, cli

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_tokens_and_revocations_hold_across_nodes(tmp_path: Path, own_postgres_url: str) -> None:
    postgres_url = own_postgres_url
    env = base_env(
        tmp_path / "data",
        database_url=postgres_url,
        secret_key=secrets.token_urlsafe(48),
        public_url="http://authgate.test",
    )
    unmigrated = cli(env, "serve")
    assert unmigrated.returncode != 0
    assert "run `authgate migrate`" in unmigrated.stderr
    migrated = cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    unmigrated_start = cli(base_env(tmp_path / "x", database_url=postgres_url), "keys", "list")
    assert "AUTHGATE_SECRET_KEY" in unmigrated_start.stderr  # PostgreSQL needs a shared key

    created = cli(
        env,
        "admin",
        "bootstrap",
        "--email",
        "ops@nodes.test",
        "--org",
        "nodes",
        "--generate-password",
    )
    assert created.returncode == 0, created.stderr
    match = re.search(r"\(shown once\): (\S+)", created.stdout)
    assert match
    password = match.group(1)

    a = Server(env, tmp_path / "a.log").start()
    b = Server(env, tmp_path / "b.log").start()
    try:
        with httpx.Client(base_url=a.url) as at_a, httpx.Client(base_url=b.url) as at_b:
            login = at_a.post(
                "/v1/auth/login", json={"email": "ops@nodes.test", "password": password}
            ).json()
            # Node B publishes the key node A signed with; an independent library agrees.
            jwks = jwt.PyJWKClient(f"{b.url}/.well-known/jwks.json")
            key = jwks.get_signing_key_from_jwt(login["access_token"])
            claims = jwt.decode(
                login["access_token"],
                key.key,
                algorithms=["EdDSA"],
                audience="authgate",
                issuer="http://authgate.test",
            )
            assert claims["roles"] == ["OWNER"]

            refreshed = at_b.post(
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": login["refresh_token"],
                    "client_id": "authgate-device",
                },
            )
            assert refreshed.status_code == 200, refreshed.text
            second = refreshed.json()
            # The spent token is spent everywhere.
            replay = at_a.post(
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": login["refresh_token"],
                    "client_id": "authgate-device",
                },
            )
            assert replay.json()["error"] == "invalid_grant"

            # Reuse revoked the family, so sign in again, then log out at B.
            login = at_a.post(
                "/v1/auth/login", json={"email": "ops@nodes.test", "password": password}
            ).json()
            bearer = {"authorization": f"Bearer {login['access_token']}"}
            assert at_a.get("/v1/me", headers=bearer).status_code == 200
            assert at_b.post("/v1/auth/logout", headers=bearer).status_code == 204
            # …and the revocation holds at A at once.
            assert at_a.get("/v1/me", headers=bearer).status_code == 401
            dead = at_a.post(
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": login["refresh_token"],
                    "client_id": "authgate-device",
                },
            )
            assert dead.json()["error"] == "invalid_grant"
            assert second["refresh_token"] != login["refresh_token"]
    finally:
        a.stop()
        b.stop()
