"""The forwarded request: stripped, identified, re-signed, and only below a registered base."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from authgate.signedfetch.errors import HomeServerNotRegistered, InvalidOAuthRequest
from authgate.signedfetch.forwarding import (
    ForwardRequest,
    Identity,
    check_path,
    choose_home_server,
    is_identity_parameter,
    plan_forward,
)
from authgate.signedfetch.registry import App, AppKey
from authgate.signedfetch.signature import SharedSecret, SignatureMethod
from authgate.signedfetch.verify import verify_request

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SECRET = "app-secret-for-forwarding-tests"


def app_key(*servers: str, method: SignatureMethod = SignatureMethod.HMAC_SHA1) -> AppKey:
    app = App(
        id="row-1",
        org_id="org-1",
        app_id="planner",
        app_url="https://planner.example.com/app.xml",
        home_servers=servers or ("https://api.planner.example.com/v2",),
        consumer_key="planner-key",
        signature_method=method,
        description="",
        secret_version=1,
        created_by=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return AppKey(app, SECRET)


def forward(**overrides: object) -> ForwardRequest:
    arguments: dict[str, object] = {
        "method": "GET",
        "base_url": "https://api.planner.example.com/v2",
        "path": "items/7",
        "query": "",
        "headers": [],
        "body": b"",
        "identity": Identity("1001", "1002", "inst-9"),
        "app_key": app_key(),
        "now": NOW,
    }
    arguments.update(overrides)
    return plan_forward(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "reserved"),
    [
        ("oauth_token", True),
        ("OAUTH_NONCE", True),
        ("xoauth_requestor_id", True),
        ("OpenSocial_Owner_Id", True),
        ("opensocial", False),
        ("oauthx", False),
        ("my_oauth_token", False),
    ],
)
def test_identity_parameters_are_recognised_in_any_case(name: str, reserved: bool) -> None:
    assert is_identity_parameter(name) is reserved


def test_the_forwarded_request_verifies_with_the_app_secret_and_carries_the_identity() -> None:
    planned = forward(
        method="POST",
        query="b=2&opensocial_owner_id=evil&a=1",
        headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", "s=1"),
            ("Accept", "application/json"),
        ],
        body=b"x=%E2%98%83&oauth_token=t&OpenSocial_App_Id=z",
    )
    assert planned.url.startswith("https://api.planner.example.com/v2/items/7?")
    query = parse_qsl(urlsplit(planned.url).query)
    assert query[:2] == [("b", "2"), ("a", "1")]
    assert ("opensocial_owner_id", "1001@inst-9") in query
    assert ("opensocial_viewer_id", "1002@inst-9") in query
    assert ("opensocial_instance_id", "inst-9") in query
    assert planned.body == b"x=%E2%98%83"
    headers = dict(planned.headers)
    assert "Cookie" not in headers
    assert headers["Accept"] == "application/json"
    verified = verify_request(
        "POST",
        planned.url,
        headers,
        planned.body,
        find_consumer=lambda key: SharedSecret(SECRET) if key == "planner-key" else None,
        now=NOW,
    )
    assert ("x", "☃") in verified.parameters
    assert planned.host == "api.planner.example.com"


def test_a_json_body_is_kept_whole_and_hashed_with_the_apps_method() -> None:
    planned = forward(
        method="PUT",
        headers=[("content-type", "application/json")],
        body=b'{"opensocial_owner_id": "kept"}',
        app_key=app_key(method=SignatureMethod.HMAC_SHA256),
    )
    assert planned.body == b'{"opensocial_owner_id": "kept"}'
    authorization = dict(planned.headers)["Authorization"]
    assert 'oauth_signature_method="HMAC-SHA256"' in authorization
    assert "oauth_body_hash=" in authorization


def test_the_home_server_is_the_first_unless_another_registered_one_is_named() -> None:
    key = app_key("https://a.example.com", "https://b.example.com/api")
    assert choose_home_server(key, None) == "https://a.example.com"
    assert choose_home_server(key, "https://B.example.com/api/") == "https://b.example.com/api"
    with pytest.raises(HomeServerNotRegistered):
        choose_home_server(key, "https://b.example.com")
    with pytest.raises(HomeServerNotRegistered):
        choose_home_server(key, "https://evil.example.com")


@pytest.mark.parametrize(
    "path", ["..", "a/../b", "a/%2e%2E/b", "a/./b", "a%2Fb", "a%5Cb", "a b", "a\\b", "x" * 2049]
)
def test_paths_that_could_leave_the_base_are_refused(path: str) -> None:
    with pytest.raises(InvalidOAuthRequest):
        check_path(path)


@pytest.mark.parametrize("path", ["", "a", "a/b/c", "a%20b", "%E2%98%83", "a..b/.c"])
def test_ordinary_paths_pass(path: str) -> None:
    assert check_path(path) == path
