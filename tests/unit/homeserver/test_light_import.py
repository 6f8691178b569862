"""The kit's core imports, and verifies, with the heavy dependencies of authgate blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BLOCKED = ["fastapi", "starlette", "pydantic", "sqlalchemy", "httpx", "redis", "structlog"]

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime

    BLOCKED = set(sys.argv[1].split(","))

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked for this test: {name}")
            return None

    sys.meta_path.insert(0, Blocker())

    import authgate
    import authgate.homeserver as kit
    import authgate.homeserver.wsgi
    from authgate.signedfetch.signature import SharedSecret
    from authgate.signedfetch.signing import sign_request

    url = "https://home.example.org/x?opensocial_owner_id=u%40i"
    now = datetime.now(UTC)
    signed = sign_request(
        "GET", url, consumer_key="k", consumer_secret=SharedSecret("s"), now=now
    )
    fetch = kit.SignedFetchVerifier({"k": "s"}).verify(
        "GET", url, {"Authorization": signed.authorization}
    )
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    try:
        import authgate.homeserver.starlette
    except ImportError as exc:
        adapter = str(exc)
    else:
        adapter = "imported"
    print(fetch.user_id, fetch.instance_id, loaded, adapter)
    """
)


def test_the_core_imports_and_verifies_without_heavy_dependencies() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(BLOCKED)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The Starlette adapter is the one module that needs Starlette: blocked, it cannot load.
    assert done.stdout.strip() == "u i [] blocked for this test: starlette"
