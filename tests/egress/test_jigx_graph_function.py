"""A real Jigx function file, loaded unchanged, pages through a local upstream the way
Microsoft Graph does: the loader, the engine and the egress client together.

The file names ``https://graph.microsoft.com``; the upstream here listens on 127.0.0.1, so the
test's upstream adapter sends each request to it while keeping the path and query the engine
built (what DNS and a port mapping would do). Everything else is the production code path.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from authgate.egress import AddressPolicy, EgressClient
from authgate.functions.call import CallContext, CallLimits, CallSolution, CallUser
from authgate.functions.engine import FunctionEngine
from authgate.functions.folder import read_solution_folder
from authgate.functions.loader import load_solution
from authgate.functions.model import RestFunction
from authgate.functions.ports import (
    CredentialKind,
    ResolvedCredential,
    UpstreamLimits,
    UpstreamRequest,
    UpstreamResponse,
)
from authgate.functions.validation import bind_credentials
from tests.egress.upstreams import Received, Reply, Upstream

FIXTURE = Path(__file__).parents[1] / "fixtures" / "solutions" / "field-sales"
GRAPH = "https://graph.microsoft.com"
TOKEN = "graph-access-token-canary-61f0"
MESSAGES = [
    {"id": f"AAMk{n:03d}", "subject": f"Message {n}", "isRead": n % 2 == 0} for n in range(7)
]


class ToLocal:
    """Sends Graph's requests to the local upstream (the host and port DNS would give)."""

    def __init__(self, client: EgressClient, upstream: Upstream) -> None:
        self.client = client
        self.local = f"127.0.0.1:{upstream.port}"
        self.urls: list[str] = []

    async def send(self, request: UpstreamRequest, limits: UpstreamLimits) -> UpstreamResponse:
        self.urls.append(request.url)
        parts = urlsplit(request.url)
        assert f"{parts.scheme}://{parts.netloc}" == GRAPH
        local = urlunsplit(("http", self.local, parts.path, parts.query, ""))
        hosts = frozenset({"127.0.0.1"}) if request.allowed_hosts is not None else None
        return await self.client.send(
            UpstreamRequest(
                request.method,
                local,
                request.headers,
                request.body,
                request.sensitive_headers,
                hosts,
            ),
            limits,
        )


class GraphToken:
    async def resolve(self, name: str) -> ResolvedCredential:
        assert name == "microsoft.OAuth"
        return ResolvedCredential(
            name, CredentialKind.OAUTH, TOKEN, frozenset({"graph.microsoft.com"})
        )

    async def refresh(self, name: str, rejected: ResolvedCredential) -> ResolvedCredential:
        raise AssertionError("no 401 in this test")


async def inbox(request: Received, reply: Reply) -> None:
    """Graph's paging: ``$top`` per page, an absolute ``@odata.nextLink`` with a skip token."""
    query = parse_qs(urlsplit(request.target).query)
    top = int(query["$top"][0])
    skip = int(query.get("$skiptoken", ["0"])[0])
    page = MESSAGES[skip : skip + top]
    body: dict[str, object] = {"@odata.context": f"{GRAPH}/v1.0/$metadata#messages", "value": page}
    if skip + top < len(MESSAGES):
        body["@odata.nextLink"] = (
            f"{GRAPH}/v1.0/me/mailFolders/inbox/messages?$top={top}&$skiptoken={skip + top}"
        )
    await reply.send(200, [("content-type", "application/json")], json.dumps(body).encode())


async def test_the_graph_list_function_loads_unchanged_and_pages_to_the_end() -> None:
    loaded = load_solution(read_solution_folder(FIXTURE))
    solution = bind_credentials(
        loaded.solution, frozenset({"microsoft.OAuth", "salesforce.oauth", "sales.azure"})
    )
    function = solution.functions["list-messages"]
    assert isinstance(function, RestFunction)

    upstream = Upstream()
    upstream.routes["/v1.0/me/mailFolders/inbox/messages"] = inbox
    await upstream.start()
    try:
        async with EgressClient(AddressPolicy.from_entries(["127.0.0.1"])) as client:
            local = ToLocal(client, upstream)
            engine = FunctionEngine(
                local, sleep=asyncio.sleep, monotonic=time.monotonic, limits=CallLimits()
            )
            context = CallContext(
                CallUser("usr_1", "ada@example.com", "Ada"),
                CallSolution("sol_1", "field-sales", "org_1"),
            )
            result = await engine.call(
                function, {"$top": 3}, context=context, credentials=GraphToken()
            )
    finally:
        await upstream.close()

    assert result.pages == 3
    assert [record["id"] for record in result.records] == [m["id"] for m in MESSAGES]
    assert "@odata.nextLink" not in result.output  # the last page's output
    # The first request carries the function's query; later ones follow nextLink as given.
    first = urlsplit(local.urls[0])
    assert parse_qs(first.query) == {
        "$select": ["id,subject,from,receivedDateTime,isRead"], "$top": ["3"],
    }  # fmt: skip
    assert local.urls[1].endswith("$top=3&$skiptoken=3")
    assert [r.header("authorization") for r in upstream.received] == [f"Bearer {TOKEN}"] * 3
