"""The authgate device client: a typed SDK (blocking and asyncio) and the device CLI.

It signs a device in (password, browser SSO with a loopback redirect and PKCE, or the
device authorization grant), keeps tokens and credentials in the OS keychain (or an
encrypted file where there is none), syncs solutions, calls functions in the cloud or — for
``useLocalCall`` functions — on the device with the server's own engine, and keeps results
in a local SQLite database. It depends on nothing of the server side (``store``, ``http``,
``app``, ``egress``, ``config``), which the import contracts enforce.
"""

from authgate.client.async_client import AsyncClient
from authgate.client.calls import CallOutcome
from authgate.client.errors import NotSynced, ServerError, SignInFailed, SignInRequired
from authgate.client.sync_client import Client
from authgate.client.syncing import SyncReport
from authgate.client.tokens import TokenSet

__all__ = [
    "AsyncClient",
    "CallOutcome",
    "Client",
    "NotSynced",
    "ServerError",
    "SignInFailed",
    "SignInRequired",
    "SyncReport",
    "TokenSet",
]
