"""RP-Initiated Logout 1.0: the end-session endpoint's checks.

``post_logout_redirect_uri`` must exactly match one the client registered, and the client
must be known (from ``id_token_hint``'s audience or ``client_id``); otherwise no redirect
happens at all, only a page (an open redirector is what the checks prevent). With a valid
``id_token_hint`` the browser session ends at once; without one the person confirms first,
so a cross-site link alone cannot sign anyone out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from authgate.errors import InvalidToken
from authgate.provider.errors import InvalidAuthorizationRequest, InvalidRedirect
from authgate.provider.id_tokens import IdTokens
from authgate.provider.models import OAuthClient
from authgate.provider.redirect_uris import MAX_URI_CHARS, with_query


class ClientFinder(Protocol):
    """Finds registered clients."""

    async def find(self, client_id: str) -> OAuthClient | None:
        """An enabled client by id, or None."""


@dataclass(frozen=True, slots=True)
class LogoutPlan:
    """What a checked logout request asks for."""

    redirect: str | None
    """Where to send the browser afterwards (with ``state``), if anywhere."""
    session_id: str | None
    """The browser session the ID token hint names (``sid``)."""
    user_id: str | None
    """Whose session the hint names."""


class Logouts:
    """Checks end-session requests."""

    def __init__(self, id_tokens: IdTokens, clients: ClientFinder) -> None:
        self._id_tokens = id_tokens
        self._clients = clients

    async def plan(self, params: Mapping[str, str]) -> LogoutPlan:
        """Check the parameters: InvalidRedirect (a page) or InvalidAuthorizationRequest."""
        hint = params.get("id_token_hint")
        claims = None
        if hint:
            try:
                claims = self._id_tokens.read_hint(hint)
            except InvalidToken:
                raise InvalidAuthorizationRequest(
                    "id_token_hint is not an ID token this server issued"
                ) from None
        client_id = params.get("client_id")
        if claims is not None:
            if client_id is not None and client_id != claims["aud"]:
                raise InvalidAuthorizationRequest("client_id differs from id_token_hint's audience")
            client_id = str(claims["aud"])
        redirect = self._redirect(
            await self._clients.find(client_id) if client_id else None,
            params.get("post_logout_redirect_uri"),
            params.get("state"),
        )
        sid = claims.get("sid") if claims is not None else None
        return LogoutPlan(
            redirect=redirect,
            session_id=sid if isinstance(sid, str) else None,
            user_id=str(claims["sub"]) if claims is not None else None,
        )

    @staticmethod
    def _redirect(client: OAuthClient | None, uri: str | None, state: str | None) -> str | None:
        if not uri:
            return None
        if client is None:
            raise InvalidRedirect(
                "post_logout_redirect_uri needs id_token_hint or client_id to name the app"
            )
        if len(uri) > MAX_URI_CHARS or uri not in client.post_logout_redirect_uris:
            raise InvalidRedirect(
                "post_logout_redirect_uri is not one the app registered (it must match exactly)"
            )
        if state is None:
            return uri
        if len(state) > 2048 or not state.isprintable():
            raise InvalidRedirect("state must be at most 2048 printable characters")
        return with_query(uri, [("state", state)])
