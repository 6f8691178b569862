"""The blocking SDK: :class:`Client`, the twin of
:class:`authgate.client.async_client.AsyncClient` over the same flows.

Local function calls run the (asynchronous) engine on an event loop the client keeps for
itself, so a :class:`Client` cannot be used from inside a running event loop: use
:class:`AsyncClient` there.
"""

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
from authgate.client.transport import SyncTransport
from authgate.client.upstream import HttpxUpstream
from authgate.functions.call import CallLimits, CallResult


class Client(ClientBase):
    """Signs in, syncs solutions, calls functions (in the cloud or on the device) and
    reads local results. Safe to share between threads. ``transport`` replaces httpx's own
    for the server's requests (as in ``httpx``)."""

    def __init__(
        self,
        server: str | None = None,
        *,
        root: Path | None = None,
        home: DeviceHome | None = None,
        limits: CallLimits | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        notice: Callable[[str], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(server, root=root, home=home, limits=limits, notice=notice)
        self._http = httpx.Client(base_url=self.home.server, timeout=timeout, transport=transport)
        self._transport = SyncTransport(self._http, self.session, self.home.server)
        self._runner: asyncio.Runner | None = None
        self._upstream_http: httpx.AsyncClient | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and the client's event loop."""
        self._http.close()
        if self._runner is not None:
            if self._upstream_http is not None:
                self._runner.run(self._upstream_http.aclose())
            self._runner.close()
            self._runner = None

    # --- signing in and out -----------------------------------------------------------

    def login(self, email: str, password: str, organization: str | None = None) -> TokenSet:
        """Sign in with a password; the tokens go to the keychain."""
        return self._signed_in(
            self._transport.run(api.password_login(email, password, organization))
        )

    def login_device_code(self, show: Callable[[Mapping[str, Any]], None]) -> TokenSet:
        """RFC 8628: ``show`` tells the person the code and the page; then wait for them."""
        started = self._transport.run(api.device_authorization())
        show(started)
        return self._signed_in(self._transport.run(api.device_token(started)))

    def login_sso(
        self,
        email: str,
        organization: str | None = None,
        *,
        open_browser: Callable[[str], object] = webbrowser.open,
        give_up_after: float = 300.0,
    ) -> TokenSet:
        """Sign in through the identity provider of the email's organization, in the system
        browser (``organization`` chooses when several serve the domain)."""
        metadata = self._transport.run(api.metadata())
        provider = provider_of(self._transport.run(api.sso_discover(email)), organization)
        with SsoAttempt(self.home.server, provider, email) as attempt:
            open_browser(attempt.url)
            code = attempt.code(give_up_after, metadata.get("issuer"))
        flow = api.redeem_code(code, attempt.verifier, attempt.redirect_uri)
        return self._signed_in(self._transport.run(flow))

    def logout(self) -> bool:
        """End the session on the server and forget it, with every synced credential, here.
        True when there was a session. Local data and definitions stay."""
        tokens = self.session.peek()
        if tokens is not None:
            # Offline: the device forgets the session anyway; it expires on the server.
            with contextlib.suppress(ServerUnreachable):
                self._transport.run(api.sign_out(tokens))
        self._signed_out()
        return tokens is not None

    def whoami(self) -> dict[str, Any]:
        """The signed-in user, as the server knows them."""
        return self._transport.run(api.me())

    # --- solutions and calls ----------------------------------------------------------

    def sync(self, solution: str) -> syncing.SyncReport:
        """Fetch the solution's definition and its local functions' credentials."""
        return self._transport.run(syncing.sync(self.home, solution, self.session.current()))

    def call(
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
            self.sync(solution)
        plan = calls.plan(self.home, solution, function, table)
        arguments = dict(parameters or {})
        if plan.local is None:
            result = self._transport.run(api.cloud_call(solution, function, arguments))
            if on_page is not None:
                on_page(result.pages)
        else:
            result = self._local(plan, arguments, on_page)
        return calls.store(self.home, plan, result)

    def _local(
        self,
        plan: calls.CallPlan,
        arguments: dict[str, Any],
        on_page: calls.PageCallback | None,
    ) -> CallResult:
        assert plan.local is not None
        if self._runner is None:
            self._runner = asyncio.Runner()
        solution = plan.solution

        async def refresher(name: str, rejected: str) -> Mapping[str, Any]:
            flow = api.refresh_credential(solution, name, rejected)
            return await asyncio.to_thread(self._transport.run, flow)

        resolver = calls.resolver(self.home, solution, refresher)

        async def run() -> CallResult:
            if self._upstream_http is None:
                self._upstream_http = httpx.AsyncClient(
                    follow_redirects=False, timeout=UPSTREAM_BACKSTOP
                )
            upstream = HttpxUpstream(self._upstream_http, on_response=calls.page_counter(on_page))
            assert plan.local is not None
            return await run_local(
                calls.engine(upstream, self.limits),
                plan.local,
                arguments,
                context=call_context(plan.record),
                resolver=resolver,
            )

        try:
            return self._runner.run(run())
        finally:
            calls.keep_refreshed(self.home, solution, resolver)

    def data(
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
        return local.rows(table, ids=list(ids), where=list(where), limit=limit)
