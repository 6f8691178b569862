"""A form-driving "browser" for authgate's own pages, for tests of third-party apps.

It plays a person without JavaScript: it keeps a cookie jar, follows redirects only while
they stay on authgate's origin, reads forms with :mod:`html.parser`, types the email and the
password, and presses the buttons it is told to (``decision=allow|deny`` on the consent
page, ``decision=logout`` on the sign-out confirmation). When authgate sends it elsewhere
(the app's redirect URI, or an organization's IdP), it stops and returns that address.

    async with ProviderBrowser(server.url) as browser:
        arrived = await browser.sign_in(authorization_url, "bea@acme.test", password)
        # arrived.params == {"code": ..., "state": ..., "iss": ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

MAX_STEPS = 16
"""More pages than any flow has: a loop ends with an error instead of running forever."""


@dataclass
class Form:
    """One ``<form>``: where it posts, its inputs (name, type, value) and its buttons."""

    action: str
    method: str
    inputs: list[tuple[str, str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def has(self, name: str) -> bool:
        """Whether an input of this name is in the form."""
        return any(n == name for n, _, _ in self.inputs)

    def input_type(self, name: str) -> str | None:
        """The type of the named input (``hidden``, ``email``, ``password``, …)."""
        return next((t for n, t, _ in self.inputs if n == name), None)

    def fields(self, **typed: str) -> dict[str, str]:
        """The values the form posts, with ``typed`` ones replacing or adding to them."""
        values = {name: value for name, _, value in self.inputs if name}
        values.update(typed)
        return values


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._open: Form | None = None
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(attributes.get("action", ""), attributes.get("method", "get").lower())
            self.forms.append(self._open)
        elif self._open is None:
            return
        elif tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._open.buttons.append((attributes.get("name", ""), attributes.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in attributes:
                self._open.inputs.append(
                    (attributes.get("name", ""), kind, attributes.get("value", ""))
                )
        elif tag == "button" and attributes.get("type", "submit").lower() == "submit":
            self._open.buttons.append((attributes.get("name", ""), attributes.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> list[Form]:
    """Every form of a page."""
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.forms


@dataclass
class Page:
    """A page the browser stopped on: nothing to press (an error, a message), or a form it
    was not told how to fill."""

    url: str
    status: int
    text: str
    headers: httpx.Headers

    @property
    def forms(self) -> list[Form]:
        """The page's forms."""
        return forms_of(self.text)

    def __str__(self) -> str:
        return f"{self.status} {self.url}\n{self.text[:3000]}"


@dataclass
class Left:
    """authgate redirected the browser away from its origin (to the app, or an IdP)."""

    url: str
    status: int

    @property
    def params(self) -> dict[str, str]:
        """The redirect's query parameters (the authorization response)."""
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def address(self) -> str:
        """The redirect without its query."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"


Decision = Literal["allow", "deny"]


class ProviderBrowser:
    """A person's browser on authgate's pages, with its own cookie jar."""

    def __init__(self, origin: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.origin = _origin(origin)
        self.client = client or httpx.AsyncClient(follow_redirects=False, timeout=30)
        self.pages: list[Page] = []
        """Every page shown, oldest first (for assertions and failure messages)."""

    async def __aenter__(self) -> ProviderBrowser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    def on_origin(self, url: str) -> bool:
        """Whether ``url`` is on authgate's origin (scheme, host and port)."""
        return _origin(url) == self.origin

    async def sign_in(
        self,
        url: str,
        email: str,
        password: str | None = None,
        *,
        decision: Decision = "allow",
        idp: str | None = None,
    ) -> Left:
        """Open ``url`` (an authorization request), sign in, answer the consent page, and
        return where authgate sent the browser (the app's redirect URI); with ``idp``, press
        that IdP's button instead of typing a password and return the redirect to the IdP."""
        outcome = await self.browse(url, email=email, password=password, decision=decision, idp=idp)
        if isinstance(outcome, Page):
            raise AssertionError(f"authgate did not send the browser to the app:\n{outcome}")
        return outcome

    async def browse(
        self,
        url: str,
        *,
        email: str | None = None,
        password: str | None = None,
        decision: Decision | None = None,
        idp: str | None = None,
        logout: bool = False,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
    ) -> Left | Page:
        """Go to ``url`` and keep going while there is something to do: follow redirects on
        authgate's origin and fill the forms this call was given values for. Returns the
        redirect that leaves the origin, or the page where there was nothing more to do
        (each form is filled at most once, so a refused password ends on its page)."""
        response = await self._send(method, url, data)
        done: set[str] = set()
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if not self.on_origin(location):
                    return Left(location, response.status_code)
                response = await self._send("GET", location, None)
                continue
            page = Page(str(response.url), response.status_code, response.text, response.headers)
            self.pages.append(page)
            step = _next_step(page, email, password, decision, idp, logout, done)
            if step is None:
                return page
            kind, form, values = step
            done.add(kind)
            response = await self._submit(page, form, values)
        raise AssertionError(f"more than {MAX_STEPS} steps on authgate's pages:\n{self.pages[-1]}")

    async def submit(self, page: Page, form: Form, **values: str) -> Left | Page:
        """Submit one form of ``page`` as it is, with ``values`` typed or pressed in (a
        button is pressed by giving its name and value). The outcome, as :meth:`browse`."""
        response = await self._submit(page, form, form.fields(**values))
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if not self.on_origin(location):
                return Left(location, response.status_code)
            return await self.browse(location)
        page = Page(str(response.url), response.status_code, response.text, response.headers)
        self.pages.append(page)
        return page

    async def approve_device(
        self, verification_uri: str, email: str, password: str, decision: Decision = "allow"
    ) -> Page:
        """RFC 8628 §3.3 on authgate's ``/device`` page (its code filled in from
        ``verification_uri_complete``): sign in and allow or deny the device."""
        outcome = await self.browse(
            verification_uri, email=email, password=password, decision=decision
        )
        if isinstance(outcome, Left):
            raise AssertionError(f"the device page sent the browser away: {outcome.url}")
        return outcome

    async def _send(self, method: str, url: str, data: Mapping[str, str] | None) -> httpx.Response:
        if not self.on_origin(url):
            raise AssertionError(f"the browser was asked to load {url}, not on {self.origin}")
        return await self.client.request(method, url, data=dict(data) if data else None)

    async def _submit(self, page: Page, form: Form, values: dict[str, str]) -> httpx.Response:
        target = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return await self._send("POST", target, values)
        query = httpx.QueryParams(values)
        return await self._send("GET", f"{target.split('?', 1)[0]}?{query}", None)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _next_step(
    page: Page,
    email: str | None,
    password: str | None,
    decision: Decision | None,
    idp: str | None,
    logout: bool,
    done: set[str],
) -> tuple[str, Form, dict[str, str]] | None:
    """Which form to submit next on ``page``, and with what; None when there is none."""
    forms = page.forms
    for form in forms:
        path = urlsplit(form.action).path
        if path == "/oauth/consent" and decision and "consent" not in done:
            return "consent", form, form.fields(decision=decision)
        if path == "/oauth/logout" and logout and "logout" not in done:
            return "logout", form, form.fields(decision="logout")
        if path == "/oauth/signin/sso" and ("idp", idp) in form.buttons and "sso" not in done:
            return "sso", form, form.fields(idp=idp or "")
    for form in forms:
        path = urlsplit(form.action).path
        if path == "/oauth/signin" and email is not None:
            if form.input_type("password") == "password":
                if password is not None and idp is None and "password" not in done:
                    return "password", form, form.fields(email=email, password=password)
            elif form.has("email") and "email" not in done:
                return "email", form, form.fields(email=email)
        if form.has("user_code") and email is not None and "device" not in done:
            typed: dict[str, Any] = {"email": email, "decision": decision or "allow"}
            if password is not None:
                typed["password"] = password
            return "device", form, form.fields(**typed)
    return None
