"""Errors of the egress client.

Each names the host and the rule that stopped the request, never a header value, a body or
any other part of the proxied exchange. Statuses:

* a refusal of the destination (:class:`ForbiddenDestination`, :class:`HostNotAllowed`) is
  403: the function's configuration (its URL or the host a credential is bound to) points
  somewhere this deployment does not send requests, whether directly or through a redirect;
* a request the client will not put on the wire (:class:`InvalidUpstreamRequest`) is 400;
* :class:`UpstreamTimeout` is 504;
* an upstream that is unreachable, answers too much, redirects too often or breaks the
  protocol is 502.
"""

from __future__ import annotations

from authgate.functions.errors import UpstreamError


class ForbiddenDestination(UpstreamError):
    """The host or an address it resolves to is refused by the address policy.

    Fix: point the function at a public host, or name the internal host in the
    ``egress_allowed_hosts`` setting.
    """

    code = "egress_forbidden_destination"
    status = 403


class HostNotAllowed(UpstreamError):
    """The request, or a redirect of it, would take a credential to a host it is not bound to."""

    code = "egress_host_not_allowed"
    status = 403


class InvalidUpstreamRequest(UpstreamError):
    """The request is not one the client sends: a bad URL, method or header."""

    code = "egress_invalid_request"
    status = 400


class UpstreamTimeout(UpstreamError):
    """The whole exchange, redirects included, did not finish within the time bound."""

    code = "upstream_timeout"
    status = 504


class UpstreamTooLarge(UpstreamError):
    """The response body (after decoding) is larger than the size bound."""

    code = "upstream_response_too_large"
    status = 502


class TooManyRedirects(UpstreamError):
    """The upstream redirected more often than the hop bound allows."""

    code = "upstream_too_many_redirects"
    status = 502


class UpstreamUnreachable(UpstreamError):
    """The host could not be resolved or connected to, or closed the connection."""

    code = "upstream_unreachable"
    status = 502


class MalformedUpstreamResponse(UpstreamError):
    """The upstream broke HTTP: a bad status line, header, redirect target or encoding."""

    code = "upstream_malformed_response"
    status = 502
