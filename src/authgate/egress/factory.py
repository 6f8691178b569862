"""Building the process's egress client from the settings."""

from __future__ import annotations

import ssl

from authgate.config import Settings
from authgate.egress.client import EgressClient
from authgate.egress.network import Resolver, system_resolver
from authgate.egress.policy import AddressPolicy
from authgate.errors import ConfigurationError


def build_egress_client(
    settings: Settings,
    *,
    resolver: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
) -> EgressClient:
    """The egress client the settings describe; close it with ``await client.aclose()``.

    ``ssl_context`` replaces the default trust store (certifi); ``resolver`` replaces
    ``getaddrinfo`` (tests use a table). Raises :class:`ConfigurationError` for an
    allow-list entry or proxy URL the client cannot use.
    """
    try:
        policy = AddressPolicy.from_entries(settings.egress_allowed_hosts)
        return EgressClient(
            policy,
            resolver=resolver,
            proxy=settings.egress_proxy_url,
            local_address=settings.egress_source_address,
            http2=settings.egress_http2,
            max_connections=settings.egress_max_connections,
            ssl_context=ssl_context,
        )
    except ValueError as exc:
        raise ConfigurationError(
            f"invalid egress settings: {exc}. Fix: correct AUTHGATE_EGRESS_ALLOWED_HOSTS or "
            "AUTHGATE_EGRESS_PROXY_URL."
        ) from None
