"""The in-process harness: the whole ASGI stack of authgate behind an httpx client.

Each test gets its own data directory (SQLite database, root key, mail outbox) and a clock it
can move forward, so expiry needs no sleeping. Requests go through the ASGI stack that
``authgate serve`` runs, so ``POST /oauth/token`` takes the lean path.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from authgate.app import create_app
from authgate.config import load_settings
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.identity.models import Membership, Organization, Role, User
from authgate.mail import read_outbox
from authgate.store.migrate import upgrade

BASE_URL = "http://testserver"
PASSWORD = "plum-Orbit-7-lantern"
"""A password every policy accepts; users made by the helpers get it unless told otherwise."""
POSTGRES_SECRET_KEY = "authgate-http-tests-root-key-0123456789abcdef"
DEFAULT_IP = "127.0.0.1"


class Clock:
    """Real time plus an offset the test moves forward with :meth:`advance`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def unique(prefix: str) -> str:
    """A name no other test uses (tests on PostgreSQL share one database)."""
    return f"{prefix}-{secrets.token_hex(3)}"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"authorization": "Basic " + base64.b64encode(raw).decode()}


def text_body(message: EmailMessage) -> str:
    """The text/plain part of an email."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no text/plain part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


@dataclass
class Authgate:
    """One running authgate: its client, services, settings, clock and helpers."""

    app: FastAPI
    asgi: Any
    client: httpx.AsyncClient
    clock: Clock
    data_dir: Path
    responses: list[httpx.Response] = field(default_factory=list)
    """Every response any client of this instance received, bodies read."""
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def client_at(self, ip: str) -> httpx.AsyncClient:
        """A client whose requests come from ``ip``."""
        transport = httpx.ASGITransport(app=self.asgi, client=(ip, 40000))
        client = httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, event_hooks={"response": [self._record]}
        )
        self._clients.append(client)
        return client

    async def _record(self, response: httpx.Response) -> None:
        await response.aread()
        self.responses.append(response)

    # --- setup through the services -------------------------------------------------

    async def user(self, email: str, password: str = PASSWORD, name: str = "Test User") -> User:
        return await self.services.accounts.create_user(email, password, name)

    async def org(self, slug: str, owner: User, name: str | None = None) -> Organization:
        return await self.services.organizations.create(slug, name or slug, owner, Actor(None))

    async def member(self, org: Organization, user: User, role: Role) -> None:
        now = self.clock()
        await self.services.deps.store.memberships.put(Membership(org.id, user.id, role, now))

    async def org_with_owner(self, prefix: str = "acme") -> tuple[Organization, User]:
        slug = unique(prefix)
        owner = await self.user(f"owner@{slug}.test", name="Owner")
        return await self.org(slug, owner), owner

    # --- requests --------------------------------------------------------------------

    async def login_response(
        self,
        email: str,
        password: str = PASSWORD,
        *,
        client: httpx.AsyncClient | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {"email": email, "password": password, **extra}
        return await (client or self.client).post("/v1/auth/login", json=body)

    async def login(self, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = await self.login_response(email, password, **extra)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def token(
        self, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post("/oauth/token", data=form, headers=headers or {})

    async def refresh(
        self, refresh_token: str, *, client_id: str | None = None, scope: str | None = None
    ) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if client_id is not None:
            form["client_id"] = client_id
        if scope is not None:
            form["scope"] = scope
        return await self.token(form)

    async def me(self, access_token: str) -> httpx.Response:
        return await self.client.get("/v1/me", headers=bearer(access_token))

    # --- mail ------------------------------------------------------------------------

    def mails(self, to: str | None = None) -> list[EmailMessage]:
        messages = read_outbox(self.data_dir / "outbox")
        if to is None:
            return messages
        return [m for m in messages if to.lower() in str(m["To"]).lower()]

    def last_mail(self, to: str) -> EmailMessage:
        messages = self.mails(to)
        assert messages, f"no email to {to}"
        return messages[-1]

    def link_token(self, to: str, page: str) -> str:
        """The token of the ``/page?token=…`` link in the latest email to ``to``."""
        body = text_body(self.last_mail(to))
        match = re.search(rf"{re.escape(BASE_URL)}/{page}\?token=([^\s&]+)", body)
        assert match, body
        return unquote(match.group(1))


Start = Callable[..., AbstractAsyncContextManager[Authgate]]


def settings_overrides(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {"data_dir": tmp_path / "data", "public_url": BASE_URL, **overrides}


@asynccontextmanager
async def running(tmp_path: Path, **overrides: Any) -> AsyncIterator[Authgate]:
    """authgate with ``overrides`` applied to the test settings, lifespan and all."""
    settings = load_settings(env={}, **settings_overrides(tmp_path, **overrides))
    clock = Clock()
    fastapi_app, asgi = create_app(settings, clock=clock)
    async with fastapi_app.router.lifespan_context(fastapi_app):
        transport = httpx.ASGITransport(app=asgi, client=(DEFAULT_IP, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            instance = Authgate(fastapi_app, asgi, client, clock, settings.data_dir)
            client.event_hooks["response"] = [instance._record]
            try:
                yield instance
            finally:
                for extra in instance._clients:
                    await extra.aclose()


@pytest.fixture
def start(tmp_path: Path) -> Start:
    """``async with start(**overrides) as ag`` for tests that need other settings."""

    def _start(**overrides: Any) -> AbstractAsyncContextManager[Authgate]:
        return running(tmp_path, **overrides)

    return _start


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    """authgate on SQLite with the default settings."""
    async with running(tmp_path) as instance:
        yield instance


@pytest_asyncio.fixture(scope="session")
async def migrated_postgres(postgres_url: str) -> str:
    """The session's PostgreSQL database, migrated (``authgate migrate``)."""
    await upgrade(postgres_url)
    return postgres_url


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings of the backend under test: SQLite, then PostgreSQL."""
    if request.param == "postgresql":
        url = request.getfixturevalue("migrated_postgres")
        return {"database_url": url, "secret_key": POSTGRES_SECRET_KEY}
    return {}


@pytest_asyncio.fixture
async def backend_ag(backend_overrides: dict[str, Any], tmp_path: Path) -> AsyncIterator[Authgate]:
    """authgate on SQLite, then on PostgreSQL (one shared database: use unique names)."""
    async with running(tmp_path, **backend_overrides) as instance:
        yield instance
