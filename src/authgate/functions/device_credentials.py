"""What a member's device receives to run a solution's ``useLocalCall`` functions itself.

DESIGN.md, flow 4: the device syncs the solution and, for functions marked ``useLocalCall``,
receives the credentials those functions name — only those an administrator marked usable
on devices, never an SQL connection (:mod:`authgate.vault.device` decides and audits). Only
members of the solution ask (anyone else gets 404, as for the definition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authgate.errors import NotFound
from authgate.functions.model import ParameterLocation, RestFunction, Solution
from authgate.functions.ports import SolutionRecord
from authgate.functions.solutions import SolutionService
from authgate.identity.deps import Actor
from authgate.vault.device import DeviceCredential, DeviceCredentialIssuer, Withheld

_UNSENT = frozenset({ParameterLocation.CREDENTIAL, ParameterLocation.SECRET})


def local_credential_names(solution: Solution) -> frozenset[str]:
    """Names of the credentials the solution's ``useLocalCall`` functions send."""
    names: set[str] = set()
    for function in solution.functions.values():
        if not (isinstance(function, RestFunction) and function.use_local_call):
            continue
        parameters = list(function.parameters.values())
        if function.continuation is not None:
            parameters.extend((function.continuation.parameters or {}).values())
        names.update(
            p.credential
            for p in parameters
            if p.credential is not None and p.location not in _UNSENT
        )
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class DeviceCredentialSet:
    """The credentials of one solution version for one member's device."""

    solution: SolutionRecord
    credentials: list[DeviceCredential]
    withheld: list[Withheld]


class DeviceCredentials:
    """Hands members' devices the credentials of their solutions' local functions."""

    def __init__(self, solutions: SolutionService, issuer: DeviceCredentialIssuer) -> None:
        self._solutions = solutions
        self._issuer = issuer

    async def for_device(
        self,
        org_id: str,
        solution: str,
        actor: Actor,
        *,
        session_id: str | None = None,
        only: str | None = None,
        rejected: Mapping[str, str] | None = None,
    ) -> DeviceCredentialSet:
        """Every credential of the version in force (or ``only`` that one, refreshed when
        ``rejected`` names the token an upstream refused)."""
        if actor.user_id is None:
            raise NotFound(f"solution '{solution[:64]}' not found")
        target, parsed = await self._solutions.for_member(
            org_id, solution, actor.user_id, session_id
        )
        names = local_credential_names(parsed)
        if only is not None:
            if only not in names:
                raise NotFound(
                    f"no local function of solution '{solution[:64]}' uses a credential "
                    f"'{only[:128]}'"
                )
            names = frozenset({only})
        given, withheld = await self._issuer.issue(
            target.solution.org_id, target.solution.name, names, actor, rejected=rejected
        )
        return DeviceCredentialSet(target.solution, given, withheld)
