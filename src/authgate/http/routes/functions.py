"""What a device does with a solution: read its definition, call its functions."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from authgate.http.call_endpoint import run_call
from authgate.http.deps import ServicesDep, UserDep
from authgate.http.routes.auth import Strict

router = APIRouter(prefix="/v1/solutions", tags=["functions"])
_JSON = "application/json"


class DefinitionView(BaseModel):
    name: str
    title: str | None
    description: str | None
    version: int
    definition: dict[str, Any]


@router.get(
    "/{solution}/definition",
    response_model=DefinitionView,
    responses={304: {"description": "The device already has this version (If-None-Match)."}},
)
async def definition(
    solution: str, request: Request, caller: UserDep, services: ServicesDep
) -> Response:
    """The published definition: functions and credential names, never credential values.

    The ``ETag`` names the version; send it back in ``If-None-Match`` to skip an unchanged one.
    """
    record, document = await services.solutions.definition(
        caller.claims.org_id, solution, caller.claims.subject
    )
    etag = f'"{record.id}.{record.version}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = DefinitionView(
        name=record.name,
        title=record.title,
        description=record.description,
        version=record.version,
        definition=document,
    )
    return Response(orjson.dumps(body.model_dump()), media_type=_JSON, headers=headers)


class CallRequest(Strict):
    parameters: dict[str, Any] = Field(
        default_factory=dict, examples=[{"customerId": "C-1001", "$top": 50}]
    )


class CallView(BaseModel):
    records: list[Any]
    output: Any
    pages: int


@router.post("/{solution}/functions/{function}:call", response_model=CallView)
async def call(
    solution: str, function: str, body: CallRequest, caller: UserDep, services: ServicesDep
) -> Response:
    """Run the function with the caller's parameters; nothing of the data is stored.

    Errors have the shape ``{"error": {"code", "status", "title", "description", "details"}}``.
    """
    result = await run_call(services, caller, (solution, function), body.parameters)
    payload = {"records": result.records, "output": result.output, "pages": result.pages}
    return Response(orjson.dumps(payload), media_type=_JSON, headers={"Cache-Control": "no-store"})
