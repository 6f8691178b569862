"""The asyncio SDK: :class:`AsyncClient`. Its blocking twin is
:class:`authgate.client.sync_client.Client`; both run the same flows."""

from __future__ import annotations

import asyncio
import contextlib
import webbrowser
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from authgate.client import api, calls, syncing
from authgate.client.base import DEFAULT_TIMEOUT, UPSTREAM_BACKSTOP, ClientBase
from authgate.client.errors import ServerUnreachable
from authgate.client.home import DeviceHome
from authgate.client.local_calls import call_context, run_local
from authgate.client.local_data import LocalData
from authgate.client.sso import SsoAttempt, provider_of
from authgate.client.tokens import TokenSet
from authgate.client.transport import AsyncTransport
from authgate.client.upstream import HttpxUpstream
from authgate.functions.call import CallLimits


class AsyncClient(ClientBase):
    """Signs in, syncs solutions, calls functions (in the cloud or on the device) and
    reads local results. One per process is enough; it is safe to share between tasks.
    ``transport`` replaces httpx's own for the server's requests (as in ``httpx``)."""

    def __init__(
        self,
        server: str | None = None,
        *,
        root: Path | None = None,
        home: DeviceHome | None = None,
        limits: CallLimits | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        notice: Callable[[str], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(server, root=root, home=home, limits=limits, notice=notice)
        self._http = httpx.AsyncClient(
            base_url=self.home.server, timeout=timeout, transport=transport
        )
        self._upstream_http = httpx.AsyncClient(follow_redirects=False, timeout=UPSTREAM_BACKSTOP)
        self._transport = AsyncTransport(self._http, self.session, self.home.server)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
        await self._upstream_http.aclose()

    # --- signing in and out -----------------------------------------------------------

    async def login(self, email: str, password: str, organization: str | None = None) -> TokenSet:
        """Sign in with a password; the tokens go to the keychain."""
        return self._signed_in(
            await self._transport.run(api.password_login(email, password, organization))
        )

    async def login_device_code(self, show: Callable[[Mapping[str, Any]], None]) -> TokenSet:
        """RFC 8628: ``show`` tells the person the code and the page; then wait for them."""
        started = await self._transport.run(api.device_authorization())
        show(started)
        return self._signed_in(await self._transport.run(api.device_token(started)))

    async def login_sso(
        self,
        email: str,
        organization: str | None = None,
        *,
        open_browser: Callable[[str], object] = webbrowser.open,
        give_up_after: float = 300.0,
    ) -> TokenSet:
        """Sign in through the identity provider of the email's organization, in the system
        browser (``organization`` chooses when several serve the domain)."""
        metadata = await self._transport.run(api.metadata())
        provider = provider_of(await self._transport.run(api.sso_discover(email)), organization)
        with SsoAttempt(self.home.server, provider, email) as attempt:
            await asyncio.to_thread(open_browser, attempt.url)
            code = await asyncio.to_thread(attempt.code, give_up_after, metadata.get("issuer"))
        flow = api.redeem_code(code, attempt.verifier, attempt.redirect_uri)
        return self._signed_in(await self._transport.run(flow))

    async def logout(self) -> bool:
        """End the session on the server and forget it, with every synced credential, here.
        True when there was a session. Local data and definitions stay."""
        tokens = self.session.peek()
        if tokens is not None:
            # Offline: the device forgets the session anyway; it expires on the server.
            with contextlib.suppress(ServerUnreachable):
                await self._transport.run(api.sign_out(tokens))
        self._signed_out()
        return tokens is not None

    async def whoami(self) -> dict[str, Any]:
        """The signed-in user, as the server knows them."""
        return await self._transport.run(api.me())

    # --- solutions and calls ----------------------------------------------------------

    async def sync(self, solution: str) -> syncing.SyncReport:
        """Fetch the solution's definition and its local functions' credentials."""
        return await self._transport.run(syncing.sync(self.home, solution, self.session.current()))

    async def call(
        self,
        solution: str,
        function: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        table: str | None = None,
        on_page: calls.PageCallback | None = None,
    ) -> calls.CallOutcome:
        """Run the function where its definition says, and keep its records locally."""
        if self.home.read_definition(solution) is None:
            await self.sync(solution)
        plan = calls.plan(self.home, solution, function, table)
        arguments = dict(parameters or {})
        if plan.local is None:
            result = await self._transport.run(api.cloud_call(solution, function, arguments))
            if on_page is not None:
                on_page(result.pages)
        else:

            async def refresher(name: str, rejected: str) -> Mapping[str, Any]:
                return await self._transport.run(api.refresh_credential(solution, name, rejected))

            resolver = calls.resolver(self.home, solution, refresher)
            upstream = HttpxUpstream(self._upstream_http, on_response=calls.page_counter(on_page))
            try:
                result = await run_local(
                    calls.engine(upstream, self.limits),
                    plan.local,
                    arguments,
                    context=call_context(plan.record),
                    resolver=resolver,
                )
            finally:
                calls.keep_refreshed(self.home, solution, resolver)
        return await asyncio.to_thread(calls.store, self.home, plan, result)

    async def data(
        self,
        solution: str,
        table: str,
        *,
        ids: Iterable[str] = (),
        where: Iterable[tuple[str, str]] = (),
        limit: int | None = None,
    ) -> list[Any]:
        """Records kept locally (works offline)."""
        local = LocalData(self.home.database_path(solution))
        return await asyncio.to_thread(
            local.rows, table, ids=list(ids), where=list(where), limit=limit
        )
