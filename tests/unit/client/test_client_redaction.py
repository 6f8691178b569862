"""Local results are redacted like cloud ones, with a shortcut when no secret occurs."""

from __future__ import annotations

import pytest

from authgate.client.local_calls import redacted

SECRET = "canary-local-secret-77ab"


def test_data_without_a_secret_is_returned_as_it_is() -> None:
    data = [{"id": 1, "name": "x"}]
    assert redacted(data, {SECRET}) is data
    assert redacted(data, set()) is data


@pytest.mark.parametrize(
    "secret", [SECRET, 'quote"d-secret-1234', "back\\slash-secret-1", "line\nbreak-secret"]
)
def test_every_occurrence_is_replaced_wherever_it_hides(secret: str) -> None:
    data = [{"id": 1, "seen": f"Bearer {secret}", secret: [secret]}]
    cleaned = redacted(data, {secret})
    assert secret not in repr(cleaned)
    assert cleaned == [{"id": 1, "seen": "Bearer [redacted]", "[redacted]": ["[redacted]"]}]


def test_values_json_cannot_hold_are_walked() -> None:
    data = [{"odd": "\ud800", "seen": SECRET}]
    assert redacted(data, {SECRET}) == [{"odd": "\ud800", "seen": "[redacted]"}]
