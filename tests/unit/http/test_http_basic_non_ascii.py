"""Non-ASCII HTTP Basic credentials are a client error, never a crash."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import AuthgateError, InvalidClient
from authgate.http.oauth_forms import client_credentials


@pytest.mark.parametrize("encoded", ["é", "\x80", "c3ZjOnM=é", "ｃ３ＺｊＯｎＭ＝"])
def test_non_ascii_basic_credentials_are_invalid_client(encoded: str) -> None:
    with pytest.raises(InvalidClient):
        client_credentials({}, f"Basic {encoded}")


@given(encoded=st.text(max_size=120))
def test_arbitrary_basic_payloads_fail_only_with_authgate_errors(encoded: str) -> None:
    with contextlib.suppress(AuthgateError):
        client_credentials({}, f"Basic {encoded}")
