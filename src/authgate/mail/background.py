"""Delivery off the request path, so a slow or failing SMTP server neither slows answers
nor reveals, by timing, whether an email was sent (registration and reset stay uniform).

Messages are kept only in memory while they wait; a failure is retried a few times and
then logged with the template name and the recipient's domain — never the content.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog

from authgate.errors import AuthgateError
from authgate.identity.ports import Mailer

log = structlog.get_logger("authgate.mail")
RETRY_DELAYS = (1.0, 5.0, 25.0)


class BackgroundMailer:
    """Wraps a mailer; :meth:`send` returns at once and delivery happens in a task."""

    def __init__(self, inner: Mailer, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self._inner = inner
        self._retry_delays = retry_delays
        self._pending: set[asyncio.Task[None]] = set()

    async def send(self, to: str, template: str, context: Mapping[str, str]) -> None:
        """Queue one message."""
        task = asyncio.create_task(self._deliver(to, template, dict(context)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, to: str, template: str, context: dict[str, str]) -> None:
        domain = to.rpartition("@")[2]
        for attempt, delay in enumerate((0.0, *self._retry_delays)):
            if delay:
                await asyncio.sleep(delay)
            try:
                await self._inner.send(to, template, context)
            except AuthgateError as exc:
                log.warning(
                    "mail_failed",
                    template=template,
                    domain=domain,
                    attempt=attempt + 1,
                    error=exc.code,
                )
            else:
                return
        log.error("mail_dropped", template=template, domain=domain)

    async def drain(self, grace: float = 10.0) -> None:
        """Wait (bounded) for queued messages; cancel what is still waiting after that."""
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending), timeout=grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
