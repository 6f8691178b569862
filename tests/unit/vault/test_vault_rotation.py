"""KEK rotation: re-wrap resumably, values readable throughout, old KEK removable after."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from authgate.config import load_settings
from authgate.crypto.envelope import Envelope, KeyEncryptionKey, UnknownKek
from authgate.crypto.root_key import derive_key
from authgate.vault.keys import DERIVED_KEK_PURPOSE, envelope_from_settings
from authgate.vault.models import CredentialKind, CredentialSpec, SecretFields
from authgate.vault.rotation import KekRotation, RotationProgress
from authgate.vault.service import VaultService

from .conftest import KEK, World

NEW_KEK = KeyEncryptionKey(bytes(range(100, 132)))
THIRD_KEK = KeyEncryptionKey(bytes(range(200, 232)))
ROOT = b"r" * 48


class Interrupted(Exception):
    """Stands in for a killed process."""


def secret(value: str) -> CredentialSpec:
    return CredentialSpec(
        CredentialKind.SECRET, SecretFields({"value": value}), allowed_hosts=("a.example",)
    )


async def seed(world: World, count: int) -> dict[str, str]:
    values = {f"k{i}": f"value-{i}" for i in range(count)}
    for name, value in values.items():
        await world.vault.put("acme", name, secret(value), world.admin)
    # One superseded version too: rotation must re-wrap it as well.
    await world.vault.put("acme", "k0", secret(values["k0"]), world.admin)
    return values


async def read_all(world: World, envelope: Envelope, names: dict[str, str]) -> dict[str, str]:
    vault = VaultService(world.deps, world.store.vault, envelope, lambda found: found)
    resolver = vault.resolver(world.org.id, None, "f", world.admin)
    return {name: (await resolver.resolve(name)).value for name in names}


async def test_interrupted_rotation_resumes_and_values_stay_readable(world: World) -> None:
    values = await seed(world, 7)  # 8 stored versions
    rotating = Envelope(NEW_KEK, [KEK])
    rotation = KekRotation(world.store.vault, rotating)
    assert await rotation.pending() == 8

    def stop_after_three(progress: RotationProgress) -> None:
        assert progress.total == 8
        if progress.rewrapped == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        await rotation.run(batch=2, on_progress=stop_after_three)

    assert await rotation.pending() == 5
    assert await world.store.vault.count_by_kek() == {KEK.kek_id: 5, NEW_KEK.kek_id: 3}
    assert await read_all(world, rotating, values) == values  # mid-way, all readable

    seen: list[RotationProgress] = []
    assert await rotation.run(batch=2, on_progress=seen.append) == 5
    assert [p.rewrapped for p in seen] == [1, 2, 3, 4, 5]
    assert await rotation.pending() == 0
    assert await rotation.run() == 0  # nothing left: a second run is a no-op

    # The old KEK can now be removed: only the new one is needed.
    assert await read_all(world, Envelope(NEW_KEK), values) == values
    with pytest.raises(UnknownKek):
        await read_all(world, Envelope(KEK), values)


async def test_rotation_refuses_rows_of_an_unknown_kek_and_names_the_fix(world: World) -> None:
    await seed(world, 2)
    rotation = KekRotation(world.store.vault, Envelope(THIRD_KEK, [NEW_KEK]))

    with pytest.raises(UnknownKek, match="AUTHGATE_VAULT_PREVIOUS_KEKS") as caught:
        await rotation.run()

    assert KEK.kek_id in caught.value.message
    assert await world.store.vault.count_by_kek() == {KEK.kek_id: 3}


async def test_new_values_are_sealed_under_the_current_kek_during_rotation(world: World) -> None:
    rotating = VaultService(
        world.deps, world.store.vault, Envelope(NEW_KEK, [KEK]), lambda found: found
    )
    await rotating.put("acme", "fresh", secret("v"), world.admin)
    assert await world.store.vault.count_by_kek() == {NEW_KEK.kek_id: 1}


def _b64(kek: KeyEncryptionKey) -> str:
    return base64.b64encode(kek.key).decode()


def test_without_a_kek_setting_the_kek_is_derived_from_the_root_key() -> None:
    envelope = envelope_from_settings(load_settings(env={}), ROOT)
    derived = KeyEncryptionKey(derive_key(ROOT, DERIVED_KEK_PURPOSE))
    assert envelope.current.kek_id == derived.kek_id
    assert envelope.kek_ids == {derived.kek_id}


def test_an_explicit_kek_is_current_and_the_derived_and_previous_ones_still_unwrap() -> None:
    settings = load_settings(
        env={"AUTHGATE_VAULT_PREVIOUS_KEKS": f"{_b64(KEK)}, {_b64(THIRD_KEK)}"},
        vault_kek=_b64(NEW_KEK),
    )
    envelope = envelope_from_settings(settings, ROOT)
    derived = KeyEncryptionKey(derive_key(ROOT, DERIVED_KEK_PURPOSE))
    assert envelope.current.kek_id == NEW_KEK.kek_id
    assert envelope.kek_ids == {NEW_KEK.kek_id, KEK.kek_id, THIRD_KEK.kek_id, derived.kek_id}
    assert isinstance(settings.vault_kek, SecretStr)
    assert _b64(NEW_KEK) not in repr(settings)
