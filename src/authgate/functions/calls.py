"""A device's function call: who may call what, with which credentials, in which context.

The engine runs the function; this module decides that the caller is a member of the
solution, finds the function in the version in force, builds the call's context
(``@ctx.user``, ``@ctx.solution``) and binds the credential resolver to this call, so
that every credential use is audited as this user's call of this function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from authgate.errors import InvalidToken, NotFound
from authgate.functions.call import CallContext, CallResult, CallSolution, CallUser
from authgate.functions.engine import FunctionEngine
from authgate.functions.errors import FunctionCallFailed, SqlFunctionsUnavailable
from authgate.functions.model import SqlFunction
from authgate.functions.ports import CredentialResolvers
from authgate.functions.redaction import RecordingResolver, redact
from authgate.functions.solutions import SolutionService
from authgate.functions.sql_engine import SqlFunctionEngine
from authgate.functions.sql_ports import SqlConnectionResolvers
from authgate.identity.deps import Actor

SESSION_ENDED = "the session of this token has ended; sign in again"


class FunctionCalls:
    """Runs functions for signed-in members of a solution."""

    def __init__(
        self,
        solutions: SolutionService,
        engine: FunctionEngine,
        resolvers: CredentialResolvers,
        *,
        sql: SqlFunctionEngine | None = None,
        sql_connections: SqlConnectionResolvers | None = None,
    ) -> None:
        self._solutions = solutions
        self._engine = engine
        self._resolvers = resolvers
        self._sql = sql
        self._sql_connections = sql_connections

    async def call(
        self,
        org_id: str,
        solution: str,
        function: str,
        arguments: Mapping[str, Any],
        actor: Actor,
        *,
        session_id: str | None = None,
    ) -> CallResult:
        """Run ``function`` of ``solution`` for ``actor`` (a member of it) in ``org_id``.

        With ``session_id`` the caller's session is checked too, in the same lookup; when the
        lookup finds no solution, the caller must check the session itself before answering.
        """
        if actor.user_id is None:
            raise InvalidToken("this needs a user's access token, not a service client's")
        target, definition = await self._solutions.for_member(
            org_id, solution, actor.user_id, session_id
        )
        if not target.session_live:
            raise InvalidToken(SESSION_ENDED)
        record = target.solution
        found = definition.functions.get(function)
        if found is None:
            raise NotFound(f"solution '{solution}' has no function '{function[:128]}'")
        if not target.user_active:
            raise InvalidToken("the user of this token no longer exists or is disabled")
        context = CallContext(
            CallUser(actor.user_id, target.user_email, target.user_display_name),
            CallSolution(record.id, record.name, record.org_id),
        )
        if isinstance(found, SqlFunction):
            if self._sql is None or self._sql_connections is None:
                raise SqlFunctionsUnavailable(
                    f"'{function}' is a SQL function; this server does not run SQL functions"
                )
            connections = self._sql_connections.for_call(
                org_id=org_id, solution=record.name, function=function, actor=actor
            )
            return await self._sql.call(found, arguments, context=context, connections=connections)
        resolver = RecordingResolver(
            self._resolvers.for_call(
                org_id=org_id, solution=record.name, function=function, actor=actor
            )
        )
        try:
            result = await self._engine.call(
                found, arguments, context=context, credentials=resolver
            )
        except FunctionCallFailed as failed:
            # Handlers may quote the upstream's answer, which may quote our credentials.
            failed.title = failed.message = redact(failed.title, resolver.values)
            failed.description = redact(failed.description, resolver.values)
            failed.call_details = redact(failed.call_details, resolver.values)
            raise
        return replace(
            result,
            records=redact(result.records, resolver.values),
            output=redact(result.output, resolver.values),
        )
