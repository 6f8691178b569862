"""Reading a response body within a size bound that applies after decoding (pure; no I/O).

Content codings (RFC 9110 §8.4.1) ``gzip`` (RFC 1952, several members allowed), ``deflate``
(RFC 1950; raw RFC 1951 data is accepted too, as many servers send it) and ``identity`` are
decoded. Each decoding step inflates at most one byte past the bound: ``zlib`` is asked for
no more output than the room left, and the rest of the input stays undecoded. A
decompression bomb therefore ends in :class:`UpstreamTooLarge` after about ``max_bytes`` of
work, however far it would inflate. Other codings (``br``, ``zstd``, ``compress``) are not
requested and are refused if sent.
"""

from __future__ import annotations

import zlib

from authgate.egress.errors import MalformedUpstreamResponse, UpstreamTooLarge

ACCEPT_ENCODING = b"gzip, deflate"
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class _Overflow(Exception):
    """A step produced more than the bound."""


class _Corrupt(Exception):
    """A step's input is not valid data of its coding."""


class _ZlibStep:
    """One gzip or deflate decoding step that never outputs more than ``limit + 1`` bytes."""

    def __init__(self, coding: str, limit: int) -> None:
        self._gzip = coding == "gzip"
        self._wbits = _GZIP_WBITS if self._gzip else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(self._wbits)
        self._limit = limit
        self._total = 0
        self._started = False

    def decode(self, data: bytes) -> bytes:
        output = bytearray()
        while data:
            room = self._limit - self._total - len(output)
            try:
                output += self._inflater.decompress(data, room + 1)
            except zlib.error:
                if self._gzip or self._started:
                    raise _Corrupt from None
                # A deflate body without the zlib wrapper: start again as raw deflate.
                self._wbits = -zlib.MAX_WBITS
                self._inflater = zlib.decompressobj(self._wbits)
                self._started = True
                continue
            self._started = True
            if self._total + len(output) > self._limit:
                raise _Overflow
            data = self._inflater.unconsumed_tail
            if not data and self._inflater.eof and self._gzip and self._inflater.unused_data:
                # Another gzip member follows (RFC 1952 §2.2).
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(self._wbits)
        self._total += len(output)
        return bytes(output)

    def finish(self) -> bytes:
        try:
            rest = self._inflater.flush()
        except zlib.error:
            raise _Corrupt from None
        self._total += len(rest)
        if self._total > self._limit:
            raise _Overflow
        return rest


def parse_content_codings(value: str | None) -> list[str]:
    """The codings applied to a body, in the order they were applied (``identity`` dropped)."""
    if value is None:
        return []
    codings = [part.strip().lower() for part in value.split(",")]
    return [
        "gzip" if coding == "x-gzip" else coding
        for coding in codings
        if coding and coding != "identity"
    ]


class BoundedBody:
    """Collects a body, decoding it as it arrives, refusing it once it exceeds ``max_bytes``."""

    def __init__(self, content_encoding: str | None, max_bytes: int, host: str) -> None:
        self._host = host
        self._max_bytes = max_bytes
        self._body = bytearray()
        self._steps: list[_ZlibStep] = []
        for coding in reversed(parse_content_codings(content_encoding)):
            if coding not in ("gzip", "deflate"):
                raise MalformedUpstreamResponse(
                    f"the upstream {host} sent the content coding {coding[:20]!r}, which is "
                    "not decoded (only gzip and deflate are)"
                )
            self._steps.append(_ZlibStep(coding, max_bytes))

    @property
    def decoded(self) -> bool:
        """Whether the body was content-coded (its length and coding headers no longer fit)."""
        return bool(self._steps)

    def feed(self, raw: bytes) -> None:
        """Take the next bytes received; raises once the decoded body passes the bound."""
        self._append(self._through(raw, 0))

    def finish(self) -> bytes:
        """The whole decoded body, after the last bytes were fed."""
        for index, step in enumerate(self._steps):
            try:
                tail = step.finish()
            except _Overflow:
                raise self._too_large() from None
            except _Corrupt:
                raise self._corrupt() from None
            self._append(self._through(tail, index + 1))
        return bytes(self._body)

    def _through(self, data: bytes, first_step: int) -> bytes:
        try:
            for step in self._steps[first_step:]:
                data = step.decode(data)
        except _Overflow:
            raise self._too_large() from None
        except _Corrupt:
            raise self._corrupt() from None
        return data

    def _append(self, data: bytes) -> None:
        if len(self._body) + len(data) > self._max_bytes:
            raise self._too_large()
        self._body += data

    def _too_large(self) -> UpstreamTooLarge:
        return UpstreamTooLarge(
            f"the response from {self._host} is larger than {self._max_bytes} bytes (after "
            "decoding); raise the function's size bound or ask for less"
        )

    def _corrupt(self) -> MalformedUpstreamResponse:
        return MalformedUpstreamResponse(
            f"the response from {self._host} is not valid data of its declared content coding"
        )
