"""The identity the gateway signs: opensocial_owner_id split at its last '@', and its checks."""

from __future__ import annotations

import pytest

from authgate.homeserver.errors import InvalidIdentity, MissingIdentity
from authgate.homeserver.identity import parse_identity


def test_owner_id_is_split_at_the_last_at_sign() -> None:
    identity = parse_identity(
        [
            ("opensocial_owner_id", "bob@example.org@inst-9"),
            ("opensocial_viewer_id", "carol@inst-9"),
            ("opensocial_app_id", "crm"),
            ("opensocial_app_url", "https://apps.example/crm.xml"),
            ("opensocial_instance_id", "inst-9"),
            ("q", "x"),
        ]
    )
    assert (identity.user_id, identity.instance_id) == ("bob@example.org", "inst-9")
    assert identity.owner_id == "bob@example.org@inst-9"
    assert (identity.viewer_id, identity.viewer_user_id) == ("carol@inst-9", "carol")
    assert (identity.app_id, identity.app_url) == ("crm", "https://apps.example/crm.xml")


def test_only_the_owner_is_required() -> None:
    identity = parse_identity([("opensocial_owner_id", "u1@i1")])
    assert (identity.user_id, identity.instance_id) == ("u1", "i1")
    assert identity.viewer_id is identity.app_id is identity.app_url is None


def test_missing_owner_has_its_own_code() -> None:
    with pytest.raises(MissingIdentity, match="opensocial_owner_id") as caught:
        parse_identity([("opensocial_viewer_id", "u@i"), ("q", "1")])
    assert (caught.value.code, caught.value.status) == ("missing_owner_id", 400)


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("", "is empty"),
        ("no-at-sign", "has no '@'"),
        ("@inst", "user part is empty"),
        ("user@", "instance part is empty"),
        ("user@inst\n", "control character"),
        ("u\x00@inst", "control character"),
        ("u" * 600 + "@inst", "longer than"),
    ],
)
def test_ill_formed_owner_ids_are_refused(owner: str, message: str) -> None:
    with pytest.raises(InvalidIdentity, match=message) as caught:
        parse_identity([("opensocial_owner_id", owner)])
    assert (caught.value.code, caught.value.status) == ("invalid_owner_id", 400)


@pytest.mark.parametrize(
    "parameters",
    [
        [("opensocial_owner_id", "a@i"), ("opensocial_owner_id", "b@i")],
        [("opensocial_owner_id", "a@i"), ("opensocial_owner_id", "a@i")],
        [("opensocial_owner_id", "a@i"), ("opensocial_app_id", "x"), ("opensocial_app_id", "y")],
    ],
)
def test_repeated_identity_parameters_are_refused(parameters: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidIdentity, match="more than once"):
        parse_identity(parameters)


@pytest.mark.parametrize(
    "name", ["OPENSOCIAL_OWNER_ID", "Opensocial_Owner_Id", "opensocial_Viewer_id"]
)
def test_identity_parameters_in_another_case_are_refused(name: str) -> None:
    with pytest.raises(InvalidIdentity, match="lower case"):
        parse_identity([("opensocial_owner_id", "a@i"), (name, "mallory@i")])


def test_instance_id_must_agree_with_the_owner() -> None:
    with pytest.raises(InvalidIdentity, match="opensocial_instance_id differs"):
        parse_identity([("opensocial_owner_id", "a@i1"), ("opensocial_instance_id", "i2")])


def test_ill_formed_viewer_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="opensocial_viewer_id"):
        parse_identity([("opensocial_owner_id", "a@i"), ("opensocial_viewer_id", "nobody")])
