"""What the apps gateway needs from storage: the registry and the shared nonce cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from authgate.signedfetch.forwarding import ForwardRequest
from authgate.signedfetch.registry import App, Container, StoredApp, StoredContainer


class RegistryRepository(Protocol):
    """Containers and apps, with their sealed secrets."""

    async def add_container(self, stored: StoredContainer) -> None:
        """Insert a container; Conflict when its consumer key or name is taken."""
        ...

    async def replace_container(self, stored: StoredContainer) -> None:
        """Update the container with the same id; Conflict when the consumer key is taken."""
        ...

    async def get_container(self, org_id: str, name: str) -> StoredContainer | None:
        """The organization's container by name."""
        ...

    async def container_by_key(self, consumer_key: str) -> StoredContainer | None:
        """The container signing with this consumer key (keys are unique across orgs)."""
        ...

    async def list_containers(self, org_id: str) -> list[Container]:
        """Every container of the organization, by name."""
        ...

    async def delete_container(self, container_id: str) -> bool:
        """Remove the container; True when it existed."""
        ...

    async def add_app(self, stored: StoredApp) -> None:
        """Insert an app; Conflict when its app id is taken (app ids are unique)."""
        ...

    async def replace_app(self, stored: StoredApp) -> None:
        """Update the app with the same id."""
        ...

    async def get_app(self, app_id: str) -> StoredApp | None:
        """The app registered under ``app_id``, whichever organization holds it."""
        ...

    async def list_apps(self, org_id: str) -> list[App]:
        """Every app of the organization, by app id."""
        ...

    async def delete_app(self, app_row_id: str) -> bool:
        """Remove the app; True when it existed."""
        ...


class NonceStore(Protocol):
    """The replay cache, shared by every node (RFC 5849 §3.3)."""

    async def record(
        self, consumer_key: str, timestamp: int, nonce: str, expires_at: datetime
    ) -> bool:
        """Remember the nonce until ``expires_at``; False when it was already recorded."""
        ...


class StreamedResponse(Protocol):
    """A home server's answer whose head arrived; the body comes in pieces."""

    status: int
    headers: tuple[tuple[str, str], ...]

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives."""
        ...

    async def aclose(self) -> None:
        """Release the connection."""
        ...


class HomeServers(Protocol):
    """Sends a forwarded request to its home server (never following a redirect)."""

    async def open(self, request: ForwardRequest, time_limit: float) -> StreamedResponse:
        """The answer's head, or an upstream error naming the host."""
        ...
