"""The signed-in session of a device: kept in the keychain, refreshed once when stale.

Refresh tokens rotate (a spent one, presented again, ends the whole session), so two
refreshes racing with the same token would sign the device out. Each client refreshes under
a lock and, holding it, first looks whether the token it used was already replaced — by
another task or thread of this client, or by another client or process, through the
keychain — and adopts the newer token instead of refreshing again. When the server refuses
the refresh (the session was revoked, the user disabled), the device forgets the session
and asks the user to sign in again.
"""

from __future__ import annotations

from authgate.client import api
from authgate.client.errors import ServerError, SignInRequired
from authgate.client.home import SESSION_KEY, DeviceHome
from authgate.client.tokens import TokenSet
from authgate.client.wire import Flow

SIGNED_OUT = "this device is not signed in: run `authgate login` (or Client.login)"
ENDED = "the session ended on the server (signed out, revoked or expired): sign in again"


class SessionKeeper:
    """The current :class:`TokenSet`, backed by the device's secret store."""

    def __init__(self, home: DeviceHome) -> None:
        self._home = home
        self._tokens: TokenSet | None = None
        self.refreshes = 0
        """How many refreshes this keeper made (each one a rotation on the server)."""

    def stored(self) -> TokenSet | None:
        """What the secret store holds now (another process may have refreshed)."""
        text = self._home.secrets.get(SESSION_KEY)
        return None if text is None else TokenSet.from_json(text)

    def current(self) -> TokenSet:
        """The session's tokens; :class:`SignInRequired` when there is none."""
        if self._tokens is None:
            self._tokens = self.stored()
        if self._tokens is None:
            raise SignInRequired(SIGNED_OUT)
        return self._tokens

    def peek(self) -> TokenSet | None:
        """The tokens if signed in, else ``None``."""
        try:
            return self.current()
        except SignInRequired:
            return None

    def save(self, tokens: TokenSet) -> None:
        """Keep a new session (sign-in or refresh)."""
        self._home.secrets.set(SESSION_KEY, tokens.to_json())
        self._tokens = tokens

    def clear(self) -> None:
        """Forget the session on this device."""
        self._home.secrets.delete(SESSION_KEY)
        self._tokens = None

    def newer_than(self, used: TokenSet) -> TokenSet | None:
        """A usable token that replaced ``used`` meanwhile (call with the refresh lock held)."""
        for candidate in (self._tokens, self.stored()):
            if (
                candidate is not None
                and candidate.access_token != used.access_token
                and not candidate.stale()
            ):
                self._tokens = candidate
                return candidate
        return None

    def refresh(self, used: TokenSet) -> Flow[TokenSet]:
        """The refresh flow (call with the refresh lock held, after :meth:`newer_than`)."""
        latest = self.stored() or used
        if not latest.refresh_token:
            self.clear()
            raise SignInRequired(ENDED)
        try:
            tokens = yield from api.refresh(latest.refresh_token)
        except ServerError as error:
            if error.code in ("invalid_grant", "invalid_client", "unauthorized_client"):
                self.clear()
                raise SignInRequired(ENDED) from None
            raise
        self.refreshes += 1
        self.save(tokens)
        return tokens
