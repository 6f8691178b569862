"""The SDK's sans-I/O core: flows driven by hand, answer by answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from authgate.client import api
from authgate.client.errors import ServerError, SignInFailed
from authgate.client.wire import Answer, Call, Pause
from authgate.functions.errors import FunctionCallFailed

STARTED = {"device_code": "dc", "user_code": "BCDF-GHJK", "interval": 5,
           "verification_uri": "https://ag.example/device"}  # fmt: skip
TOKENS = {"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 900,
          "refresh_token": "r", "scope": "openid"}  # fmt: skip


def answer(status: int, body: Any) -> Answer:
    return Answer(status, {"content-type": "application/json"}, orjson.dumps(body))


def oauth_error(code: str) -> Answer:
    return answer(400, {"error": code, "error_description": f"{code} happened"})


def test_device_code_polling_waits_slows_down_and_finishes() -> None:
    flow = api.device_token(STARTED)
    pauses: list[float] = []
    step = next(flow)
    replies = [oauth_error("authorization_pending"), oauth_error("slow_down"), answer(200, TOKENS)]
    result = None
    while result is None:
        if isinstance(step, Pause):
            pauses.append(step.seconds)
            reply = None
        else:
            assert isinstance(step, Call)
            assert step.form is not None
            assert step.form["grant_type"] == api.DEVICE_CODE_GRANT
            assert not step.authenticated
            reply = replies.pop(0)
        try:
            step = flow.send(reply)
        except StopIteration as done:
            result = done.value
    assert pauses == [5, 5, 10]
    assert result.refresh_token == "r"


@pytest.mark.parametrize("code", ["access_denied", "expired_token"])
def test_device_code_polling_ends_on_denial_or_expiry(code: str) -> None:
    flow = api.device_token(STARTED)
    assert isinstance(next(flow), Pause)
    assert isinstance(flow.send(None), Call)
    with pytest.raises(SignInFailed) as ended:
        flow.send(oauth_error(code))
    assert code in ended.value.message


def test_server_errors_keep_the_servers_code_and_function_failures_their_shape() -> None:
    flow = api.cloud_call("crm", "orders", {})
    call = next(flow)
    assert isinstance(call, Call)
    assert call.path == "/v1/solutions/crm/functions/orders:call"
    failure = {"error": {"code": "function_call_failed", "status": 404, "title": "Not found",
                         "description": "no orders"}}  # fmt: skip
    with pytest.raises(FunctionCallFailed) as failed:
        flow.send(answer(404, failure))
    assert (failed.value.status, failed.value.title, failed.value.description) == (
        404, "Not found", "no orders",
    )  # fmt: skip

    flow = api.me()
    next(flow)
    with pytest.raises(ServerError) as refused:
        flow.send(answer(401, {"error": {"code": "invalid_token", "message": "expired"}}))
    assert (refused.value.code, refused.value.status) == ("invalid_token", 401)


def test_path_segments_are_escaped() -> None:
    call = next(api.definition("a/../b", None))
    assert isinstance(call, Call)
    assert call.path == "/v1/solutions/a%2F..%2Fb/definition"
