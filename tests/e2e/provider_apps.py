"""A real `authgate serve` set up as an OpenID provider for third-party apps: an organization,
its owner (who signs in on the pages with a password), and apps registered by that owner.

:func:`provider_deployment` starts it for a test module; :meth:`Deployment.register` adds a
client through the admin API or the ``authgate oauth-client create`` command, and returns its
id and (for confidential clients) the secret shown once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.servers import Server, base_env, cli

ORG = "acme"
OWNER = "owner@acme.test"
APP = "https://rp.example.test"
"""The apps' origin: the browser stops at their redirects and never loads them."""
CALLBACK = f"{APP}/callback"
SIGNED_OUT = f"{APP}/signed-out"


@dataclass(frozen=True)
class Registered:
    """A client as its developer keeps it."""

    client_id: str
    client_secret: str | None
    answer: dict[str, Any]
    """The full registration answer (never holding a secret but the one shown once)."""


@dataclass
class Deployment:
    """The running server and its owner's credentials."""

    server: Server
    env: dict[str, str]
    password: str
    owner_token: str
    owner_id: str

    @property
    def data_dir(self) -> Path:
        """Where the server keeps its database and outbox."""
        return Path(self.env["AUTHGATE_DATA_DIR"])

    @property
    def issuer(self) -> str:
        """The issuer: the server's public URL."""
        return self.server.url

    def register(
        self,
        name: str,
        *,
        client_type: str = "confidential",
        grants: tuple[str, ...] = ("authorization_code", "refresh_token"),
        scopes: tuple[str, ...] | None = ("openid", "profile", "email", "offline_access"),
        redirect_uris: tuple[str, ...] = (CALLBACK,),
        post_logout_redirect_uris: tuple[str, ...] = (SIGNED_OUT,),
        via: str = "api",
        **extra: Any,
    ) -> Registered:
        """Register an app with the organization, through the admin API or, with
        ``via="cli"``, the ``authgate oauth-client create`` command. ``extra`` holds other
        fields of the API's body (``application_type``, ``id_token_signed_response_alg``)."""
        body: dict[str, Any] = {
            "name": name,
            "client_type": client_type,
            "grant_types": list(grants),
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
            **extra,
        }
        if scopes is not None:
            body["scopes"] = list(scopes)
        if via == "cli":
            return self._register_cli(body)
        response = httpx.post(
            f"{self.issuer}/v1/orgs/{ORG}/oauth-clients",
            json=body,
            headers={"authorization": f"Bearer {self.owner_token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return Registered(answer["client_id"], answer.get("client_secret"), answer)

    def _register_cli(self, body: dict[str, Any]) -> Registered:
        args = ["oauth-client", "create", body.pop("name"), "--org", ORG]
        args += ["--type", body.pop("client_type")]
        for field, option in _CLI_OPTIONS.items():
            value = body.pop(field, None)
            for item in [value] if isinstance(value, str) else value or ():
                args += [option, item]
        assert not body, f"no CLI option for {sorted(body)}"
        done = cli(self.env, *args)
        assert done.returncode == 0, done.stderr + done.stdout
        created = re.search(r"Registered OAuth client (\S+) in ", done.stdout)
        assert created, done.stdout
        secret = re.search(r"client secret: (\S+)", done.stdout)
        answer = {"client_id": created.group(1), "printed": done.stdout}
        return Registered(created.group(1), secret.group(1) if secret else None, answer)


_CLI_OPTIONS = {
    "redirect_uris": "--redirect-uri",
    "post_logout_redirect_uris": "--post-logout-redirect-uri",
    "grant_types": "--grant",
    "scopes": "--scope",
    "application_type": "--application-type",
    "id_token_signed_response_alg": "--id-token-alg",
}
"""The API's fields and the ``authgate oauth-client create`` options that set them."""


@contextmanager
def provider_deployment(
    directory: Path, *, port: int | None = None, **settings: str
) -> Iterator[Deployment]:
    """Bootstrap an organization and its owner, and run `authgate serve` for the block (on
    ``port`` when given: an IdP must know the SSO callback before the server starts)."""
    env = base_env(directory / "data", **settings)
    boot = cli(env, "admin", "bootstrap", "--email", OWNER, "--org", ORG, "--generate-password")
    assert boot.returncode == 0, boot.stderr
    found = re.search(r"Generated password \(shown once\): (\S+)", boot.stdout)
    assert found, boot.stdout
    server = Server(env, directory / "serve.log")
    if port is not None:
        server.port = port
    server.start()
    try:
        login = httpx.post(
            f"{server.url}/v1/auth/login",
            json={"email": OWNER, "password": found.group(1)},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = httpx.get(
            f"{server.url}/v1/me", headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        assert me.status_code == 200, me.text
        yield Deployment(server, env, found.group(1), token, me.json()["id"])
    finally:
        server.stop()
