"""Which clients may use the device authorization grant (RFC 8628): authgate's own device
client, in any of the person's organizations, and registered apps allowed the grant, in
their own organization and within their scopes."""

from __future__ import annotations

from authgate.errors import InvalidClient, InvalidScope
from authgate.provider.models import GrantType
from authgate.provider.service import Clients
from authgate.tokens.scopes import parse_scope


class DeviceGrantClients:
    """Implements :class:`authgate.tokens.device_authorization.DeviceClients`."""

    def __init__(self, clients: Clients | None, *, own_client_id: str) -> None:
        self._clients = clients
        self._own = own_client_id

    async def check(self, client_id: str, scope: str | None) -> None:
        """The client may use the grant and ask for ``scope``."""
        if client_id == self._own:
            return
        client = await self._clients.find(client_id) if self._clients is not None else None
        if client is None or not client.allows(GrantType.DEVICE_CODE):
            raise InvalidClient(
                f"client '{client_id[:64]}' may not use the device authorization grant"
            )
        refused = parse_scope(scope) - set(client.scopes)
        if refused:
            raise InvalidScope(f"this client may not ask for: {', '.join(sorted(refused))[:200]}")

    async def organization_of(self, client_id: str) -> str | None:
        """A registered app's organization; None for authgate's device client."""
        if client_id == self._own or self._clients is None:
            return None
        client = await self._clients.find(client_id)
        return client.org_id if client is not None else None
