"""The apps gateway's registry API: containers and apps of an organization, on SQLite and
PostgreSQL. Secrets go in and never come out; refused registrations carry stable codes;
only the organization's OWNER and ADMIN see or change anything."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from authgate.homeserver import InvalidSignature, SignedFetchVerifier
from authgate.identity.models import Organization, Role
from tests.egress.upstreams import Upstream
from tests.http.conftest import Authgate, Start, bearer, unique

CONTAINER_SECRET = "registry-container-secret-" + secrets.token_hex(8)
APP_SECRET = "registry-app-secret-" + secrets.token_hex(8)
NEW_APP_SECRET = "registry-new-app-secret-" + secrets.token_hex(8)
SECRETS = (CONTAINER_SECRET, APP_SECRET, NEW_APP_SECRET)


@dataclass
class Admin:
    """An organization and its owner's requests to the registry API."""

    ag: Authgate
    org: Organization
    headers: dict[str, str]

    def path(self, kind: str, name: str = "") -> str:
        return f"/v1/orgs/{self.org.slug}/signed-fetch/{kind}" + (f"/{name}" if name else "")

    async def put(self, kind: str, name: str, body: dict[str, Any]) -> httpx.Response:
        return await self.ag.client.put(self.path(kind, name), headers=self.headers, json=body)

    async def get(self, kind: str, name: str = "") -> httpx.Response:
        return await self.ag.client.get(self.path(kind, name), headers=self.headers)

    async def delete(self, kind: str, name: str) -> httpx.Response:
        return await self.ag.client.delete(self.path(kind, name), headers=self.headers)

    async def audit(self) -> list[Any]:
        """The organization's signed-fetch audit events, oldest first, read from the store."""
        events = await self.ag.services.deps.store.audit.list(self.org.id, limit=500)
        return [e for e in reversed(events) if e.action.startswith("signed_fetch.")]


async def admin_of(ag: Authgate, prefix: str = "reg") -> Admin:
    org, owner = await ag.org_with_owner(prefix)
    return Admin(ag, org, bearer((await ag.login(owner.email))["access_token"]))


@pytest_asyncio.fixture
async def admin(backend_ag: Authgate) -> Admin:
    """An owner on SQLite, then on PostgreSQL."""
    return await admin_of(backend_ag)


@pytest_asyncio.fixture
async def sqlite_admin(ag: Authgate) -> Admin:
    """An owner on SQLite (for what only the domain decides)."""
    return await admin_of(ag)


def hmac_container(**extra: Any) -> dict[str, Any]:
    return {"consumerKey": unique("jive"), "secret": CONTAINER_SECRET, **extra}


def an_app(**extra: Any) -> dict[str, Any]:
    return {
        "appUrl": "https://planner.example.com/app.xml",
        "homeServers": ["https://API.planner.example.com/v1/", "http://127.0.0.1:8080"],
        "consumerKey": "planner-key",
        "consumerSecret": APP_SECRET,
        **extra,
    }


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    encoded = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded.decode()


def certificate_pem(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jive.example.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def no_secret_in(ag: Authgate) -> None:
    for response in ag.responses:
        text = response.text + str(response.headers)
        for secret in SECRETS:
            assert secret not in text, f"a secret in the answer to {response.request.url}"


# --- containers ----------------------------------------------------------------------


async def test_a_container_is_created_replaced_listed_described_and_deleted(admin: Admin) -> None:
    body = hmac_container(description="Our Jive")
    created = await admin.put("containers", "jive", body)

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    view = created.json()
    assert set(view) == {"name", "consumerKey", "instanceId", "keyType", "publicKey",
                         "description", "version", "createdAt", "updatedAt"}  # fmt: skip
    assert (view["name"], view["consumerKey"], view["keyType"]) == (
        "jive", body["consumerKey"], "hmac"
    )  # fmt: skip
    assert (view["publicKey"], view["version"], view["description"]) == (None, 1, "Our Jive")
    assert len(view["instanceId"]) == 32
    assert "@" not in view["instanceId"]

    key = rsa_key()
    replaced = await admin.put(
        "containers", "jive", {"consumerKey": body["consumerKey"], "publicKey": public_pem(key)}
    )
    assert replaced.status_code == 200, replaced.text
    again = replaced.json()
    assert (again["keyType"], again["version"], again["description"]) == ("rsa", 2, "")
    assert again["instanceId"] == view["instanceId"]  # kept when not given
    assert again["publicKey"] == public_pem(key)
    assert again["createdAt"] == view["createdAt"]

    await admin.put("containers", "another", hmac_container(instanceId="inst:2"))
    listed = await admin.get("containers")
    assert listed.status_code == 200
    assert [(c["name"], c["instanceId"]) for c in listed.json()] == [
        ("another", "inst:2"),
        ("jive", view["instanceId"]),
    ]
    assert (await admin.get("containers", "jive")).json() == again

    deleted = await admin.delete("containers", "jive")
    assert deleted.status_code == 204
    gone = await admin.get("containers", "jive")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    assert (await admin.delete("containers", "jive")).status_code == 404
    assert [c["name"] for c in (await admin.get("containers")).json()] == ["another"]

    audit = await admin.audit()
    assert [e.action for e in audit] == [
        "signed_fetch.container.created",
        "signed_fetch.container.replaced",
        "signed_fetch.container.created",
        "signed_fetch.container.deleted",
    ]
    assert audit[0].subject == "jive"
    assert audit[0].details["key_type"] == "hmac"
    no_secret_in(admin.ag)
    assert not [e for e in audit if any(s in repr(e) for s in SECRETS)]


async def test_a_consumer_key_belongs_to_one_container_of_any_organization(admin: Admin) -> None:
    body = hmac_container()
    assert (await admin.put("containers", "first", body)).status_code == 201
    other = await admin_of(admin.ag, "rival")

    for owner, name in ((admin, "second"), (other, "first")):
        taken = await owner.put("containers", name, hmac_container(consumerKey=body["consumerKey"]))
        assert taken.status_code == 409, taken.text
        assert taken.json()["error"]["code"] == "conflict"
        assert admin.org.slug not in taken.text

    mine = await admin.put("containers", "second", hmac_container())
    assert mine.status_code == 201
    moved = await admin.put("containers", "second", hmac_container(consumerKey=body["consumerKey"]))
    assert moved.status_code == 409
    assert (await admin.get("containers", "second")).json()["consumerKey"] == (
        mine.json()["consumerKey"]
    )
    assert (await other.get("containers")).json() == []


# --- apps --------------------------------------------------------------------------------


async def test_an_app_is_created_replaced_listed_described_and_deleted(admin: Admin) -> None:
    app_id = unique("planner")
    created = await admin.put("apps", app_id, an_app(signatureMethod="HMAC-SHA256"))

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    view = created.json()
    assert "consumerSecret" not in view
    assert view["homeServers"] == ["https://api.planner.example.com/v1", "http://127.0.0.1:8080"]
    assert (view["signatureMethod"], view["version"]) == ("HMAC-SHA256", 1)
    assert view["gatewayPath"] == f"/v1/gateway/{app_id}/"
    assert view["fetchPath"] == f"/v1/apps/{app_id}/fetch/"

    settings_only = an_app(homeServers=["https://api.planner.example.com"], description="v2")
    del settings_only["consumerSecret"]
    replaced = await admin.put("apps", app_id, settings_only)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 1  # the secret did not change
    assert replaced.json()["signatureMethod"] == "HMAC-SHA1"
    rotated = await admin.put("apps", app_id, an_app(consumerSecret=NEW_APP_SECRET))
    assert rotated.json()["version"] == 2

    other_id = unique("atlas")
    await admin.put("apps", other_id, an_app())
    listed = [a["appId"] for a in (await admin.get("apps")).json()]
    assert listed == sorted([app_id, other_id])
    assert (await admin.get("apps", app_id)).json() == rotated.json()

    assert (await admin.delete("apps", app_id)).status_code == 204
    assert (await admin.get("apps", app_id)).status_code == 404
    assert (await admin.delete("apps", app_id)).status_code == 404
    assert [a["appId"] for a in (await admin.get("apps")).json()] == [other_id]

    audit = await admin.audit()
    assert [e.action for e in audit] == [
        "signed_fetch.app.created",
        "signed_fetch.app.replaced",
        "signed_fetch.app.replaced",
        "signed_fetch.app.created",
        "signed_fetch.app.deleted",
    ]
    assert [e.details["version"] for e in audit[:3]] == ["1", "1", "2"]
    no_secret_in(admin.ag)
    assert not [e for e in audit if any(s in repr(e) for s in SECRETS)]


async def test_an_app_id_taken_by_another_organization_is_a_conflict_naming_no_one(
    admin: Admin,
) -> None:
    app_id = unique("planner")
    assert (await admin.put("apps", app_id, an_app())).status_code == 201
    rival = await admin_of(admin.ag, "rival")

    taken = await rival.put("apps", app_id, an_app(consumerSecret=NEW_APP_SECRET))

    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "conflict"
    for identifying in (admin.org.slug, admin.org.id, "owner@"):
        assert identifying not in taken.text
    assert (await rival.get("apps", app_id)).status_code == 404
    assert (await rival.delete("apps", app_id)).status_code == 404
    assert (await admin.get("apps", app_id)).json()["version"] == 1
    assert await rival.audit() == []


# --- who may act ------------------------------------------------------------------------


async def test_another_organizations_admin_finds_nothing(admin: Admin) -> None:
    app_id = unique("planner")
    await admin.put("containers", "jive", hmac_container())
    await admin.put("apps", app_id, an_app())
    rival = await admin_of(admin.ag, "rival")
    client, headers = admin.ag.client, rival.headers

    answers = [
        await client.get(admin.path("containers"), headers=headers),
        await client.get(admin.path("containers", "jive"), headers=headers),
        await client.put(admin.path("containers", "jive"), headers=headers, json=hmac_container()),
        await client.delete(admin.path("containers", "jive"), headers=headers),
        await client.get(admin.path("apps"), headers=headers),
        await client.get(admin.path("apps", app_id), headers=headers),
        await client.put(admin.path("apps", app_id), headers=headers, json=an_app()),
        await client.delete(admin.path("apps", app_id), headers=headers),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert {a.json()["error"]["code"] for a in answers} == {"not_found"}
    assert len((await admin.get("containers")).json()) == 1
    assert (await admin.get("apps", app_id)).status_code == 200


@pytest.mark.parametrize("role", [Role.MAKER, Role.USER])
async def test_makers_and_users_are_forbidden(sqlite_admin: Admin, role: Role) -> None:
    ag = sqlite_admin.ag
    app_id = unique("planner")
    await sqlite_admin.put("apps", app_id, an_app())
    member = await ag.user(f"{unique('m')}@reg.test")
    await ag.member(sqlite_admin.org, member, role)
    them = Admin(ag, sqlite_admin.org, bearer((await ag.login(member.email))["access_token"]))

    answers = [
        await them.get("containers"),
        await them.put("containers", "jive", hmac_container()),
        await them.get("apps"),
        await them.get("apps", app_id),
        await them.put("apps", app_id, an_app(consumerSecret=NEW_APP_SECRET)),
        await them.delete("apps", app_id),
    ]

    assert [a.status_code for a in answers] == [403] * len(answers)
    assert {a.json()["error"]["code"] for a in answers} == {"forbidden"}
    assert (await sqlite_admin.get("apps", app_id)).json()["version"] == 1
    anonymous = await ag.client.get(sqlite_admin.path("apps"))
    assert anonymous.status_code == 401


# --- what is refused -------------------------------------------------------------------


def _both(**_: Any) -> dict[str, Any]:
    return hmac_container(publicKey=public_pem(rsa_key()))


CONTAINER_REFUSALS = [
    pytest.param(lambda: hmac_container(secret="short-secret"), "secret must be", id="short"),
    pytest.param(_both, "exactly one of secret", id="both"),
    pytest.param(lambda: {"consumerKey": unique("k")}, "exactly one of secret", id="neither"),
    pytest.param(
        lambda: {
            "consumerKey": unique("k"),
            "publicKey": public_pem(ec.generate_private_key(ec.SECP256R1())),
        },
        "RSA key of at least 2048 bits",
        id="ec-key",
    ),
    pytest.param(
        lambda: {"consumerKey": unique("k"), "publicKey": public_pem(rsa_key(1024))},
        "RSA key of at least 2048 bits",
        id="rsa-1024",
    ),
    pytest.param(
        lambda: {"consumerKey": unique("k"), "publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n"},
        "publicKey must be a PEM RSA public key",
        id="not-a-key",
    ),
    pytest.param(lambda: hmac_container(instanceId="users@jive"), "instanceId", id="instance-at"),
    pytest.param(lambda: hmac_container(consumerKey="has space"), "consumerKey", id="key-space"),
]


@pytest.mark.parametrize(("body", "message"), CONTAINER_REFUSALS)
async def test_refused_containers_say_why(sqlite_admin: Admin, body: Any, message: str) -> None:
    response = await sqlite_admin.put("containers", "jive", body())

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_registration"
    assert message in error["message"]
    assert (await sqlite_admin.get("containers")).json() == []
    no_secret_in(sqlite_admin.ag)


async def test_a_bad_container_name_is_refused(sqlite_admin: Admin) -> None:
    response = await sqlite_admin.put("containers", "bad name!", hmac_container())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_registration"


async def test_an_app_url_may_carry_a_query(sqlite_admin: Admin) -> None:
    url = "https://planner.example.com/app.xml?v=2"
    response = await sqlite_admin.put("apps", unique("planner"), an_app(appUrl=url))

    assert response.status_code == 201, response.text
    assert response.json()["appUrl"] == url


async def test_an_x509_certificate_registers_its_rsa_key(sqlite_admin: Admin) -> None:
    key = rsa_key()
    response = await sqlite_admin.put(
        "containers", "jive", {"consumerKey": unique("k"), "publicKey": certificate_pem(key)}
    )

    assert response.status_code == 201, response.text
    assert response.json()["keyType"] == "rsa"
    assert response.json()["publicKey"] == public_pem(key)


APP_REFUSALS = [
    pytest.param({"signatureMethod": "RSA-SHA1"}, "signatureMethod of an app", id="rsa-sha1"),
    pytest.param(
        {"homeServers": ["http://api.planner.example.com"]}, "homeServers must be", id="http-public"
    ),
    pytest.param(
        {"homeServers": ["https://api.planner.example.com/v1?tenant=a"]},
        "homeServers must not carry a query",
        id="query",
    ),
    pytest.param(
        {"appUrl": "http://planner.example.com/app.xml"}, "appUrl must be", id="app-url-http"
    ),
    pytest.param(
        {"homeServers": ["https://user:pw@api.planner.example.com"]},
        "without user information",
        id="userinfo",
    ),
    pytest.param({"consumerSecret": "too-short"}, "consumerSecret must be", id="short-secret"),
    pytest.param({"consumerSecret": None}, "consumerSecret is required", id="no-secret"),
]


@pytest.mark.parametrize(("change", "message"), APP_REFUSALS)
async def test_refused_apps_say_why(
    sqlite_admin: Admin, change: dict[str, Any], message: str
) -> None:
    response = await sqlite_admin.put("apps", unique("planner"), an_app(**change))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_registration"
    assert message in error["message"]
    assert (await sqlite_admin.get("apps")).json() == []
    no_secret_in(sqlite_admin.ag)


async def test_body_fields_are_checked_by_name(sqlite_admin: Admin) -> None:
    typo = await sqlite_admin.put("apps", unique("p"), {**an_app(), "consumer_secret_x": "x"})
    empty = await sqlite_admin.put("apps", unique("p"), an_app(homeServers=[]))
    huge = await sqlite_admin.put("apps", unique("p"), an_app(consumerSecret=APP_SECRET * 60))

    for response in (typo, empty, huge):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_failed"
    no_secret_in(sqlite_admin.ag)


async def test_secrets_are_stored_sealed(sqlite_admin: Admin) -> None:
    container = hmac_container()
    assert (await sqlite_admin.put("containers", "jive", container)).status_code == 201
    assert (await sqlite_admin.put("apps", unique("planner"), an_app())).status_code == 201

    files = sorted(sqlite_admin.ag.data_dir.glob("authgate.db*"))
    stored = b"".join(path.read_bytes() for path in files)

    assert container["consumerKey"].encode() in stored  # the right files were read
    assert CONTAINER_SECRET.encode() not in stored
    assert APP_SECRET.encode() not in stored


# --- the gateway signs with what is registered --------------------------------------------


@pytest.fixture
async def home() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


async def test_replacing_an_app_without_a_secret_keeps_signing_with_the_old_one(
    start: Start, home: Upstream, backend_overrides: dict[str, Any]
) -> None:
    async with start(egress_allowed_hosts=("127.0.0.1",), **backend_overrides) as ag:
        owner = await admin_of(ag)
        app_id = unique("planner")
        registered = an_app(homeServers=[home.url("/api")])
        assert (await owner.put("apps", app_id, registered)).status_code == 201

        async def fetch_and_verify(secret: str) -> None:
            """A signed fetch as the owner; the home server checks it with ``secret``."""
            response = await ag.client.get(f"/v1/apps/{app_id}/fetch/me", headers=owner.headers)
            assert response.status_code == 200, response.text
            received = home.received[-1]
            url = f"http://127.0.0.1:{home.port}{received.target}"
            verifier = SignedFetchVerifier({"planner-key": secret})
            fetch = verifier.verify(received.method, url, dict(received.headers), received.body)
            assert fetch.app_id == app_id

        await fetch_and_verify(APP_SECRET)
        settings_only = {**registered, "description": "moved on"}
        del settings_only["consumerSecret"]
        assert (await owner.put("apps", app_id, settings_only)).status_code == 200
        await fetch_and_verify(APP_SECRET)

        rotated = await owner.put("apps", app_id, {**registered, "consumerSecret": NEW_APP_SECRET})
        assert rotated.status_code == 200
        await fetch_and_verify(NEW_APP_SECRET)
        with pytest.raises(InvalidSignature):
            await fetch_and_verify(APP_SECRET)
        no_secret_in(ag)
