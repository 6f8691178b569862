"""Running flows over HTTP: blocking (``httpx.Client``) and asyncio (``httpx.AsyncClient``).

The two runners differ only in how they wait; what to send, how to authenticate, when to
refresh and how to read answers is the shared core (:mod:`.wire`, :mod:`.api`,
:mod:`.session`). An authenticated request carries the session's access token, refreshed
first when stale; a 401 refreshes once (or adopts a token refreshed meanwhile) and repeats.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TypeVar

import httpx

from authgate.client.errors import ServerUnreachable
from authgate.client.session import SessionKeeper
from authgate.client.tokens import TokenSet
from authgate.client.wire import Answer, Call, Flow, Pause, Step

T = TypeVar("T")
UNAUTHORIZED = 401


def _request_args(call: Call, token: str | None) -> dict[str, object]:
    headers = dict(call.headers)
    headers.setdefault("accept", "application/json")
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    args: dict[str, object] = {"headers": headers}
    if call.json is not None:
        args["json"] = call.json
    if call.form is not None:
        args["data"] = dict(call.form)
    return args


def _answer(response: httpx.Response) -> Answer:
    return Answer(response.status_code, dict(response.headers), response.content)


def _unreachable(server: str, error: httpx.TransportError) -> ServerUnreachable:
    return ServerUnreachable(f"the server {server} could not be reached ({type(error).__name__})")


class SyncTransport:
    """Runs flows with a blocking client; the refresh lock is a thread lock."""

    def __init__(self, http: httpx.Client, keeper: SessionKeeper, server: str) -> None:
        self._http = http
        self._keeper = keeper
        self._server = server
        self._lock = threading.Lock()

    def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its result."""
        try:
            step: Step = next(flow)
            while True:
                if isinstance(step, Pause):
                    time.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(self.send(step))
        except StopIteration as done:
            result: T = done.value
            return result

    def send(self, call: Call) -> Answer:
        """One request, authenticated (and refreshed once on a 401) when the call says so."""
        if not call.authenticated:
            return self._send(call, None)
        tokens = self._keeper.current()
        if tokens.stale():
            tokens = self._refreshed(tokens)
        answer = self._send(call, tokens.access_token)
        if answer.status == UNAUTHORIZED:
            answer = self._send(call, self._refreshed(tokens).access_token)
        return answer

    def _refreshed(self, used: TokenSet) -> TokenSet:
        with self._lock:
            return self._keeper.newer_than(used) or self.run(self._keeper.refresh(used))

    def _send(self, call: Call, token: str | None) -> Answer:
        try:
            response = self._http.request(call.method, call.path, **_request_args(call, token))  # type: ignore[arg-type]
        except httpx.TransportError as error:
            raise _unreachable(self._server, error) from None
        return _answer(response)


class AsyncTransport:
    """Runs flows with an asyncio client; the refresh lock is an asyncio lock."""

    def __init__(self, http: httpx.AsyncClient, keeper: SessionKeeper, server: str) -> None:
        self._http = http
        self._keeper = keeper
        self._server = server
        self._lock = asyncio.Lock()

    async def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its result."""
        try:
            step: Step = next(flow)
            while True:
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(await self.send(step))
        except StopIteration as done:
            result: T = done.value
            return result

    async def send(self, call: Call) -> Answer:
        """One request, authenticated (and refreshed once on a 401) when the call says so."""
        if not call.authenticated:
            return await self._send(call, None)
        tokens = self._keeper.current()
        if tokens.stale():
            tokens = await self._refreshed(tokens)
        answer = await self._send(call, tokens.access_token)
        if answer.status == UNAUTHORIZED:
            answer = await self._send(call, (await self._refreshed(tokens)).access_token)
        return answer

    async def _refreshed(self, used: TokenSet) -> TokenSet:
        async with self._lock:
            newer = self._keeper.newer_than(used)
            if newer is not None:
                return newer
            return await self.run(self._keeper.refresh(used))

    async def _send(self, call: Call, token: str | None) -> Answer:
        try:
            response = await self._http.request(
                call.method,
                call.path,
                **_request_args(call, token),  # type: ignore[arg-type]
            )
        except httpx.TransportError as error:
            raise _unreachable(self._server, error) from None
        return _answer(response)
