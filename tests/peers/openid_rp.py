"""A certified OpenID relying party (npm ``openid-client`` v6, run by ``openid_rp.mjs``) that
the tests drive against authgate's provider.

:func:`start_rp` runs one node process for the length of a block; :class:`OpenIdRp` sends it
commands (JSON lines, answered concurrently) and returns what openid-client returned, or
raises :class:`RpError` with what openid-client said was wrong. The browser part of a flow
is the test's: see ``tests/e2e/provider_browser.py``.

``scripts/test`` installs the peer (``npm ci`` in ``tests/peers``). Without node or the
installed package a test is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import service_unavailable
from tests.peers.oauth_provider import PEERS, START_SECONDS, _collect

SCRIPT = PEERS / "openid_rp.mjs"
ANSWER_SECONDS = 60
"""The longest a command may take: a device poll waits the grant's interval (5 s) a time."""
STOP_SECONDS = 5


class RpError(Exception):
    """openid-client refused a response or failed a request; ``described`` is its error
    (name, code, message, OAuth ``error`` and ``error_description``, HTTP ``status``, and the
    ``cause`` it wrapped)."""

    def __init__(self, op: str, described: dict[str, Any]) -> None:
        self.op = op
        self.described = described
        super().__init__(f"{op}: {json.dumps(described)}")

    def _field(self, name: str) -> Any:
        cause = self.described.get("cause") or {}
        value = self.described.get(name)
        return value if value is not None else cause.get(name)

    @property
    def code(self) -> str | None:
        """openid-client's (or oauth4webapi's) error code, e.g. ``OAUTH_RESPONSE_BODY_ERROR``."""
        value = self._field("code")
        return None if value is None else str(value)

    @property
    def error(self) -> str | None:
        """The OAuth 2.0 ``error`` the server answered with, if it was one."""
        value = self._field("error")
        return None if value is None else str(value)

    @property
    def status(self) -> int | None:
        """The HTTP status of the server's answer, if there was one."""
        value = self._field("status")
        return None if value is None else int(value)


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where the RP sends the browser, and what it keeps to check the answer."""

    url: str
    state: str
    nonce: str | None
    code_verifier: str


@dataclass
class OpenIdRp:
    """The running relying party; each method is one openid-client call."""

    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)
    _pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def call(self, op: str, **arguments: Any) -> Any:
        """Send one command; its result, or :class:`RpError`."""
        assert self.process.stdin is not None
        command_id = next(self._ids)
        answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = answered
        line = json.dumps({"id": command_id, "op": op, **arguments}) + "\n"
        self.process.stdin.write(line.encode())
        await self.process.stdin.drain()
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                message: dict[str, Any] = await answered
        finally:
            self._pending.pop(command_id, None)
        if not message["ok"]:
            raise RpError(op, message["error"])
        return message["result"]

    async def discover(
        self,
        rp: str,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        auth: str | None = None,
        **metadata: Any,
    ) -> dict[str, Any]:
        """Configure client ``rp`` from the issuer's discovery document; the metadata."""
        if auth is None:
            auth = "client_secret_basic" if client_secret else "none"
        answer: dict[str, Any] = await self.call(
            "discover",
            rp=rp,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            auth=auth,
            metadata=metadata,
        )
        return answer

    async def authorization_url(
        self,
        rp: str,
        redirect_uri: str,
        scope: str,
        **params: str,
    ) -> AuthorizationRequest:
        """An authorization request with PKCE S256, state and nonce."""
        answer = await self.call(
            "authorization_url", rp=rp, redirect_uri=redirect_uri, scope=scope, params=params
        )
        return AuthorizationRequest(**answer)

    async def pushed_authorization_url(
        self, rp: str, redirect_uri: str, scope: str, **params: str
    ) -> AuthorizationRequest:
        """The same request pushed first (RFC 9126): the URL holds its ``request_uri``."""
        answer = await self.call(
            "authorization_url",
            rp=rp,
            redirect_uri=redirect_uri,
            scope=scope,
            params=params,
            par=True,
        )
        return AuthorizationRequest(**answer)

    async def code_grant(
        self, rp: str, request: AuthorizationRequest, callback_url: str, max_age: int | None = None
    ) -> dict[str, Any]:
        """Check the authorization response and redeem its code: ``{tokens, claims,
        at_hash_checked}`` (the ID token validated, its signature too)."""
        arguments: dict[str, Any] = {
            "rp": rp,
            "callback_url": callback_url,
            "code_verifier": request.code_verifier,
            "state": request.state,
            "nonce": request.nonce,
        }
        if max_age is not None:
            arguments["max_age"] = max_age
        answer: dict[str, Any] = await self.call("code_grant", **arguments)
        return answer

    async def refresh(self, rp: str, refresh_token: str, **params: str) -> dict[str, Any]:
        """The refresh-token grant: ``{tokens, claims}``."""
        answer: dict[str, Any] = await self.call(
            "refresh", rp=rp, refresh_token=refresh_token, params=params
        )
        return answer

    async def userinfo(self, rp: str, access_token: str, sub: str) -> dict[str, Any]:
        """The UserInfo response, checked to be about ``sub``."""
        answer: dict[str, Any] = await self.call(
            "userinfo", rp=rp, access_token=access_token, sub=sub
        )
        return answer

    async def end_session_url(self, rp: str, **params: str) -> str:
        """The RP-initiated logout URL (``client_id`` added by openid-client)."""
        return str((await self.call("end_session_url", rp=rp, params=params))["url"])

    async def device_start(self, rp: str, scope: str = "") -> dict[str, Any]:
        """RFC 8628 §3.1: the device authorization response."""
        answer: dict[str, Any] = await self.call("device_start", rp=rp, scope=scope)
        return answer

    async def device_poll(self, rp: str, started: dict[str, Any]) -> dict[str, Any]:
        """Poll the token endpoint as openid-client does (every ``interval`` seconds) until
        the person decided: ``{tokens, claims}``."""
        answer: dict[str, Any] = await self.call("device_poll", rp=rp, response=started)
        return answer

    async def client_credentials(self, rp: str, scope: str = "") -> dict[str, Any]:
        """The client-credentials grant's token response."""
        answer = await self.call("client_credentials", rp=rp, scope=scope)
        tokens: dict[str, Any] = answer["tokens"]
        return tokens

    async def revoke(self, rp: str, token: str, hint: str = "") -> None:
        """RFC 7009 revocation."""
        await self.call("revoke", rp=rp, token=token, hint=hint)

    async def introspect(self, rp: str, token: str) -> dict[str, Any]:
        """RFC 7662 introspection."""
        answer: dict[str, Any] = await self.call("introspect", rp=rp, token=token)
        return answer

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            waiting = self._pending.get(message.get("id"))
            if waiting is not None and not waiting.done():
                waiting.set_result(message)
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(RuntimeError("openid_rp.mjs exited: " + self.log()))

    def log(self) -> str:
        """What the process wrote to its standard error (the end of it)."""
        return "".join(self.stderr)[-2000:]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        service_unavailable("node is not installed: the openid-client relying party needs it")
    if not (PEERS / "node_modules" / "openid-client").is_dir():
        service_unavailable("tests/peers/node_modules/openid-client is missing (run scripts/test)")
    return node


@asynccontextmanager
async def start_rp() -> AsyncIterator[OpenIdRp]:
    """Run the relying party for the length of the block."""
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(SCRIPT),
        cwd=PEERS,
        env={"PATH": "/usr/bin:/bin", "NODE_ENV": "test"},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    rp = OpenIdRp(process)
    drain_stderr = asyncio.create_task(_collect(process.stderr, rp.stderr))
    reader: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(START_SECONDS):
            first = await process.stdout.readline()
        if not first or json.loads(first).get("result") != "ready":
            await process.wait()
            raise AssertionError("openid_rp.mjs did not start: " + rp.log())
        reader = asyncio.create_task(rp._read())
        yield rp
    finally:
        if process.stdin is not None:
            process.stdin.close()
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_SECONDS):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in (reader, drain_stderr):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
