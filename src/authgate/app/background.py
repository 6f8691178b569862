"""The work each node does in the background: reloading signing keys and pruning what has
expired (sessions, codes, pushed requests, browser sessions, nonces)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from authgate.clock import Clock
from authgate.store.sql import SqlStore
from authgate.tokens.signing_keys import SigningKeyManager

log = structlog.get_logger("authgate")
KEY_RELOAD_SECONDS = 30
PRUNE_INTERVAL_SECONDS = 3600
SESSION_RETENTION = timedelta(days=7)
NONCE_PRUNE_SECONDS = 60


def start_background(
    keys: SigningKeyManager, store: SqlStore, clock: Clock, *, prune_nonces: bool
) -> list[asyncio.Task[None]]:
    """Start the loops; the caller cancels the tasks at shutdown."""
    loops = [
        _reload_keys_forever(keys),
        _prune_sessions_forever(store, clock),
        _prune_sso_forever(store, clock),
    ]
    if prune_nonces:  # only the database's replay cache: Redis expires its keys itself
        loops.append(_prune_nonces_forever(store, clock))
    return [asyncio.create_task(loop) for loop in loops]


async def _reload_keys_forever(keys: SigningKeyManager) -> None:
    # Picks up `authgate keys rotate` run elsewhere; verification of a new kid needs it.
    while True:
        await asyncio.sleep(KEY_RELOAD_SECONDS)
        try:
            await keys.reload()
        except Exception:  # keep serving with the keys we have
            log.exception("signing_key_reload_failed")


async def _prune_sessions_forever(store: SqlStore, clock: Clock) -> None:
    # Ended sessions are kept a while so that a late replay is still recognised as reuse.
    while True:
        try:
            pruned = await store.refresh_tokens.prune(clock() - SESSION_RETENTION)
            if pruned:
                log.info("sessions_pruned", count=pruned)
        except Exception:  # a busy database now is no reason to stop pruning later
            log.exception("session_prune_failed")
        await asyncio.sleep(PRUNE_INTERVAL_SECONDS)


async def _prune_sso_forever(store: SqlStore, clock: Clock) -> None:
    # Spent codes (SSO's and the provider's) are kept a day, so that a late replay still ends
    # the session it started; pushed requests and browser sessions go once they expire.
    while True:
        try:
            day_ago = clock() - timedelta(days=1)
            await store.federation.prune(day_ago)
            await store.oauth_codes.prune(day_ago)
            await store.pushed_requests.prune(day_ago)
            await store.browser_sessions.prune(day_ago)
        except Exception:  # a busy database now is no reason to stop pruning later
            log.exception("sso_prune_failed")
        await asyncio.sleep(PRUNE_INTERVAL_SECONDS)


async def _prune_nonces_forever(store: SqlStore, clock: Clock) -> None:
    # Only the database's replay cache needs it: Redis expires its keys itself.
    while True:
        await asyncio.sleep(NONCE_PRUNE_SECONDS)
        try:
            await store.nonces.prune(clock())
        except Exception:  # try again next time
            log.exception("nonce_prune_failed")
