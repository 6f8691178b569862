"""Publishing solutions, their members, and the definition a device reads."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.identity.models import Organization, Role, User
from tests.http.conftest import Authgate, bearer

LIST_ORDERS = """\
provider: DATA_PROVIDER_REST
method: GET
url: https://graph.microsoft.com/v1.0/users/{userId}/messages
format: json
parameters:
  userId:
    location: path
    type: string
    required: true
  accessToken:
    location: header
    type: string
    required: true
    value: graph.oauth
outputTransform: =$
records: =$.value
continuation:
  when: =$."@odata.nextLink"
  url: =$."@odata.nextLink"
  parameters:
    accessToken:
      location: header
      type: string
      required: true
      value: graph.oauth
"""


def folder(name: str = "sales", **functions: str) -> dict[str, Any]:
    files = {"solution.yaml": f"name: {name}\ntitle: Sales\ndescription: Orders and customers\n"}
    for function, text in (functions or {"list-messages": LIST_ORDERS}).items():
        files[f"functions/{function}.yaml"] = text
    return {"files": files}


async def signed_in(ag: Authgate, user: User, org: Organization) -> dict[str, str]:
    tokens = await ag.login(user.email, organization=org.slug)
    return bearer(tokens["access_token"])


async def put_credential(ag: Authgate, org: Organization, owner: dict[str, str]) -> str:
    canary = "canary-graph-secret-7f3a9c"
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/credentials/graph.oauth",
        headers=owner,
        json={"kind": "bearer_token", "value": canary, "allowedHosts": ["graph.microsoft.com"]},
    )
    assert response.status_code in (200, 201), response.text
    return canary


async def test_an_owner_publishes_versions_and_a_member_reads_the_definition(
    ag: Authgate,
) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    canary = await put_credential(ag, org, headers)

    first = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder()
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    second = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder()
    )
    assert second.json()["version"] == 2

    # The publisher became the solution's MAKER, so may read it as a device.
    definition = await ag.client.get("/v1/solutions/sales/definition", headers=headers)
    assert definition.status_code == 200, definition.text
    body = definition.json()
    assert body["version"] == 2
    assert body["name"] == "sales"
    assert "list-messages" in body["definition"]["functions"]
    assert "graph.oauth" in definition.text
    for response in ag.responses:
        assert canary not in response.text

    again = await ag.client.get(
        "/v1/solutions/sales/definition",
        headers={**headers, "if-none-match": definition.headers["etag"]},
    )
    assert again.status_code == 304


async def test_problems_name_the_file_the_key_and_the_line(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    broken = LIST_ORDERS.replace("method: GET", "method: FETCH").replace(
        "format: json", "format: json\nsurprise: true"
    )
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales",
        headers=headers,
        json=folder(**{"list-messages": broken}),
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_solution"
    problems = error["details"]["problems"]
    files = {p["file"] for p in problems}
    assert files == {"functions/list-messages.yaml"}
    by_key = {p["key"]: p["line"] for p in problems}
    assert by_key.get("method") == 2
    assert by_key.get("surprise") == 5


async def test_a_function_naming_an_unknown_credential_is_refused(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    uses_secret = LIST_ORDERS.replace(
        "    value: graph.oauth\noutputTransform", "    value: graph.oauth\noutputTransform"
    ).replace(
        "  accessToken:\n    location: header",
        "  apiKey:\n    location: secret\n    type: string\n    value: missing.key\n"
        "  accessToken:\n    location: header",
        1,
    )
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales",
        headers=headers,
        json=folder(**{"list-messages": uses_secret}),
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["error"]["details"]["problems"]
    assert problem["file"] == "functions/list-messages.yaml"
    assert problem["key"] == "parameters.apiKey.value"
    # The value is not echoed: an author may have pasted the secret itself there.
    assert "missing.key" not in response.text


async def test_the_name_in_solution_yaml_must_match(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, headers)
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder(name="other")
    )
    assert response.status_code == 422
    assert "'other'" in response.json()["error"]["message"]


@pytest.mark.parametrize("role", [Role.USER, Role.DENY])
async def test_only_makers_and_admins_publish(ag: Authgate, role: Role) -> None:
    org, _owner = await ag.org_with_owner()
    user = await ag.user(f"someone@{org.slug}.test")
    await ag.member(org, user, role)
    if role is Role.DENY:
        assert (await ag.login_response(user.email, organization=org.slug)).status_code != 200
        return
    headers = await signed_in(ag, user, org)
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder()
    )
    assert response.status_code == 403


async def test_an_org_maker_creates_but_cannot_overwrite_anothers_solution(
    ag: Authgate,
) -> None:
    org, owner = await ag.org_with_owner()
    owner_headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, owner_headers)
    maker = await ag.user(f"maker@{org.slug}.test")
    await ag.member(org, maker, Role.MAKER)
    maker_headers = await signed_in(ag, maker, org)

    created = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/mine", headers=maker_headers, json=folder(name="mine")
    )
    assert created.status_code == 200, created.text
    owned = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=owner_headers, json=folder()
    )
    assert owned.status_code == 200
    overwrite = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=maker_headers, json=folder()
    )
    assert overwrite.status_code == 403


async def test_members_are_granted_and_removed(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, headers)
    await ag.client.put(f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder())
    user = await ag.user(f"user@{org.slug}.test")
    await ag.member(org, user, Role.USER)
    user_headers = await signed_in(ag, user, org)

    before = await ag.client.get("/v1/solutions/sales/definition", headers=user_headers)
    assert before.status_code == 404
    granted = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales/members",
        headers=headers,
        json={"email": user.email, "role": "USER"},
    )
    assert granted.status_code == 200, granted.text
    during = await ag.client.get("/v1/solutions/sales/definition", headers=user_headers)
    assert during.status_code == 200

    listed = await ag.client.get(f"/v1/orgs/{org.slug}/solutions/sales/members", headers=headers)
    assert {m["user_id"]: m["role"] for m in listed.json()} == {
        owner.id: "MAKER",
        user.id: "USER",
    }
    removed = await ag.client.delete(
        f"/v1/orgs/{org.slug}/solutions/sales/members/{user.id}", headers=headers
    )
    assert removed.status_code == 204
    after = await ag.client.get("/v1/solutions/sales/definition", headers=user_headers)
    assert after.status_code == 404


async def test_a_stranger_cannot_be_granted(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, headers)
    await ag.client.put(f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder())
    stranger = await ag.user("stranger@elsewhere.test")
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales/members",
        headers=headers,
        json={"email": stranger.email, "role": "USER"},
    )
    assert response.status_code == 404


async def test_another_organization_sees_nothing(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, headers)
    await ag.client.put(f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder())
    other, other_owner = await ag.org_with_owner("other")
    theirs = await signed_in(ag, other_owner, other)

    base = f"/v1/orgs/{org.slug}/solutions"
    attempts = [
        ag.client.put(f"{base}/sales", headers=theirs, json=folder()),
        ag.client.get(base, headers=theirs),
        ag.client.get(f"{base}/sales/members", headers=theirs),
        ag.client.put(f"{base}/sales/members", headers=theirs, json={"email": other_owner.email}),
        ag.client.delete(f"{base}/sales/members/{owner.id}", headers=theirs),
        ag.client.delete(f"{base}/sales", headers=theirs),
    ]
    for attempt in attempts:
        assert (await attempt).status_code == 404
    # Their own organization has no solution of that name.
    mine = await ag.client.get("/v1/solutions/sales/definition", headers=theirs)
    assert mine.status_code == 404


async def test_a_large_folder_is_accepted_where_other_bodies_are_not(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, headers)
    # About 200 KiB of functions, over the 64 KiB most routes accept.
    padding = "\n".join(f"# {'-' * 76}" for _ in range(45)) + "\n"
    big = folder(**{f"list-{n}": padding + LIST_ORDERS for n in range(60)})
    response = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=big
    )
    assert response.status_code == 200, response.text[:500]
    elsewhere = await ag.client.post(
        "/v1/auth/login", content=b"{" + b" " * (200 * 1024) + b"}", headers=headers
    )
    assert elsewhere.status_code == 413


async def test_deleting_a_solution_removes_it(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = await signed_in(ag, owner, org)
    await put_credential(ag, org, headers)
    await ag.client.put(f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json=folder())
    assert (
        await ag.client.delete(f"/v1/orgs/{org.slug}/solutions/sales", headers=headers)
    ).status_code == 204
    assert (
        await ag.client.get("/v1/solutions/sales/definition", headers=headers)
    ).status_code == 404
    listed = await ag.client.get(f"/v1/orgs/{org.slug}/solutions", headers=headers)
    assert listed.json() == []
