"""The credentials a member's device keeps to run a solution's ``useLocalCall`` functions.

``GET /v1/solutions/{solution}/device-credentials`` hands over every device-usable credential
the version in force names; ``POST …/device-credentials/{name}:refresh`` gives a fresh OAuth
access token after an upstream refused the device's. Both are audited per credential and
answer 404 to anyone who is not a member of the solution.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from authgate.errors import ServiceUnavailable
from authgate.functions.device_credentials import DeviceCredentials, DeviceCredentialSet
from authgate.http.deps import Caller, ServicesDep, UserDep
from authgate.http.errors import NO_STORE
from authgate.http.routes.auth import Strict
from authgate.http.services import Services

router = APIRouter(prefix="/v1/solutions", tags=["functions"])


def _service(services: Services) -> DeviceCredentials:
    if services.device_credentials is None:
        raise ServiceUnavailable("device credentials are not enabled on this server")
    return services.device_credentials


def _body(found: DeviceCredentialSet) -> dict[str, Any]:
    credentials: dict[str, Any] = {}
    for item in found.credentials:
        entry: dict[str, Any] = {
            "kind": item.send_as,
            "value": item.value,
            "allowedHosts": list(item.allowed_hosts),
            "version": item.version,
        }
        if item.expires_at is not None:
            entry["expiresAt"] = item.expires_at.isoformat()
        if item.oauth is not None:
            entry["oauth"] = {
                "authorizeUrl": item.oauth.authorize_url,
                "tokenUrl": item.oauth.token_url,
                "clientId": item.oauth.client_id,
                "scopes": list(item.oauth.scopes),
            }
        credentials[item.name] = entry
    withheld = {
        item.name: {"reason": item.reason, "message": item.message, **dict(item.details)}
        for item in found.withheld
    }
    return {
        "solution": found.solution.name,
        "version": found.solution.version,
        "credentials": credentials,
        "withheld": withheld,
    }


async def _answer(
    services: Services, caller: Caller, solution: str, **options: Any
) -> JSONResponse:
    found = await _service(services).for_device(
        caller.claims.org_id, solution, caller.actor, **options
    )
    return JSONResponse(_body(found), headers=NO_STORE)


@router.get("/{solution}/device-credentials")
async def device_credentials(solution: str, caller: UserDep, services: ServicesDep) -> JSONResponse:
    """The device-usable credentials of the solution's local functions (values included;
    never an SQL connection, a basic credential or an OAuth client secret)."""
    return await _answer(services, caller, solution)


class RefreshRequest(Strict):
    rejected: str | None = Field(
        default=None, max_length=8192, description="The access token the upstream refused."
    )


@router.post("/{solution}/device-credentials/{name}:refresh")
async def refresh_device_credential(
    solution: str, name: str, body: RefreshRequest, caller: UserDep, services: ServicesDep
) -> JSONResponse:
    """A fresh OAuth access token for one credential after an upstream refused the device's."""
    rejected = {name: body.rejected} if body.rejected else None
    return await _answer(services, caller, solution, only=name, rejected=rejected)
