"""Bodies are bounded after decoding; bombs stop at the bound without inflating the rest."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.egress.decoding import BoundedBody, parse_content_codings
from authgate.egress.errors import MalformedUpstreamResponse, UpstreamTooLarge

LIMIT = 64 * 1024
BOMB_SIZE = 128 * 1024 * 1024


def _bomb(kind: str) -> bytes:
    inflater = zlib.compressobj(9, zlib.DEFLATED, {"gzip": 31, "deflate": 15, "raw": -15}[kind])
    block = bytes(1024 * 1024)
    parts = [inflater.compress(block) for _ in range(BOMB_SIZE // len(block))]
    return b"".join(parts) + inflater.flush()


@pytest.fixture(scope="module", params=["gzip", "deflate", "raw"])
def bomb(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    return request.param, _bomb(request.param)


def _read(encoding: str | None, chunks: list[bytes], limit: int = LIMIT) -> bytes:
    body = BoundedBody(encoding, limit, "upstream.example")
    for chunk in chunks:
        body.feed(chunk)
    return body.finish()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda data: data),
        ("identity", lambda data: data),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("deflate, gzip", lambda data: gzip.compress(zlib.compress(data))),
    ],
)
def test_codings_are_decoded_in_any_chunking(encoding: str | None, encode: object) -> None:
    data = bytes(range(256)) * 40
    wire = encode(data)  # type: ignore[operator]
    assert _read(encoding, [wire]) == data
    assert _read(encoding, [wire[i : i + 7] for i in range(0, len(wire), 7)]) == data


def test_several_gzip_members_are_one_body() -> None:
    assert _read("gzip", [gzip.compress(b"ab") + gzip.compress(b"cd")]) == b"abcd"


def test_a_body_at_the_bound_passes_and_one_byte_more_does_not() -> None:
    assert len(_read("gzip", [gzip.compress(bytes(LIMIT))])) == LIMIT
    with pytest.raises(UpstreamTooLarge) as caught:
        _read("gzip", [gzip.compress(bytes(LIMIT + 1))])
    assert caught.value.status == 502
    assert "upstream.example" in caught.value.message
    with pytest.raises(UpstreamTooLarge):
        _read(None, [bytes(LIMIT), b"x"])


def test_a_bomb_stops_at_the_bound_without_inflating(bomb: tuple[str, bytes]) -> None:
    kind, wire = bomb
    assert len(wire) > LIMIT  # 128 MiB squeezed into more than the bound
    tracemalloc.start()
    try:
        with pytest.raises(UpstreamTooLarge):
            _read("deflate" if kind != "gzip" else "gzip", [wire])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Inflating even one 64 KiB piece of this input would allocate about 64 MiB.
    assert peak < 8 * LIMIT + 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("encoding", "wire"),
    [("gzip", b"not gzip at all"), ("deflate", b"\xff\xff\xff\xff"), ("gzip", b"\x1f\x8b\x08xx")],
)
def test_corrupt_data_is_malformed(encoding: str, wire: bytes) -> None:
    with pytest.raises(MalformedUpstreamResponse, match=r"upstream\.example"):
        _read(encoding, [wire])


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_undecoded_codings_are_refused(encoding: str) -> None:
    with pytest.raises(MalformedUpstreamResponse, match="not decoded"):
        BoundedBody(encoding, LIMIT, "upstream.example")


def test_codings_are_parsed_in_order() -> None:
    assert parse_content_codings(" GZIP , identity,deflate") == ["gzip", "deflate"]
    assert parse_content_codings(None) == []


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=3000))
def test_the_bound_holds_for_any_data(data: bytes, limit: int) -> None:
    wire = gzip.compress(data)
    try:
        body = _read("gzip", [wire[:50], wire[50:]], limit)
    except UpstreamTooLarge:
        assert len(data) > limit
        return
    assert body == data
