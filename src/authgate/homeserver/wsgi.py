"""WSGI integration of the home-server kit (Flask, Django, any WSGI application; stdlib only).

:class:`SignedFetchWSGIMiddleware` verifies each request (but ``exempt_paths``) before the
application sees it, answers a refused one with the kit's JSON error, puts the
:class:`SignedFetch` in ``environ["authgate.signed_fetch"]`` and hands the body on unread.
With Flask::

    app.wsgi_app = SignedFetchWSGIMiddleware(app.wsgi_app, verifier)
    fetch = current_signed_fetch(flask.request.environ)

The URL is rebuilt from the request line the server saw (``RAW_URI`` or ``REQUEST_URI`` when
the server gives one, else ``SCRIPT_NAME`` and ``PATH_INFO`` re-encoded); behind a reverse
proxy pass ``public_origin``, since the signature covers the URL the gateway addressed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from authgate.errors import AuthgateError
from authgate.homeserver.errors import InvalidOAuthRequest, MissingIdentity, RequestBodyTooLarge
from authgate.homeserver.identity import SignedFetch
from authgate.homeserver.responses import (
    AdapterOptions,
    error_body,
    error_headers,
    status_line,
)
from authgate.homeserver.verifier import SignedFetchVerifier

ENVIRON_KEY = "authgate.signed_fetch"
# RFC 3986 pchar and "/": what HTTP clients leave unescaped in a path.
_PATH_SAFE = "/:@!$&'()*+,;="

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_url(environ: Mapping[str, Any], public_origin: str | None = None) -> str:
    """The absolute URL of the request as its sender wrote it."""
    if public_origin is not None:
        origin = public_origin.rstrip("/")
    else:
        host = environ.get("HTTP_HOST")
        if not host:
            host = f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        origin = f"{environ['wsgi.url_scheme']}://{host}"
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        parts = urlsplit(raw)
        path = parts.path
    else:
        text = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        # PEP 3333: the path's bytes arrive as latin-1 text.
        path = quote(text.encode("latin-1"), safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING", "")
    return f"{origin}{path or '/'}?{query}" if query else f"{origin}{path or '/'}"


def request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers as a WSGI server passes them (``HTTP_*``, content type)."""
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def current_signed_fetch(environ: Mapping[str, Any]) -> SignedFetch:
    """The :class:`SignedFetch` the middleware verified for this request."""
    fetch = environ.get(ENVIRON_KEY)
    if not isinstance(fetch, SignedFetch):
        raise MissingIdentity("this request did not pass through SignedFetchWSGIMiddleware")
    return fetch


class SignedFetchWSGIMiddleware:
    """WSGI middleware: verify each request, answer refusals, hand the identity on."""

    def __init__(self, app: WSGIApp, verifier: SignedFetchVerifier, **options: Any) -> None:
        """``options`` are those of :class:`AdapterOptions`."""
        self.app = app
        self.verifier = verifier
        settings = AdapterOptions(**options)
        self.public_origin = settings.public_origin
        self.realm = settings.realm
        self.max_body = settings.max_body
        self.exempt_paths = frozenset(settings.exempt_paths)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Verify the request, then call the application with its body still to read."""
        if environ.get("PATH_INFO", "") in self.exempt_paths:
            return self.app(environ, start_response)
        try:
            body = self._read(environ)
            fetch = self.verifier.verify(
                environ["REQUEST_METHOD"],
                request_url(environ, self.public_origin),
                request_headers(environ),
                body,
            )
        except AuthgateError as error:
            payload = error_body(error)
            headers = [*error_headers(error, self.realm), ("Content-Length", str(len(payload)))]
            start_response(status_line(error.status), headers)
            return [payload]
        environ[ENVIRON_KEY] = fetch
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _read(self, environ: Mapping[str, Any]) -> bytes:
        declared = environ.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            raise InvalidOAuthRequest("the Content-Length header is not a number")
        length = int(declared)
        if length > self.max_body:
            raise RequestBodyTooLarge(f"the request body is larger than {self.max_body} bytes")
        body: bytes = environ["wsgi.input"].read(length) if length else b""
        return body
