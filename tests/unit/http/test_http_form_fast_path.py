"""The direct split of escape-free forms agrees with the standard library's parser."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import OAuthError
from authgate.http.oauth_forms import FORM_TYPE, parse_form

form_text = st.text(alphabet=st.sampled_from("ab=&_-.~%+2 0F"), max_size=60)


@given(form_text)
def test_parse_form_matches_parse_qsl(text: str) -> None:
    expected = parse_qsl(text, keep_blank_values=True)
    names = [name for name, _ in expected]
    try:
        parsed = parse_form(text.encode(), FORM_TYPE)
    except OAuthError:
        assert len(set(names)) < len(names)  # refused only for a repeated parameter
        return
    assert parsed == dict(expected)
    assert len(set(names)) == len(names)
