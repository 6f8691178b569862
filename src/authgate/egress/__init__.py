"""Outbound HTTP for functions and connections: the SSRF-safe egress client.

Build one per process with :func:`build_egress_client` and close it with ``aclose()``.
"""

from __future__ import annotations

from authgate.egress.client import EgressClient
from authgate.egress.factory import build_egress_client
from authgate.egress.policy import AddressPolicy

__all__ = ["AddressPolicy", "EgressClient", "build_egress_client"]
