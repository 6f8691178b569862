"""`authgate serve` as a user runs it: start-up messages, bad settings, the invite by SMTP."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import Server, SmtpServer, base_env, cli, text_body

pytestmark = pytest.mark.e2e
CANARY_PASSWORD = "canary-Invitee-Password-7f3a91"


def _bootstrap(env: dict[str, str], email: str, org: str) -> str:
    result = cli(env, "admin", "bootstrap", "--email", email, "--org", org, "--generate-password")
    assert result.returncode == 0, result.stderr
    match = re.search(r"Generated password \(shown once\): (\S+)", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_bad_setting_stops_start_up_naming_setting_source_and_fix(tmp_path: Path) -> None:
    result = cli(base_env(tmp_path, port="eighty"), "serve")
    assert result.returncode != 0
    assert "AUTHGATE_PORT" in result.stderr
    assert "environment variable" in result.stderr
    assert "Fix:" in result.stderr


def test_empty_database_tells_how_to_create_the_first_owner(tmp_path: Path) -> None:
    server = Server(base_env(tmp_path / "data"), tmp_path / "serve.log").start()
    try:
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
        log = server.log()
        assert f"listening on {server.url}" in log
        assert str((tmp_path / "data").resolve()) in log
        assert "authgate admin bootstrap --email" in log
    finally:
        server.stop()


def test_invite_arrives_by_smtp_and_the_invitee_signs_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SmtpServer() as smtp:
        env = base_env(
            data,
            smtp_host="127.0.0.1",
            smtp_port=str(smtp.port),
            smtp_security="none",
            mail_from="authgate <id@acme.test>",
        )
        owner_password = _bootstrap(env, "owner@acme.test", "acme")
        server = Server(env, tmp_path / "serve.log").start()
        try:
            with httpx.Client(base_url=server.url) as client:
                login = client.post(
                    "/v1/auth/login", json={"email": "owner@acme.test", "password": owner_password}
                )
                assert login.status_code == 200, login.text
                bearer = {"authorization": f"Bearer {login.json()['access_token']}"}
                invite = client.post(
                    "/v1/orgs/acme/invites",
                    headers=bearer,
                    json={"email": "bea@acme.test", "role": "MAKER"},
                )
                assert invite.status_code == 201, invite.text
                assert "token" not in invite.text

                message = smtp.wait_for("bea@acme.test")
                assert "acme" in str(message["Subject"])
                link = re.search(r"https?://\S+accept-invite\?token=(\S+)", text_body(message))
                assert link, text_body(message)
                assert link.group(0).startswith(server.url)

                accepted = client.post(
                    "/v1/auth/invites/accept",
                    json={
                        "token": link.group(1),
                        "password": CANARY_PASSWORD,
                        "display_name": "Bea",
                    },
                )
                assert accepted.status_code == 200, accepted.text
                again = client.post(
                    "/v1/auth/invites/accept",
                    json={"token": link.group(1), "password": CANARY_PASSWORD},
                )
                assert again.status_code == 410

                bea = client.post(
                    "/v1/auth/login", json={"email": "bea@acme.test", "password": CANARY_PASSWORD}
                )
                assert bea.status_code == 200
                me = client.get(
                    "/v1/me", headers={"authorization": f"Bearer {bea.json()['access_token']}"}
                )
                assert me.json()["roles"] == ["MAKER"]
                assert me.json()["organization"] == "acme"
        finally:
            server.stop()
    # Nothing the server wrote holds the password: its log, its database, its outbox.
    assert CANARY_PASSWORD not in server.log()
    for path in data.rglob("*"):
        if path.is_file():
            assert CANARY_PASSWORD.encode() not in path.read_bytes(), path
