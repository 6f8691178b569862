"""REST functions through the cloud proxy, end to end: a device calls, authgate calls a real
upstream on 127.0.0.1 with credentials the device never sees, and keeps nothing of the data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.egress.upstreams import Received, Reply, Upstream, redirect_to
from tests.http.conftest import Authgate, Start, bearer

TOKEN = "canary-upstream-token-5e0c11d2"
PAYLOAD = "canary-payload-9a4f27be"
PARAMETER = "canary-parameter-3c8e61f0"


@dataclass
class Setup:
    ag: Authgate
    upstream: Upstream
    headers: dict[str, str]
    org: str

    async def publish(self, **functions: str) -> None:
        files = {"solution.yaml": "name: crm\ntitle: CRM\n"}
        files.update({f"functions/{name}.yaml": text for name, text in functions.items()})
        response = await self.ag.client.put(
            f"/v1/orgs/{self.org}/solutions/crm", headers=self.headers, json={"files": files}
        )
        assert response.status_code == 200, response.text

    async def call(self, function: str, **parameters: Any) -> Any:
        return await self.ag.client.post(
            f"/v1/solutions/crm/functions/{function}:call",
            headers=self.headers,
            json={"parameters": parameters},
        )


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@asynccontextmanager
async def setup(
    start: Start, upstream: Upstream, hosts: tuple[str, ...] = ("127.0.0.1",), **settings: Any
) -> AsyncIterator[Setup]:
    async with start(egress_allowed_hosts=("127.0.0.1",), **settings) as ag:
        org, owner = await ag.org_with_owner("crm")
        tokens = await ag.login(owner.email)
        headers = bearer(tokens["access_token"])
        stored = await ag.client.put(
            f"/v1/orgs/{org.slug}/credentials/crm.token",
            headers=headers,
            json={"kind": "bearer_token", "value": TOKEN, "allowedHosts": list(hosts)},
        )
        assert stored.status_code in (200, 201), stored.text
        yield Setup(ag, upstream, headers, org.slug)


def rest(url: str, extra: str = "", records: str = "=$.value") -> str:
    return f"""\
provider: DATA_PROVIDER_REST
method: GET
url: {url}
parameters:
  accessToken:
    location: header
    type: string
    required: true
    value: crm.token
records: {records}
{extra}"""


def json_reply(body: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Any:
    async def handler(request: Received, reply: Reply) -> None:
        data = json.dumps(body).encode()
        await reply.send(status, [("content-type", "application/json"), *(headers or [])], data)

    return handler


async def test_graph_style_paging_follows_next_links_with_the_token(
    start: Start, upstream: Upstream
) -> None:
    async def messages(request: Received, reply: Reply) -> None:
        page = int(request.target.partition("page=")[2] or 1)
        body: dict[str, Any] = {
            "value": [{"id": f"m{page}-{i}", "subject": PAYLOAD} for i in range(2)]
        }
        if page < 3:
            body["@odata.nextLink"] = upstream.url(f"/messages?page={page + 1}")
        await reply.send(200, [("content-type", "application/json")], json.dumps(body).encode())

    upstream.routes["/messages"] = messages
    async with setup(start, upstream) as s:
        await s.publish(
            list=rest(
                upstream.url("/messages"),
                'continuation:\n  when: =$."@odata.nextLink"\n  url: =$."@odata.nextLink"\n'
                "  parameters:\n    accessToken:\n      location: header\n      type: string\n"
                "      required: true\n      value: crm.token\n",
            )
        )
        response = await s.call("list")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pages"] == 3
    assert [r["id"] for r in body["records"]] == [f"m{p}-{i}" for p in (1, 2, 3) for i in (0, 1)]
    assert [r.header("authorization") for r in upstream.received] == [f"Bearer {TOKEN}"] * 3
    assert TOKEN not in response.text


async def test_a_429_is_retried_after_the_upstream_says(start: Start, upstream: Upstream) -> None:
    answers = iter([429, 200])

    async def busy(request: Received, reply: Reply) -> None:
        status = next(answers)
        headers = [("retry-after", "0")] if status == 429 else []
        await json_reply({"value": [{"id": 1}]}, status, headers)(request, reply)

    upstream.routes["/busy"] = busy
    async with setup(start, upstream) as s:
        await s.publish(busy=rest(upstream.url("/busy")))
        response = await s.call("busy")
    assert response.status_code == 200, response.text
    assert response.json()["records"] == [{"id": 1}]
    assert len(upstream.received) == 2


async def test_an_error_handler_decides_what_the_caller_sees(
    start: Start, upstream: Upstream
) -> None:
    upstream.routes["/orders/C-404"] = json_reply({"detail": PAYLOAD}, 404)
    function = f"""\
provider: DATA_PROVIDER_REST
method: GET
url: {upstream.url("/orders/{customerId}")}
parameters:
  customerId:
    location: path
    type: string
    required: true
  accessToken:
    location: header
    type: string
    required: true
    value: crm.token
records: =$.value
error:
  - when: =@ctx.response.status = 404
    title: Not found
    description: ="No orders for customer " & @ctx.parameters.customerId
"""
    async with setup(start, upstream) as s:
        await s.publish(orders=function)
        response = await s.call("orders", customerId="C-404")
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["title"] == "Not found"
    assert error["description"] == "No orders for customer C-404"
    assert PAYLOAD not in response.text


async def test_an_oversized_answer_ends_in_an_error_naming_the_bound(
    start: Start, upstream: Upstream
) -> None:
    upstream.routes["/big"] = json_reply({"value": ["x" * 4096] * 64})
    async with setup(start, upstream, function_max_response_bytes=64 * 1024) as s:
        await s.publish(big=rest(upstream.url("/big")))
        response = await s.call("big")
    assert 500 <= response.status_code < 600 or response.status_code == 413
    assert "byte" in response.text.lower()


async def test_a_redirect_to_a_forbidden_address_is_not_followed(
    start: Start, upstream: Upstream
) -> None:
    upstream.routes["/moved"] = redirect_to("http://169.254.169.254/latest/meta-data/")
    async with setup(start, upstream) as s:
        await s.publish(moved=rest(upstream.url("/moved")))
        response = await s.call("moved")
    assert response.status_code in (403, 502), response.text
    assert len(upstream.received) == 1


async def test_a_credential_never_leaves_its_hosts(start: Start, upstream: Upstream) -> None:
    async with setup(start, upstream, hosts=("api.crm.example",)) as s:
        await s.publish(leak=rest(upstream.url("/anything")))
        response = await s.call("leak")
    assert response.status_code in (400, 403), response.text
    assert upstream.received == []


async def test_an_upstream_echoing_our_headers_gives_no_secret_back(
    start: Start, upstream: Upstream
) -> None:
    async def echo_json(request: Received, reply: Reply) -> None:
        body = {"value": [{"id": 1, "headers": dict(request.headers)}]}
        await reply.send(200, [("content-type", "application/json")], json.dumps(body).encode())

    upstream.routes["/echo"] = echo_json
    async with setup(start, upstream) as s:
        await s.publish(echo=rest(upstream.url("/echo")))
        response = await s.call("echo")
    assert response.status_code == 200, response.text
    assert upstream.received[0].header("authorization") == f"Bearer {TOKEN}"
    assert TOKEN not in response.text
    assert "[redacted]" in response.text


async def test_a_caller_cannot_override_the_credential(start: Start, upstream: Upstream) -> None:
    upstream.routes["/items"] = json_reply({"value": []})
    async with setup(start, upstream) as s:
        await s.publish(items=rest(upstream.url("/items")))
        response = await s.call("items", accessToken="attacker-token")
    assert 400 <= response.status_code < 500, response.text
    assert upstream.received == []


async def test_non_members_cannot_call(start: Start, upstream: Upstream) -> None:
    upstream.routes["/items"] = json_reply({"value": []})
    async with setup(start, upstream) as s:
        await s.publish(items=rest(upstream.url("/items")))
        _, other_owner = await s.ag.org_with_owner("other")
        theirs = bearer((await s.ag.login(other_owner.email))["access_token"])
        response = await s.ag.client.post(
            "/v1/solutions/crm/functions/items:call", headers=theirs, json={"parameters": {}}
        )
        missing = await s.call("nope")
    assert response.status_code == 404
    assert missing.status_code == 404
    assert upstream.received == []


async def test_no_payload_or_secret_reaches_the_disk_or_the_logs(
    start: Start, upstream: Upstream, capfd: pytest.CaptureFixture[str]
) -> None:
    async def records(request: Received, reply: Reply) -> None:
        body = {"value": [{"id": 1, "note": PAYLOAD, "echo": request.target}]}
        await reply.send(200, [("content-type", "application/json")], json.dumps(body).encode())

    upstream.routes["/records"] = records
    async with setup(start, upstream) as s:
        function = rest(upstream.url("/records")).replace(
            "parameters:\n",
            "parameters:\n  q:\n    location: query\n    type: string\n    required: true\n",
            1,
        )
        await s.publish(records=function)
        response = await s.call("records", q=PARAMETER)
        assert response.status_code == 200, response.text
        assert PAYLOAD in response.text  # the caller gets the data
        failing = await s.call("records", q=PARAMETER, unknown=PAYLOAD)
        assert 400 <= failing.status_code < 500
        data_dir = s.ag.data_dir
        live = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    stored = live + b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    logs = capfd.readouterr()
    text = logs.out + logs.err
    assert "request" in text  # the access log was captured
    for canary in (PAYLOAD, PARAMETER, TOKEN):
        assert canary.encode() not in stored, canary
        assert canary not in text, canary
    assert PARAMETER in upstream.received[0].target


async def test_an_upstream_that_never_answers_ends_in_a_timeout(
    start: Start, upstream: Upstream
) -> None:
    async def silent(request: Received, reply: Reply) -> None:
        await upstream.closing.wait()  # answers only when the server shuts down

    upstream.routes["/slow"] = silent
    async with setup(start, upstream, function_timeout=1) as s:
        await s.publish(slow=rest(upstream.url("/slow")))
        response = await s.call("slow")
    assert response.status_code == 504, response.text
    error = response.json()["error"]
    assert error["code"] == "function_call_bound_exceeded"
    assert "1 seconds" in error["title"]
