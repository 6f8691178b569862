"""What the gateway sends to a home server: the request stripped, identified and re-signed.

Whatever the caller sent, every parameter named ``oauth_*``, ``xoauth_*`` or ``opensocial_*``
(compared case-insensitively, after decoding, in the query and in a form body) is removed,
and so are its ``Authorization`` header and the headers that only concern the hop. The
gateway then adds its own identity parameters to the query::

    opensocial_owner_id=<user>@<instance>   opensocial_viewer_id=<viewer>@<instance>
    opensocial_app_id   opensocial_app_url  opensocial_instance_id=<instance>

and signs the result with the app's consumer key and secret (RFC 5849 §3.1, the body-hash
extension for any other body). The home server splits an owner id at its last ``@``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from authgate.signedfetch.errors import HomeServerNotRegistered, InvalidOAuthRequest
from authgate.signedfetch.parameters import is_form_body, parse_form
from authgate.signedfetch.registry import AppKey
from authgate.signedfetch.signature import SharedSecret, percent_encode
from authgate.signedfetch.signing import sign_request

IDENTITY_PREFIXES = ("oauth_", "xoauth_", "opensocial_")
HOME_SERVER_HEADER = "authgate-home-server"
"""Names which registered base URL to call when an app has several (default: the first)."""

# Hop-by-hop (RFC 9110 §7.6.1) and what the gateway itself decides; never forwarded.
_DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "cookie",
        "expect",
        "forwarded",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
        HOME_SERVER_HEADER,
    }
)
MAX_PATH_CHARS = 2048


def is_identity_parameter(name: str) -> bool:
    """Whether the gateway alone may set a parameter of this name (any case)."""
    return name.lower().startswith(IDENTITY_PREFIXES)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the forwarded request acts for, as the gateway asserts it."""

    user_id: str
    viewer_id: str
    instance_id: str

    def parameters(self, app_key: AppKey) -> list[tuple[str, str]]:
        """The ``opensocial_*`` parameters the gateway adds."""
        app = app_key.app
        return [
            ("opensocial_owner_id", f"{self.user_id}@{self.instance_id}"),
            ("opensocial_viewer_id", f"{self.viewer_id}@{self.instance_id}"),
            ("opensocial_app_id", app.app_id),
            ("opensocial_app_url", app.app_url),
            ("opensocial_instance_id", self.instance_id),
        ]


@dataclass(frozen=True, slots=True)
class ForwardRequest:
    """One request to a registered home server, ready to send."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes = field(repr=False)
    host: str


def choose_home_server(app_key: AppKey, requested: str | None) -> str:
    """The registered base URL named by the request, or the app's first."""
    servers = app_key.app.home_servers
    if requested is None:
        return servers[0]
    wanted = requested.strip().rstrip("/")
    for server in servers:
        if server.lower() == wanted.lower():
            return server
    raise HomeServerNotRegistered(
        f"the {HOME_SERVER_HEADER} header names a base URL that is not registered for app "
        f"'{app_key.app.app_id}'; use one of its homeServers"
    )


def check_path(raw_path: str) -> str:
    """The path below the base URL, refused when it could climb out of it."""
    if len(raw_path) > MAX_PATH_CHARS:
        raise InvalidOAuthRequest(f"the path must be at most {MAX_PATH_CHARS} characters")
    for segment in raw_path.split("/"):
        decoded = segment.replace("%2e", ".").replace("%2E", ".")
        if decoded in (".", "..") or "%2f" in segment.lower() or "%5c" in segment.lower():
            raise InvalidOAuthRequest(
                "the path must not contain '.' or '..' segments or encoded slashes; the "
                "gateway only forwards below the registered base URL"
            )
        if any(ord(c) < 0x21 or c in "\\#?" for c in segment):
            raise InvalidOAuthRequest("the path contains a character that must be encoded")
    return raw_path


def _encode(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{percent_encode(n)}={percent_encode(v)}" for n, v in pairs)


def _kept(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, v) for n, v in pairs if not is_identity_parameter(n)]


def plan_forward(
    *,
    method: str,
    base_url: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    identity: Identity,
    app_key: AppKey,
    now: datetime,
) -> ForwardRequest:
    """The stripped, identified and re-signed request to ``base_url`` + ``/`` + ``path``.

    ``query`` is the raw query string and ``path`` the raw (still encoded) path below the
    gateway's prefix; both were checked by the caller.
    """
    content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    pairs = _kept(parse_form(query)) + identity.parameters(app_key)
    url = f"{base_url}/{check_path(path)}?{_encode(pairs)}"
    if is_form_body(content_type):
        try:
            form = parse_form(body.decode("ascii"))
        except UnicodeDecodeError:
            raise InvalidOAuthRequest("a form body must be percent-encoded ASCII") from None
        body = _encode(_kept(form)).encode("ascii")
    app = app_key.app
    signed = sign_request(
        method,
        url,
        body=body,
        consumer_key=app.consumer_key,
        consumer_secret=SharedSecret(app_key.consumer_secret),
        signature_method=app.signature_method,
        content_type=content_type,
        now=now,
    )
    forwarded = [(n, v) for n, v in headers if n.lower() not in _DROPPED_HEADERS]
    forwarded.append(("Authorization", signed.authorization))
    return ForwardRequest(
        method=method,
        url=url,
        headers=tuple(forwarded),
        body=body,
        host=(urlsplit(base_url).hostname or "").lower(),
    )
