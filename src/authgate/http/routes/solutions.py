"""Publishing solutions and managing who may use them (makers and administrators)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from authgate.functions.ports import SolutionMember, SolutionRecord, SolutionRole
from authgate.http.deps import ServicesDep, UserDep
from authgate.http.routes.auth import Strict

router = APIRouter(prefix="/v1/orgs/{org}/solutions", tags=["solutions"])

MAX_FILES = 1000


class SolutionFolder(Strict):
    """A solution folder: each file's path inside the folder, and its text."""

    files: dict[str, str] = Field(
        max_length=MAX_FILES,
        examples=[
            {
                "solution.yaml": "name: sales\ntitle: Sales\n",
                "functions/list-orders.yaml": "provider: DATA_PROVIDER_REST\nmethod: GET\n...",
            }
        ],
    )


class SolutionView(BaseModel):
    name: str
    title: str | None
    description: str | None
    version: int
    updated_at: datetime


class PublishedView(SolutionView):
    warnings: list[str]


def _view(record: SolutionRecord) -> SolutionView:
    return SolutionView(
        name=record.name,
        title=record.title,
        description=record.description,
        version=record.version,
        updated_at=record.updated_at,
    )


@router.put("/{name}", response_model=PublishedView)
async def publish(
    org: str, name: str, body: SolutionFolder, caller: UserDep, services: ServicesDep
) -> PublishedView:
    """Validate the folder and publish it as the solution's next version.

    Errors name the file, the key and the line (``details.problems``).
    """
    published = await services.solutions.publish(org, name, body.files, caller.actor)
    view = _view(published.solution)
    return PublishedView(**view.model_dump(), warnings=list(published.warnings))


@router.get("", response_model=list[SolutionView])
async def list_solutions(org: str, caller: UserDep, services: ServicesDep) -> list[SolutionView]:
    """Every solution of the organization (MAKER, ADMIN or OWNER)."""
    return [_view(r) for r in await services.solutions.list_for_org(org, caller.actor)]


@router.delete("/{name}", status_code=204)
async def delete_solution(org: str, name: str, caller: UserDep, services: ServicesDep) -> Response:
    """Remove the solution with every version and member (ADMIN or OWNER)."""
    await services.solutions.delete(org, name, caller.actor)
    return Response(status_code=204)


class MemberChange(Strict):
    email: str = Field(min_length=3, max_length=320)
    role: SolutionRole = SolutionRole.USER


class MemberView(BaseModel):
    user_id: str
    role: SolutionRole
    added_at: datetime


def _member(member: SolutionMember) -> MemberView:
    return MemberView(user_id=member.user_id, role=member.role, added_at=member.added_at)


@router.put("/{name}/members", response_model=MemberView)
async def set_member(
    org: str, name: str, body: MemberChange, caller: UserDep, services: ServicesDep
) -> MemberView:
    """Give a member of the organization a role in the solution (or change it)."""
    member = await services.solutions.set_member(org, name, body.email, body.role, caller.actor)
    return _member(member)


@router.get("/{name}/members", response_model=list[MemberView])
async def list_members(
    org: str, name: str, caller: UserDep, services: ServicesDep
) -> list[MemberView]:
    """Who may use the solution."""
    return [_member(m) for m in await services.solutions.members(org, name, caller.actor)]


@router.delete("/{name}/members/{user_id}", status_code=204)
async def remove_member(
    org: str, name: str, user_id: str, caller: UserDep, services: ServicesDep
) -> Response:
    """Take a user's role in the solution away."""
    await services.solutions.remove_member(org, name, user_id, caller.actor)
    return Response(status_code=204)
