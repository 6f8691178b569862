"""Signed-fetch verification: the home-server kit's verifier vs oauthlib's SignatureOnlyEndpoint.

    python bench/signedfetch_verify.py --seconds S --warmup W    (run by the harness on core 0)

Both sides verify the same pre-signed requests (GET of a home-server URL carrying the
identity a gateway adds, the OAuth parameters in the Authorization header, signed by oauthlib's
own Client), HMAC-SHA1 and RSA-SHA1 (2048-bit key), each cycling through more requests than
repeat within a cycle. Each side records nonces and refuses a replay, so every cycle starts with
an empty nonce store on both sides. The sides alternate in halves of the measured time, so a
drift of the machine's speed touches both alike. Prints one JSON object: verifications/s per
method and side.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from harness import Bench

KEY = "bench-app"
SECRET = "bench-app-secret"
REQUESTS = 1000
WINDOW = 600  # oauthlib's timestamp lifetime: the same window on both sides
METHODS = ("HMAC-SHA1", "RSA-SHA1")
# The names the report's ratios look for (report.SIGNEDFETCH_*).
KIT = "authgate.homeserver (SignedFetchVerifier)"
OAUTHLIB = "oauthlib SignatureOnlyEndpoint"
SCENARIO = "signed-fetch verifications, {method}"


def _requests(method: str, private_pem: str) -> list[tuple[str, dict[str, str]]]:
    from oauthlib.oauth1 import Client

    rsa = method == "RSA-SHA1"
    client = Client(
        KEY,
        client_secret=None if rsa else SECRET,
        signature_method=method,
        rsa_key=private_pem if rsa else None,
    )
    signed = []
    for n in range(REQUESTS):
        owner = quote(f"user{n}@acme-prod", safe="")
        url = (
            f"https://home.example.org/api/items?opensocial_owner_id={owner}"
            f"&opensocial_viewer_id={owner}&opensocial_app_id=crm&opensocial_instance_id=acme-prod"
            f"&page={n % 7}"
        )
        uri, headers, _ = client.sign(url, "GET")
        signed.append((uri, headers))
    return signed


class _Side:
    """One verifier, cycling through the requests, its nonce store emptied every cycle."""

    def __init__(self, requests: list[tuple[str, dict[str, str]]], verify: Callable[..., Any]):
        self.requests = requests
        self.verify = verify
        self.position = 0
        self.reset: Callable[[], None] = lambda: None

    def run(self, seconds: float) -> int:
        count, end = 0, time.perf_counter() + seconds
        requests, verify = self.requests, self.verify
        while time.perf_counter() < end:
            if self.position == len(requests):
                self.position = 0
                self.reset()
            uri, headers = requests[self.position]
            verify(uri, headers)
            self.position += 1
            count += 1
        return count


def _kit_side(method: str, requests: list[tuple[str, dict[str, str]]], public_pem: str) -> _Side:
    from authgate.homeserver import InMemoryNonceStore, SignedFetchVerifier, rsa_public_key

    credential: Any = rsa_public_key(public_pem) if method == "RSA-SHA1" else SECRET
    state = {"nonces": InMemoryNonceStore()}

    class Nonces:
        def record(self, consumer_key: str, nonce: str, ttl: int) -> bool:
            return state["nonces"].record(consumer_key, nonce, ttl)

    verifier = SignedFetchVerifier({KEY: credential}, window=WINDOW, nonces=Nonces())

    def verify(uri: str, headers: dict[str, str]) -> None:
        verifier.verify("GET", uri, headers)

    side = _Side(requests, verify)
    side.reset = lambda: state.update(nonces=InMemoryNonceStore())
    return side


def _oauthlib_side(
    method: str, requests: list[tuple[str, dict[str, str]]], public_pem: str
) -> _Side:
    from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

    seen: set[tuple[str, str, str]] = set()

    class Validator(RequestValidator):  # type: ignore[misc]
        """What a two-legged home server on oauthlib implements."""

        enforce_ssl = True
        allowed_signature_methods = METHODS
        timestamp_lifetime = WINDOW

        def check_client_key(self, client_key: str) -> bool:
            return True  # oauthlib's default wants 20-30 alphanumerics; ours is a name

        def validate_client_key(self, client_key: str, request: Any) -> bool:
            return client_key == KEY

        def validate_timestamp_and_nonce(
            self, client_key: str, timestamp: str, nonce: str, request: Any, **_: Any
        ) -> bool:
            entry = (client_key, timestamp, nonce)
            if entry in seen:
                return False
            seen.add(entry)
            return True

        def get_client_secret(self, client_key: str, request: Any) -> str:
            return SECRET

        def get_rsa_key(self, client_key: str, request: Any) -> str:
            return public_pem

        @property
        def dummy_client(self) -> str:
            return "dummy"

    endpoint = SignatureOnlyEndpoint(Validator())

    def verify(uri: str, headers: dict[str, str]) -> None:
        valid, _ = endpoint.validate_request(uri, "GET", None, headers)
        if not valid:
            raise RuntimeError("oauthlib refused a request the bench signed")

    side = _Side(requests, verify)
    side.reset = seen.clear
    return side


def _rsa_pems() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private, public


def rates(seconds: float, warmup: float) -> dict[str, dict[str, float]]:
    """Verifications/s of each side, per signature method."""
    private_pem, public_pem = _rsa_pems()
    result: dict[str, dict[str, float]] = {}
    for method in METHODS:
        requests = _requests(method, private_pem)
        sides = {
            KIT: _kit_side(method, requests, public_pem),
            OAUTHLIB: _oauthlib_side(method, requests, public_pem),
        }
        for side in sides.values():
            side.run(warmup)
        counts = dict.fromkeys(sides, 0)
        for _half in range(2):
            for name, side in sides.items():
                counts[name] += side.run(seconds / 2)
        result[method] = {name: count / seconds for name, count in counts.items()}
    return result


def measure(bench: Bench) -> None:
    """Run this module pinned to core 0; its figures into ``bench.rows``."""
    import subprocess

    import report
    from servers import ROOT, pinned

    bench.say(
        f"signed-fetch verification: {bench.args.warmup:g} s warm-up, {bench.args.duration:g} s "
        f"per side and method ({', '.join(METHODS)})"
    )
    command = pinned(
        sys.executable, Path(__file__), "--seconds", str(bench.args.duration),
        "--warmup", str(bench.args.warmup),
    )  # fmt: skip
    timeout = 4 * (bench.args.duration + bench.args.warmup) + 120
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"signed-fetch verification failed:\n{done.stderr[-1500:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for method in METHODS:
        for side in (KIT, OAUTHLIB):
            scenario = SCENARIO.format(method=method)
            bench.rows.append(report.Row(scenario, side, figures[method][side]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args()
    print(json.dumps(rates(args.seconds, args.warmup)))


if __name__ == "__main__":
    main()
