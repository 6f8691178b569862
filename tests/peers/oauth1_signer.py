"""OAuth 1.0a signatures made by the npm package ``oauth-1.0a`` (run by ``oauth1_signer.mjs``).

``scripts/test`` installs the package (``npm ci`` in ``tests/peers``). Without node or the
installed package a test is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import service_unavailable

PEERS = Path(__file__).resolve().parent
SCRIPT = PEERS / "oauth1_signer.mjs"
TIMEOUT_SECONDS = 60


def npm_sign(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each request signed by ``oauth-1.0a``: ``{url, authorization, body}`` to send."""
    node = shutil.which("node")
    if node is None:
        service_unavailable("node is not installed: the npm oauth-1.0a signer cannot run")
    if not (PEERS / "node_modules" / "oauth-1.0a").is_dir():
        service_unavailable("tests/peers/node_modules/oauth-1.0a is missing (run scripts/test)")
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps({"requests": requests}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=PEERS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"oauth1_signer.mjs failed ({done.returncode}): {done.stderr[-2000:]}")
    signed: list[dict[str, Any]] = json.loads(done.stdout)["signed"]
    return signed
