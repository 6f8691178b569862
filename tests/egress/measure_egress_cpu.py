"""Measure the egress client's CPU time per request (a script, not a test).

Starts a small HTTP/1.1 upstream in another process pinned to the other core, then sends
keep-alive GETs of a 1 KB JSON body through :class:`EgressClient` on this core and reports
the thread's CPU microseconds per request (``time.thread_time``), for each transport::

    .venv/bin/python -m tests.egress.measure_egress_cpu [--requests 2000] [--rounds 5]

``httpcore`` forces every request through the ``httpcore`` pool (``fast_http1=False``);
``fast`` is the default client, which sends plain ``http://`` on its own HTTP/1.1 path;
``raw-httpcore`` is a bare ``httpcore.AsyncConnectionPool`` for reference. Each transport
is measured ``--rounds`` times, interleaved, and the median and the lowest are shown: on a
shared machine other processes' load inflates single runs.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import httpcore

from authgate.egress import AddressPolicy, EgressClient
from authgate.functions.ports import UpstreamLimits, UpstreamRequest

BODY = json.dumps({"items": [{"id": n, "name": f"item-{n:04d}"} for n in range(40)]}).encode()[
    :1024
]
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
WARMUP = 200


class _Server(asyncio.Protocol):
    """Answers every request head (no request bodies in this measurement) with RESPONSE."""

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            self._buffer = self._buffer[end + 4 :]
            self._transport.write(RESPONSE)


def _serve(port_out: multiprocessing.SimpleQueue[int], core: int) -> None:
    os.sched_setaffinity(0, {core})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Server, "127.0.0.1", 0)
        port_out.put(int(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


async def _measure(send: Callable[[], Awaitable[object]], requests: int) -> float:
    for _ in range(WARMUP):
        await send()
    started = time.thread_time()
    for _ in range(requests):
        await send()
    return (time.thread_time() - started) / requests * 1e6


async def _egress(url: str, requests: int, *, fast: bool) -> float:
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    keywords = (
        {"fast_http1": fast} if "fast_http1" in inspect.signature(EgressClient).parameters else {}
    )
    if fast and not keywords:
        raise SystemExit("this EgressClient has no fast HTTP/1.1 path")
    limits = UpstreamLimits(max_bytes=64 * 1024, timeout=5)
    request = UpstreamRequest("GET", url, headers=(("Accept", "application/json"),))
    async with EgressClient(policy, **keywords) as client:  # type: ignore[arg-type]

        async def send() -> object:
            response = await client.send(request, limits)
            assert response.body == BODY
            return response

        return await _measure(send, requests)


async def _raw_httpcore(url: str, requests: int) -> float:
    async with httpcore.AsyncConnectionPool() as pool:

        async def send() -> object:
            response = await pool.request("GET", url)
            assert response.content == BODY
            return response

        return await _measure(send, requests)


async def _run(paths: list[str], requests: int, rounds: int, port: int) -> None:
    url = f"http://127.0.0.1:{port}/items"
    results: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(rounds):
        for path in paths:
            if path == "raw-httpcore":
                micros = await _raw_httpcore(url, requests)
            else:
                micros = await _egress(url, requests, fast=path == "fast")
            results[path].append(micros)
    for path, values in results.items():
        print(
            f"{path:>13}: median {statistics.median(values):6.1f} µs, lowest {min(values):6.1f} "
            f"µs CPU per request ({rounds} rounds of {requests} keep-alive GETs)"
        )


def main() -> None:
    """Run the measurement and print one line per transport."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--paths", default="fast,httpcore,raw-httpcore")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    ports: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
    server = multiprocessing.Process(target=_serve, args=(ports, 1), daemon=True)
    server.start()
    try:
        asyncio.run(_run(args.paths.split(","), args.requests, args.rounds, ports.get()))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
