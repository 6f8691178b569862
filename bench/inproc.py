"""In-process loops, each run by the harness as its own process pinned to core 0.

    inproc.py argon2 --seconds S --warmup W   bare argon2id verifications/s (authgate's parameters)
    inproc.py verify --seconds S --warmup W   AccessTokens.verify/s (SQLite runtime in AUTHGATE_*)

Prints one JSON object: operations, seconds, per_second.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Callable

from argon2 import PasswordHasher

from authgate.app import build_runtime
from authgate.config import load_settings
from authgate.tokens.access import VERIFIED_CACHE_SIZE


def _loop(operation: Callable[[], object], duration: float) -> tuple[int, float]:
    count, start = 0, time.perf_counter()
    end = start + duration
    while time.perf_counter() < end:
        operation()
        count += 1
    return count, time.perf_counter() - start


def timed(operation: Callable[[], object], seconds: float, warmup: float) -> dict[str, float]:
    """How often ``operation`` runs per second, after ``warmup`` seconds of the same."""
    _loop(operation, warmup)
    count, elapsed = _loop(operation, seconds)
    return {"operations": count, "seconds": elapsed, "per_second": count / elapsed}


def argon2_rate(seconds: float, warmup: float) -> dict[str, float]:
    """authgate's default argon2id parameters (OWASP minimum: 19 MiB, t=2, p=1)."""
    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    password = "correct horse battery staple"
    stored = hasher.hash(password)
    return timed(lambda: hasher.verify(stored, password), seconds, warmup)


async def verify_rate(seconds: float, warmup: float) -> dict[str, float]:
    """Signature, type, issuer, audience and time checks of user access tokens.

    ``AccessTokens`` remembers tokens it verified; cycling through more distinct tokens than
    it keeps makes every verification a full one (the figure a first request pays).
    """
    runtime = await build_runtime(load_settings())
    try:
        access = runtime.services.access
        tokens = [
            access.issue(
                subject=f"user-bench-{n}",
                org_id="org-bench",
                roles=("USER",),
                client_id="authgate-device",
                scope="email offline_access openid profile",
                session_id="session-bench",
            )
            for n in range(VERIFIED_CACHE_SIZE + 1)
        ]
        cycle = itertools.cycle(tokens)
        return timed(lambda: access.verify(next(cycle)), seconds, warmup)
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["argon2", "verify"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args()
    if args.what == "argon2":
        result = argon2_rate(args.seconds, args.warmup)
    else:
        result = asyncio.run(verify_rate(args.seconds, args.warmup))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
