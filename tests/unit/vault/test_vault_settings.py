"""The vault's KEK settings: 32 bytes of base64, never shown in an error."""

from __future__ import annotations

import base64

import pytest

from authgate.config import load_settings
from authgate.errors import ConfigurationError

CANARY = base64.b64encode(b"canary-kek-0123456789-abcdefghij").decode()  # 32 bytes
SHORT = base64.b64encode(b"canary-short-kek").decode()


@pytest.mark.parametrize("bad", [SHORT, "canary not base64 !!", CANARY + "AAAA", ""])
@pytest.mark.parametrize("source", ["env", "file", "override", "previous-env", "previous-override"])
def test_a_bad_kek_stops_start_up_without_showing_it(
    bad: str, source: str, tmp_path: object
) -> None:
    env: dict[str, str] = {}
    overrides: dict[str, object] = {}
    if source == "env":
        env["AUTHGATE_VAULT_KEK"] = bad
    elif source == "file":
        path = f"{tmp_path}/kek"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(bad)
        env["AUTHGATE_VAULT_KEK_FILE"] = path
    elif source == "override":
        overrides["vault_kek"] = bad
    elif source == "previous-env":
        env["AUTHGATE_VAULT_PREVIOUS_KEKS"] = f"{CANARY},{bad or 'x'}"
    else:
        overrides["vault_previous_keks"] = [CANARY, bad or "x"]

    with pytest.raises(ConfigurationError) as caught:
        load_settings(env=env, **overrides)

    message = caught.value.message
    assert "vault_" in message
    assert "32 random bytes" in message
    assert "(value hidden)" in message
    for secret in (CANARY, SHORT, "canary"):
        assert secret not in message


def test_good_keks_load_from_env_file_and_override(tmp_path: object) -> None:
    path = f"{tmp_path}/kek"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(CANARY + "\n")
    settings = load_settings(
        env={"AUTHGATE_VAULT_KEK_FILE": path, "AUTHGATE_VAULT_PREVIOUS_KEKS": f"{CANARY}\n"}
    )
    assert settings.vault_kek is not None
    assert settings.vault_kek.get_secret_value().strip() == CANARY
    assert [k.get_secret_value() for k in settings.vault_previous_keks] == [CANARY]
    assert CANARY not in repr(settings)
    assert CANARY not in str(settings.model_dump())
    assert load_settings(env={}).vault_previous_keks == ()
