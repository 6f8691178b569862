"""Problems and warnings found in a solution, and the checks made when it is published.

Every problem names the file, the key (a dotted path such as
``parameters.customerId.location``) and the 1-based line, so an author can go straight to
it. Loading collects all of them before failing. Messages never quote a parameter's value,
a URL or SQL text: those may hold something secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from authgate.functions.errors import InvalidSolution
from authgate.functions.model import (
    Function,
    Parameter,
    ParameterLocation,
    Solution,
    SqlFunction,
    is_expression,
)

MAX_REPORTED = 200
"""Most problems one error lists; a pathological file cannot make the error unbounded."""

CREDENTIAL_LOCATIONS = frozenset({ParameterLocation.CREDENTIAL, ParameterLocation.SECRET})


def _where(file: str, key: str | None, line: int | None) -> str:
    place = file if line is None else f"{file}:{line}"
    return place if not key else f"{place} {key}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a solution."""

    file: str
    key: str | None
    line: int | None
    problem: str

    def __str__(self) -> str:
        return f"{_where(self.file, self.key, self.line)}: {self.problem}"

    def as_detail(self) -> dict[str, str | int | None]:
        """The problem as it appears in ``details["problems"]``."""
        return {"file": self.file, "key": self.key, "line": self.line, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """Something that loads but is not honoured: a Jigx feature authgate does not run yet."""

    file: str
    key: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{_where(self.file, self.key, self.line)}: {self.message}"


def child_key(parent: str | None, name: str | int) -> str:
    """``parent.name`` (or ``parent[index]``), the way problems spell where they are."""
    if isinstance(name, int):
        return f"{parent or ''}[{name}]"
    return name if not parent else f"{parent}.{name}"


class Findings:
    """Collects the problems and warnings of one load or publish."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[LoadWarning] = []

    def problem(self, file: str, key: str | None, line: int | None, text: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(file, key, line, text))

    def warn(self, file: str, key: str | None, line: int | None, text: str) -> None:
        """Record a warning."""
        self.warnings.append(LoadWarning(file, key, line, text))

    def raise_if_any(self) -> None:
        """Raise :class:`InvalidSolution` listing every problem, when there is one."""
        if self.problems:
            raise invalid_solution(self.problems)


def invalid_solution(problems: Iterable[Problem]) -> InvalidSolution:
    """The error for ``problems``: a readable list, and the same list in ``details``."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line or 0, p.key or "", p.problem))
    shown = ordered[:MAX_REPORTED]
    count = len(ordered)
    noun = "problem" if count == 1 else "problems"
    lines = [f"the solution has {count} {noun}; fix and publish again:"]
    lines.extend(f"  {problem}" for problem in shown)
    if count > len(shown):
        lines.append(f"  … and {count - len(shown)} more")
    details: dict[str, Any] = {"problems": [problem.as_detail() for problem in shown]}
    if count > len(shown):
        details["omitted"] = count - len(shown)
    return InvalidSolution("\n".join(lines), details=details)


def bind_credentials(solution: Solution, credential_names: frozenset[str]) -> Solution:
    """Mark parameters whose literal value names one of ``credential_names`` as credentials.

    Raises :class:`InvalidSolution` when a ``credential``/``secret`` parameter or a SQL
    ``connection`` names a credential the organization does not have.
    """
    findings = Findings()
    functions: dict[str, Function] = {}
    for name, function in solution.functions.items():
        functions[name] = _bind_function(function, credential_names, findings)
    findings.raise_if_any()
    return replace(solution, functions=functions)


def _bind_function(function: Function, names: frozenset[str], findings: Findings) -> Function:
    if isinstance(function, SqlFunction):
        # SQL parameters are never credentials: a default that happens to equal a
        # credential's name is bound as that text, and no secret is ever bound into SQL.
        if function.connection not in names:
            findings.problem(
                function.source,
                "connection",
                None,
                "the named connection is not a credential of this solution; add the database "
                "connection to the vault first, or correct the name",
            )
        return function
    parameters = _bind_parameters(
        function.source, "parameters", function.parameters, names, findings
    )
    continuation = function.continuation
    if continuation is not None and continuation.parameters is not None:
        bound = _bind_parameters(
            function.source, "continuation.parameters", continuation.parameters, names, findings
        )
        continuation = replace(continuation, parameters=bound)
    return replace(function, parameters=parameters, continuation=continuation)


def _bind_parameters(
    source: str,
    key: str,
    parameters: Mapping[str, Parameter],
    names: frozenset[str],
    findings: Findings,
) -> dict[str, Parameter]:
    bound: dict[str, Parameter] = {}
    for name, parameter in parameters.items():
        value = parameter.value
        if parameter.location in CREDENTIAL_LOCATIONS:
            credential = parameter.credential or (value if isinstance(value, str) else None)
            if credential is None or credential not in names:
                # The name is not echoed: an author may have pasted the secret itself here.
                findings.problem(
                    source,
                    child_key(child_key(key, name), "value"),
                    None,
                    "the named credential is not one of this solution's; add it to the vault "
                    "or correct the name",
                )
            bound[name] = parameter
        elif isinstance(value, str) and not is_expression(value) and value in names:
            bound[name] = replace(parameter, credential=value)
        else:
            bound[name] = parameter
    return bound


__all__ = [
    "CREDENTIAL_LOCATIONS",
    "Findings",
    "LoadWarning",
    "Problem",
    "bind_credentials",
    "child_key",
    "invalid_solution",
]
