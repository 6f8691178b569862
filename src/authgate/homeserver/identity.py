"""The identity a gateway asserts in a signed fetch, and its parsing.

The gateway adds ``opensocial_owner_id`` and ``opensocial_viewer_id`` (both
``<user>@<instance>``), ``opensocial_app_id``, ``opensocial_app_url`` and
``opensocial_instance_id`` to the query of every request it forwards, then signs it. Only
signed parameters are read here, so a caller cannot add or change one. The instance id never
contains ``@``, so an owner id is split at its *last* ``@`` (a user id may hold an ``@``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from authgate.homeserver.errors import InvalidIdentity, MissingIdentity

OWNER_ID = "opensocial_owner_id"
VIEWER_ID = "opensocial_viewer_id"
APP_ID = "opensocial_app_id"
APP_URL = "opensocial_app_url"
INSTANCE_ID = "opensocial_instance_id"
IDENTITY_PREFIX = "opensocial_"
MAX_ID_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Identity:
    """The ``opensocial_*`` parameters of a request, checked."""

    owner_id: str
    """``<user>@<instance>``, as the gateway sent it."""
    user_id: str
    """The owner's user id within the instance (the part before the last ``@``)."""
    instance_id: str
    """The container instance the user belongs to (the part after the last ``@``)."""
    app_id: str | None
    app_url: str | None
    viewer_id: str | None
    viewer_user_id: str | None


@dataclass(frozen=True, slots=True)
class SignedFetch(Identity):
    """A verified signed fetch: who the user is, which app asked, and what was signed."""

    consumer_key: str
    """The key the request was signed with (the app's own, when it came through a gateway)."""
    signature_method: str
    timestamp: int
    nonce: str
    parameters: tuple[tuple[str, str], ...]
    """Every signed query and form parameter except the ``oauth_*`` protocol ones, in order."""

    def get(self, name: str) -> str | None:
        """The first signed parameter ``name``, or None."""
        return next((value for key, value in self.parameters if key == name), None)


def _checked(name: str, value: str) -> str:
    if not value:
        raise InvalidIdentity(f"{name} is empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidIdentity(f"{name} is longer than {MAX_ID_LENGTH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidIdentity(f"{name} contains a control character")
    return value


def split_user_at_instance(name: str, value: str) -> tuple[str, str]:
    """``(user, instance)`` of ``<user>@<instance>``, split at the last ``@``."""
    user, at, instance = _checked(name, value).rpartition("@")
    if not at:
        raise InvalidIdentity(f"{name} must be <user>@<instance>; it has no '@'")
    if not user or not instance:
        part = "user" if not user else "instance"
        raise InvalidIdentity(f"{name} must be <user>@<instance>; its {part} part is empty")
    return user, instance


def parse_identity(parameters: Iterable[tuple[str, str]]) -> Identity:
    """The checked identity among the signed ``parameters``, or a precise 400 error."""
    found: dict[str, str] = {}
    for name, value in parameters:
        lowered = name.lower()
        if not lowered.startswith(IDENTITY_PREFIX):
            continue
        if name != lowered:
            raise InvalidIdentity(
                f"the identity parameter {name[:60]} must be spelled in lower case"
            )
        if name in found:
            raise InvalidIdentity(f"the identity parameter {name[:60]} appears more than once")
        found[name] = value
    owner = found.get(OWNER_ID)
    if owner is None:
        raise MissingIdentity(
            f"the signed request carries no {OWNER_ID}; home servers accept requests the "
            "gateway forwarded, which add it and sign it"
        )
    user, instance = split_user_at_instance(OWNER_ID, owner)
    declared = found.get(INSTANCE_ID)
    if declared is not None and declared != instance:
        raise InvalidIdentity(f"{INSTANCE_ID} differs from the instance part of {OWNER_ID}")
    viewer = found.get(VIEWER_ID)
    viewer_user = None if viewer is None else split_user_at_instance(VIEWER_ID, viewer)[0]
    app_id, app_url = found.get(APP_ID), found.get(APP_URL)
    return Identity(
        owner_id=owner,
        user_id=user,
        instance_id=instance,
        app_id=None if app_id is None else _checked(APP_ID, app_id),
        app_url=None if app_url is None else _checked(APP_URL, app_url),
        viewer_id=viewer,
        viewer_user_id=viewer_user,
    )
