"""The apps gateway end to end in process: containers sign with oauthlib, the gateway
verifies, strips, identifies and re-signs, and a real home server on 127.0.0.1 receives a
request whose signature oauthlib's own endpoint verifies with the app's secret."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.oauth1 import (
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    SIGNATURE_RSA_SHA1,
    SIGNATURE_TYPE_AUTH_HEADER,
    SIGNATURE_TYPE_BODY,
    SIGNATURE_TYPE_QUERY,
    Client,
    RequestValidator,
    SignatureOnlyEndpoint,
)

from authgate.identity.models import Role
from tests.egress.upstreams import Received, Reply, Upstream, redirect_to
from tests.http.conftest import BASE_URL, Authgate, Start, bearer, unique

CONTAINER_SECRET = "container-secret-2b7e151628aed2a6"
APP_SECRET = "app-secret-abf7158809cf4f3c-canary"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Gateway:
    ag: Authgate
    home: Upstream
    headers: dict[str, str]
    org: str
    app_id: str
    consumer_key: str
    instance_id: str

    def signer(self, method: str = SIGNATURE_HMAC_SHA1, placement: str = SIGNATURE_TYPE_AUTH_HEADER,
               **options: Any) -> Client:  # fmt: skip
        return Client(
            self.consumer_key,
            client_secret=CONTAINER_SECRET,
            signature_method=method,
            signature_type=placement,
            **options,
        )

    def url(self, path: str = "items/42", query: str = "") -> str:
        url = f"{BASE_URL}/v1/gateway/{self.app_id}/{path}"
        return f"{url}?{query}" if query else url

    async def send(
        self,
        client: Client,
        method: str = "GET",
        url: str | None = None,
        body: str | None = None,
        content_type: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        uri, signed, signed_body = client.sign(
            url or self.url(), method, body=body, headers=headers
        )
        return await self.ag.client.request(
            method,
            uri,
            headers={**signed, **(extra or {})},
            content=signed_body.encode() if isinstance(signed_body, str) else signed_body,
        )

    def last(self) -> Received:
        return self.home.received[-1]


class _AppSecretValidator(RequestValidator):  # type: ignore[misc]
    """oauthlib's side of a home server: knows the app's consumer key and secret."""

    enforce_ssl = False
    allowed_signature_methods = (SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256)

    def __init__(self, consumer_key: str) -> None:
        super().__init__()
        self.consumer_key = consumer_key

    def check_client_key(self, client_key: str) -> bool:
        return client_key == self.consumer_key

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == self.consumer_key

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return APP_SECRET

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True

    @property
    def dummy_client(self) -> str:
        return "dummy"


def verified_by_oauthlib(received: Received, port: int, consumer_key: str) -> bool:
    endpoint = SignatureOnlyEndpoint(_AppSecretValidator(consumer_key))
    headers = {name.title(): value for name, value in received.headers}
    body = received.body.decode() if received.body else None
    valid, _ = endpoint.validate_request(
        f"http://127.0.0.1:{port}{received.target}", received.method, body, headers
    )
    return bool(valid)


def query_of(received: Received) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(received.target).query, keep_blank_values=True)


@pytest.fixture
async def home() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@asynccontextmanager
async def gateway(start: Start, home: Upstream, **settings: Any) -> AsyncIterator[Gateway]:
    async with start(egress_allowed_hosts=("127.0.0.1",), **settings) as ag:
        org, owner = await ag.org_with_owner("gw")
        headers = bearer((await ag.login(owner.email))["access_token"])
        consumer_key = unique("jive")
        container = await ag.client.put(
            f"/v1/orgs/{org.slug}/signed-fetch/containers/jive",
            headers=headers,
            json={"consumerKey": consumer_key, "secret": CONTAINER_SECRET},
        )
        assert container.status_code == 201, container.text
        app_id = unique("planner")
        app = await ag.client.put(
            f"/v1/orgs/{org.slug}/signed-fetch/apps/{app_id}",
            headers=headers,
            json={
                "appUrl": "https://planner.example.com/app.xml",
                "homeServers": [home.url("/api")],
                "consumerKey": "planner-key",
                "consumerSecret": APP_SECRET,
            },
        )
        assert app.status_code == 201, app.text
        yield Gateway(
            ag, home, headers, org.slug, app_id, consumer_key, container.json()["instanceId"]
        )


# --- the flow ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "placement"),
    [
        (SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER),
        (SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER),
        (SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_QUERY),
    ],
)
async def test_a_signed_get_reaches_the_home_server_identified_and_re_signed(
    start: Start, home: Upstream, method: str, placement: str
) -> None:
    async with gateway(start, home) as gw:
        response = await gw.send(
            gw.signer(method, placement), url=gw.url("items/42", "opensocial_owner_id=1001&q=a+b")
        )

        assert response.status_code == 200, response.text
        received = gw.last()
        assert received.target.startswith("/api/items/42?")
        query = query_of(received)
        assert ("q", "a b") in query
        assert ("opensocial_owner_id", f"1001@{gw.instance_id}") in query
        assert ("opensocial_viewer_id", f"1001@{gw.instance_id}") in query
        assert ("opensocial_app_id", gw.app_id) in query
        assert ("opensocial_app_url", "https://planner.example.com/app.xml") in query
        assert ("opensocial_instance_id", gw.instance_id) in query
        assert not [n for n, _ in query if n.startswith("oauth_")]
        authorization = received.header("authorization") or ""
        assert 'oauth_consumer_key="planner-key"' in authorization
        assert gw.consumer_key not in authorization
        assert verified_by_oauthlib(received, home.port, "planner-key")


async def test_an_rsa_container_and_a_form_post_with_parameters_in_the_body(
    start: Start, home: Upstream
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    async with gateway(start, home) as gw:
        rsa_key = unique("rsa-container")
        registered = await gw.ag.client.put(
            f"/v1/orgs/{gw.org}/signed-fetch/containers/rsa",
            headers=gw.headers,
            json={"consumerKey": rsa_key, "publicKey": public.decode(), "instanceId": "inst-rsa"},
        )
        assert registered.status_code == 201, registered.text
        assert registered.json()["keyType"] == "rsa"
        client = Client(
            rsa_key,
            signature_method=SIGNATURE_RSA_SHA1,
            rsa_key=private.decode(),
            signature_type=SIGNATURE_TYPE_BODY,
        )
        body = "opensocial_owner_id=u-7&title=J%C3%BCrgen+%26+co&xoauth_requestor_id=root"
        response = await gw.send(client, "POST", body=body, content_type=FORM)

        assert response.status_code == 200, response.text
        received = gw.last()
        form = parse_qsl(received.body.decode())
        assert form == [("title", "Jürgen & co")]
        assert ("opensocial_owner_id", "u-7@inst-rsa") in query_of(received)
        assert verified_by_oauthlib(received, home.port, "planner-key")


async def test_a_json_body_is_forwarded_with_a_fresh_body_hash(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        payload = '{"title": "Plan ☃", "opensocial_owner_id": "stays in a JSON body"}'
        response = await gw.send(
            gw.signer(),
            "PUT",
            url=gw.url("plans/1", "opensocial_owner_id=77"),
            body=payload,
            content_type="application/json",
        )

        assert response.status_code == 200, response.text
        received = gw.last()
        assert received.body == payload.encode()
        assert "oauth_body_hash=" in (received.header("authorization") or "")
        assert verified_by_oauthlib(received, home.port, "planner-key")


async def test_caller_supplied_identity_parameters_are_stripped_in_any_case_and_place(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        query = (
            "opensocial_owner_id=5&OpenSocial_Owner_Id=admin%40other&OPENSOCIAL_APP_ID=evil"
            "&XOAUTH_requestor_id=root&Oauth_Token=stolen&keep=1"
        )
        response = await gw.send(gw.signer(), url=gw.url("x", query))
        assert response.status_code == 200, response.text
        names = [n.lower() for n, _ in query_of(gw.last())]

        assert names.count("opensocial_owner_id") == 1
        assert names.count("opensocial_app_id") == 1
        assert "xoauth_requestor_id" not in names
        assert "oauth_token" not in names
        assert ("opensocial_app_id", gw.app_id) in query_of(gw.last())
        assert ("keep", "1") in query_of(gw.last())


# --- what is refused ---------------------------------------------------------------------


async def test_a_replayed_request_is_refused_and_only_verified_nonces_are_recorded(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        nonce = secrets.token_hex(12)
        url = gw.url("x", "opensocial_owner_id=1")
        forged = Client(gw.consumer_key, client_secret="not-the-secret-000000", nonce=nonce)
        refused = await gw.send(forged, url=url)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_signature"
        assert refused.headers["www-authenticate"].startswith("OAuth ")

        signer = gw.signer(nonce=nonce)
        uri, headers, _ = signer.sign(url, "GET")
        first = await gw.ag.client.get(uri, headers=headers)
        again = await gw.ag.client.get(uri, headers=headers)

        assert first.status_code == 200, first.text
        assert again.status_code == 401
        assert again.json()["error"]["code"] == "replayed_nonce"
        assert len(home.received) == 1


async def test_a_stale_timestamp_an_unknown_key_and_a_wrong_secret_are_refused_alike(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        url = gw.url("x", "opensocial_owner_id=1")
        stale = str(int(gw.ag.clock().timestamp()) - 301)
        cases = [
            gw.signer(timestamp=stale),
            Client("nobody-registered-this", client_secret=CONTAINER_SECRET),
            Client(gw.consumer_key, client_secret=CONTAINER_SECRET + "x"),
        ]
        for client in cases:
            response = await gw.send(client, url=url)
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "invalid_signature"
        assert home.received == []


async def test_plaintext_and_unsigned_requests_are_refused(start: Start, home: Upstream) -> None:
    async with gateway(start, home) as gw:
        plain = await gw.send(gw.signer("PLAINTEXT"), url=gw.url("x", "opensocial_owner_id=1"))
        unsigned = await gw.ag.client.get(gw.url("x", "opensocial_owner_id=1"))

        assert plain.status_code == 400
        assert plain.json()["error"]["code"] == "invalid_oauth_request"
        assert "PLAINTEXT" in plain.json()["error"]["message"]
        assert unsigned.status_code == 400
        assert home.received == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "missing_owner"),
        ("opensocial_owner_id=1%40other-instance", "missing_owner"),
        ("opensocial_owner_id=1&opensocial_owner_id=2", "invalid_oauth_request"),
    ],
)
async def test_the_container_must_name_exactly_one_plain_user(
    start: Start, home: Upstream, query: str, code: str
) -> None:
    async with gateway(start, home) as gw:
        response = await gw.send(gw.signer(), url=gw.url("x", query))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == code
        assert home.received == []


@pytest.mark.parametrize("path", ["a/.%2E/b", "a/%2e%2e/b", "a/..%2fb", "a/%2E/b", "a%5c..%5cb"])
async def test_paths_that_could_leave_the_registered_base_url_are_refused(
    start: Start, home: Upstream, path: str
) -> None:
    async with gateway(start, home) as gw:
        response = await gw.send(gw.signer(), url=gw.url(path, "opensocial_owner_id=1"))
        assert response.status_code == 400, response.text
        assert home.received == []


async def test_a_redirect_is_handed_back_not_followed(start: Start, home: Upstream) -> None:
    home.routes["/api/moved"] = redirect_to(home.url("/api/elsewhere"))
    async with gateway(start, home) as gw:
        response = await gw.send(gw.signer(), url=gw.url("moved", "opensocial_owner_id=1"))

        assert response.status_code == 302
        assert response.headers["location"] == home.url("/api/elsewhere")
        assert [r.target.split("?")[0] for r in home.received] == ["/api/moved"]


async def test_only_registered_home_servers_are_called(start: Start, home: Upstream) -> None:
    other = await Upstream().start()
    try:
        async with gateway(start, home) as gw:
            url = gw.url("x", "opensocial_owner_id=1")
            chosen = await gw.send(
                gw.signer(), url=url, extra={"Authgate-Home-Server": other.url("/api")}
            )
            assert chosen.status_code == 400
            assert chosen.json()["error"]["code"] == "home_server_not_registered"
            assert other.received == []
            assert home.received == []

            named = await gw.send(
                gw.signer(), url=url, extra={"Authgate-Home-Server": home.url("/api/")}
            )
            assert named.status_code == 200, named.text
            assert home.received[-1].header("authgate-home-server") is None
    finally:
        await other.close()


async def test_another_organizations_container_cannot_reach_the_app(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        other_org, other_owner = await gw.ag.org_with_owner("rival")
        other_headers = bearer((await gw.ag.login(other_owner.email))["access_token"])
        key = unique("rival-container")
        await gw.ag.client.put(
            f"/v1/orgs/{other_org.slug}/signed-fetch/containers/c",
            headers=other_headers,
            json={"consumerKey": key, "secret": CONTAINER_SECRET},
        )
        response = await gw.send(
            Client(key, client_secret=CONTAINER_SECRET), url=gw.url("x", "opensocial_owner_id=1")
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "container_not_allowed"
        assert home.received == []


async def test_an_unknown_app_is_404_and_a_dead_home_server_is_502(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        missing = await gw.send(
            gw.signer(),
            url=f"{BASE_URL}/v1/gateway/no-such-app/x?opensocial_owner_id=1",
        )
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "unknown_app"
        await home.close()
        dead = await gw.send(gw.signer(), url=gw.url("x", "opensocial_owner_id=1"))
        assert dead.status_code == 502, dead.text
        assert APP_SECRET not in dead.text
        assert CONTAINER_SECRET not in dead.text


async def test_a_large_answer_is_streamed_back_whole(start: Start, home: Upstream) -> None:
    chunk = secrets.token_bytes(64 * 1024)

    async def big(request: Received, reply: Reply) -> None:
        await reply.start(200, [("content-type", "application/octet-stream"),
                                ("set-cookie", "session=home-server")])  # fmt: skip
        for _ in range(80):
            await reply.data(chunk)
        await reply.end()

    home.routes["/api/big"] = big
    async with gateway(start, home) as gw:
        response = await gw.send(gw.signer(), url=gw.url("big", "opensocial_owner_id=1"))
        assert response.status_code == 200
        assert response.content == chunk * 80
        assert "set-cookie" not in response.headers


# --- authgate as the container ----------------------------------------------------------


async def test_a_signed_in_member_fetches_as_herself_at_this_instance(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        org = await gw.ag.services.deps.store.orgs.get_by_slug(gw.org)
        assert org is not None
        member = await gw.ag.user(f"{unique('m')}@gw.test")
        await gw.ag.member(org, member, Role.USER)
        token = (await gw.ag.login(member.email))["access_token"]
        url = f"/v1/apps/{gw.app_id}/fetch/me?opensocial_owner_id=forged&x=1"

        response = await gw.ag.client.post(
            url, headers={**bearer(token), "Content-Type": FORM}, content=b"a=1&oauth_x=2"
        )

        assert response.status_code == 200, response.text
        received = gw.last()
        instance = gw.ag.services.gateway.instance_id
        query = query_of(received)
        assert ("opensocial_owner_id", f"{member.id}@{instance}") in query
        assert ("x", "1") in query
        assert parse_qsl(received.body.decode()) == [("a", "1")]
        assert token not in str(received.headers)
        assert verified_by_oauthlib(received, home.port, "planner-key")


async def test_fetch_needs_a_token_of_an_active_member(start: Start, home: Upstream) -> None:
    async with gateway(start, home) as gw:
        _, outsider = await gw.ag.org_with_owner("elsewhere")
        token = (await gw.ag.login(outsider.email))["access_token"]
        path = f"/v1/apps/{gw.app_id}/fetch/me"

        anonymous = await gw.ag.client.get(path)
        stranger = await gw.ag.client.get(path, headers=bearer(token))

        assert anonymous.status_code == 401
        assert stranger.status_code == 403
        assert home.received == []


# --- nodes and backends --------------------------------------------------------------------


@pytest.mark.parametrize("shared", ["database", pytest.param("redis", marks=pytest.mark.redis)])
async def test_a_request_served_by_one_node_is_a_replay_at_another(
    start: Start, home: Upstream, shared: str, request: pytest.FixtureRequest
) -> None:
    settings = {"redis_url": request.getfixturevalue("redis_url")} if shared == "redis" else {}
    async with (
        gateway(start, home, **settings) as gw,
        start(egress_allowed_hosts=("127.0.0.1",), **settings) as other,
    ):
        uri, headers, _ = gw.signer().sign(gw.url("x", "opensocial_owner_id=1"), "GET")

        first = await gw.ag.client.get(uri, headers=headers)
        again = await other.client.get(uri, headers=headers)

        assert first.status_code == 200, first.text
        assert again.status_code == 401
        assert again.json()["error"]["code"] == "replayed_nonce"
        assert len(home.received) == 1


async def test_the_gateway_on_each_backend(
    start: Start, home: Upstream, backend_overrides: dict[str, Any]
) -> None:
    async with gateway(start, home, **backend_overrides) as gw:
        uri, headers, _ = gw.signer().sign(gw.url("x", "opensocial_owner_id=9"), "GET")

        first = await gw.ag.client.get(uri, headers=headers)
        again = await gw.ag.client.get(uri, headers=headers)

        assert first.status_code == 200, first.text
        assert ("opensocial_owner_id", f"9@{gw.instance_id}") in query_of(gw.last())
        assert again.json()["error"]["code"] == "replayed_nonce"


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("GET", "x?q=%FF%FE", {"Authorization": 'OAuth oauth_consumer_key="k"'}, b"", 400),
        ("GET", "x?q=%zz", {}, b"", 400),
        ("GET", "x", {"Authorization": "OAuth garbage without quotes"}, b"", 400),
        ("GET", "x", {"Authorization": "Bearer abc"}, b"", 400),
        ("POST", "x", {"Content-Type": FORM, "Authorization": 'OAuth a="b"'}, b"\xff\xfe", 400),
        ("POST", "x", {"Content-Type": "application/json"}, b"x" * (1024 * 1024 + 1), 413),
        ("OPTIONS", "x", {}, b"", 400),
        ("GET", "x?" + "a=1&" * 4000, {}, b"", 400),
    ],
)
async def test_bad_gateway_requests_get_a_clear_4xx(
    start: Start,
    home: Upstream,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
) -> None:
    async with gateway(start, home) as gw:
        response = await gw.ag.client.request(
            method, f"/v1/gateway/{gw.app_id}/{path}", headers=headers, content=body
        )
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"]
        assert error["message"]
        assert home.received == []
