"""SECURITY promise 3: one organization never sees or touches another's members, invites,
requests, clients or audit log; roles inside an organization are enforced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio

from authgate.identity.deps import Actor
from authgate.identity.models import Organization, Role, User
from tests.http.conftest import Authgate, bearer


@dataclass
class World:
    a: Organization
    b: Organization
    a_owner: User
    a_user: User
    b_owner: User
    b_member: User
    invite_b: str
    request_b: str
    client_b: str
    a_admin: dict[str, str]
    a_plain: dict[str, str]
    a_owner_headers: dict[str, str]


@pytest_asyncio.fixture
async def world(ag: Authgate) -> World:
    a, a_owner = await ag.org_with_owner("alpha")
    b, b_owner = await ag.org_with_owner("bravo")
    a_admin = await ag.user(f"admin@{a.slug}.test")
    a_user = await ag.user(f"user@{a.slug}.test")
    b_member = await ag.user(f"member@{b.slug}.test")
    await ag.member(a, a_admin, Role.ADMIN)
    await ag.member(a, a_user, Role.USER)
    await ag.member(b, b_member, Role.USER)
    s = ag.services
    as_b = Actor(b_owner.id)
    invite = await s.invites.create(b.slug, f"invitee@{b.slug}.test", Role.USER, as_b)
    asker = await ag.user(f"asker@{b.slug}.test")
    request = await s.join_requests.request_by_slug(b.slug, asker, Actor(asker.id))
    client, _ = await s.clients.create(b.slug, "b-client", "read", as_b)
    return World(
        a=a,
        b=b,
        a_owner=a_owner,
        a_user=a_user,
        b_owner=b_owner,
        b_member=b_member,
        invite_b=invite.id,
        request_b=request.id,
        client_b=client.client_id,
        a_admin=bearer((await ag.login(a_admin.email))["access_token"]),
        a_plain=bearer((await ag.login(a_user.email))["access_token"]),
        a_owner_headers=bearer((await ag.login(a_owner.email))["access_token"]),
    )


def admin_endpoints(w: World, org: str, *, foreign_ids: bool = False) -> list[tuple[str, str, Any]]:
    """Every organization-admin endpoint as (method, path, json body)."""
    member = w.b_member.id if foreign_ids else w.a_user.id
    invite = w.invite_b if foreign_ids else "00000000-0000-4000-8000-000000000000"
    request = w.request_b if foreign_ids else "00000000-0000-4000-8000-000000000001"
    client = w.client_b if foreign_ids else "svc_nonexistent"
    base = f"/v1/orgs/{org}"
    return [
        ("PATCH", base, {"name": "Renamed"}),
        ("GET", f"{base}/members", None),
        ("PUT", f"{base}/members/{member}/role", {"role": "MAKER"}),
        ("DELETE", f"{base}/members/{member}", None),
        ("GET", f"{base}/invites", None),
        ("POST", f"{base}/invites", {"email": "new@x.test"}),
        ("POST", f"{base}/invites/{invite}/resend", None),
        ("DELETE", f"{base}/invites/{invite}", None),
        ("GET", f"{base}/join-requests", None),
        ("POST", f"{base}/join-requests/{request}/decision", {"approve": True}),
        ("GET", f"{base}/clients", None),
        ("POST", f"{base}/clients", {"name": "sneaky", "scopes": "read"}),
        ("POST", f"{base}/clients/{client}/secret", None),
        ("DELETE", f"{base}/clients/{client}", None),
        ("GET", f"{base}/audit", None),
    ]


async def call(ag: Authgate, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    response: httpx.Response = await ag.client.request(method, path, json=body, headers=headers)
    return response


async def test_an_admin_of_one_organization_gets_404_for_another(
    ag: Authgate, world: World
) -> None:
    w = world
    endpoints = [("GET", f"/v1/orgs/{w.b.slug}", None), *admin_endpoints(w, w.b.slug)]
    endpoints += admin_endpoints(w, w.b.slug, foreign_ids=True)
    for method, path, body in endpoints:
        response = await call(ag, method, path, body, w.a_admin)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        # The answer is the one a made-up organization gets: nothing confirms B exists.
        made_up = await call(ag, method, path.replace(w.b.slug, "zz-nonexistent"), body, w.a_admin)
        assert made_up.status_code == 404
    await assert_b_untouched(ag, w)


async def test_ids_of_another_organization_under_ones_own_path_are_404(
    ag: Authgate, world: World
) -> None:
    w = world
    for method, path, body in admin_endpoints(w, w.a.slug, foreign_ids=True):
        if path.endswith(("/members", "/invites", "/join-requests", "/clients", "/audit")):
            continue  # collection endpoints name no foreign id
        if path == f"/v1/orgs/{w.a.slug}":
            continue
        response = await call(ag, method, path, body, w.a_admin)
        assert response.status_code == 404, (method, path, response.text)
    await assert_b_untouched(ag, w)


async def assert_b_untouched(ag: Authgate, w: World) -> None:
    s = ag.services
    as_b = Actor(w.b_owner.id)
    org = await s.deps.store.orgs.get(w.b.id)
    assert org is not None
    assert org.name == w.b.name
    members = {u.id: m.role for m, u in await s.organizations.members(w.b.slug, as_b)}
    assert members == {w.b_owner.id: Role.OWNER, w.b_member.id: Role.USER}
    [invite] = await s.invites.list(w.b.slug, as_b)
    assert invite.is_open
    assert invite.sent_count == 1
    [(request, _)] = await s.join_requests.list(w.b.slug, as_b)
    assert request.id == w.request_b
    assert [c.client_id for c in await s.clients.list(w.b.slug, as_b)] == [w.client_b]


async def test_lists_show_only_ones_own_organization(ag: Authgate, world: World) -> None:
    w = world
    base = f"/v1/orgs/{w.a.slug}"
    members = (await ag.client.get(f"{base}/members", headers=w.a_admin)).json()
    assert all(m["email"].endswith(f"@{w.a.slug}.test") for m in members)
    assert w.b_member.id not in str(members)
    for path in ("invites", "join-requests", "clients"):
        listed = await ag.client.get(f"{base}/{path}", headers=w.a_admin)
        assert listed.status_code == 200
        assert listed.json() == [], path
    audit = (await ag.client.get(f"{base}/audit", headers=w.a_admin)).text
    for foreign in (w.b.id, w.b_owner.id, w.b_member.id, w.client_b, w.invite_b):
        assert foreign not in audit


async def test_a_user_gets_403_on_admin_endpoints_of_their_organization(
    ag: Authgate, world: World
) -> None:
    w = world
    own = await ag.client.get(f"/v1/orgs/{w.a.slug}", headers=w.a_plain)
    assert own.status_code == 200
    assert own.json()["slug"] == w.a.slug
    for method, path, body in admin_endpoints(w, w.a.slug):
        response = await call(ag, method, path, body, w.a_plain)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "forbidden"


async def test_no_token_means_401_everywhere(ag: Authgate, world: World) -> None:
    w = world
    for method, path, body in admin_endpoints(w, w.a.slug):
        response = await call(ag, method, path, body, {})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_last_owner_cannot_be_demoted_or_removed(ag: Authgate, world: World) -> None:
    w = world
    base = f"/v1/orgs/{w.a.slug}/members/{w.a_owner.id}"
    demote = await ag.client.put(f"{base}/role", headers=w.a_owner_headers, json={"role": "ADMIN"})
    assert demote.status_code == 409
    assert demote.json()["error"]["code"] == "conflict"
    deny = await ag.client.put(f"{base}/role", headers=w.a_owner_headers, json={"role": "DENY"})
    assert deny.status_code == 409
    remove = await ag.client.delete(base, headers=w.a_owner_headers)
    assert remove.status_code == 409
    # With a second owner, the first may step down.
    promote = await ag.client.put(
        f"/v1/orgs/{w.a.slug}/members/{w.a_user.id}/role",
        headers=w.a_owner_headers,
        json={"role": "OWNER"},
    )
    assert promote.status_code == 204
    stepped = await ag.client.put(f"{base}/role", headers=w.a_owner_headers, json={"role": "ADMIN"})
    assert stepped.status_code == 204


async def test_an_admin_cannot_grant_or_take_owner(ag: Authgate, world: World) -> None:
    w = world
    grant = await ag.client.put(
        f"/v1/orgs/{w.a.slug}/members/{w.a_user.id}/role",
        headers=w.a_admin,
        json={"role": "OWNER"},
    )
    assert grant.status_code == 403
    take = await ag.client.put(
        f"/v1/orgs/{w.a.slug}/members/{w.a_owner.id}/role",
        headers=w.a_admin,
        json={"role": "USER"},
    )
    assert take.status_code == 403
    remove = await ag.client.delete(
        f"/v1/orgs/{w.a.slug}/members/{w.a_owner.id}", headers=w.a_admin
    )
    assert remove.status_code == 403
    me = (await ag.me(w.a_owner_headers["authorization"].split()[1])).json()
    assert me["roles"] == ["OWNER"]


async def test_a_service_client_token_is_not_a_user(ag: Authgate, world: World) -> None:
    w = world
    _, secret = await ag.services.clients.create(w.a.slug, "a-client", "read", Actor(w.a_owner.id))
    [client] = await ag.services.clients.list(w.a.slug, Actor(w.a_owner.id))
    issued = await ag.token(
        {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret}
    )
    headers = bearer(issued.json()["access_token"])
    for method, path, body in admin_endpoints(w, w.a.slug)[:2]:
        response = await call(ag, method, path, body, headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
    assert (await ag.client.get("/v1/me", headers=headers)).status_code == 401
