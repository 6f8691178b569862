"""A call's parameters: the caller's values checked against the declarations, then defaults.

FUNCTIONS.md, "REST functions": a caller supplies values for parameters, ``value`` is the
default (a literal or an expression), path parameters are required, and a caller can never
supply or override a parameter that authgate fills from a stored credential. Errors name the
parameter and what it must be; they never repeat the value the caller sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from authgate.functions.errors import CredentialParameterRefused, InvalidFunctionArguments
from authgate.functions.expressions import EvaluationLimits, compile_expression
from authgate.functions.model import Parameter, ParameterLocation, ParameterType, is_expression

_NAME_SHOWN = 64
_NEVER_FROM_CALLER = frozenset({ParameterLocation.CREDENTIAL, ParameterLocation.SECRET})
_TYPE_NAMES = {
    ParameterType.STRING: "a string",
    ParameterType.NUMBER: "a number",
    ParameterType.INTEGER: "an integer",
    ParameterType.BOOLEAN: "true or false",
    ParameterType.OBJECT: "an object",
    ParameterType.ARRAY: "an array",
}


def is_credential_parameter(parameter: Parameter) -> bool:
    """Whether authgate, never the caller, provides this parameter's value."""
    return parameter.credential is not None or parameter.location in _NEVER_FROM_CALLER


def check_arguments(
    arguments: Mapping[str, Any], declarations: Iterable[Mapping[str, Parameter]]
) -> None:
    """Refuse names no declaration knows and any attempt at a credential parameter.

    ``declarations`` are the function's parameters and its continuation's: a name is known if
    either declares it, and refused if either fills it from a credential.
    """
    known: dict[str, list[Parameter]] = {}
    for declared in declarations:
        for name, parameter in declared.items():
            known.setdefault(name, []).append(parameter)
    for name in arguments:
        if not isinstance(name, str) or name not in known:
            raise InvalidFunctionArguments(
                f"the function has no parameter {_shown(name)}; send only declared parameters"
            )
        if any(is_credential_parameter(p) for p in known[name]):
            raise CredentialParameterRefused(
                f"parameter {name!r} is filled by authgate from a stored credential; "
                "a caller cannot supply it"
            )


def resolve_values(
    declared: Mapping[str, Parameter],
    arguments: Mapping[str, Any],
    *,
    ctx: Mapping[str, Any],
    document: Any,
    limits: EvaluationLimits,
) -> dict[str, Any]:
    """The value of every non-credential parameter that has one, by name.

    A caller's value must have the declared type; without one the default applies (an
    expression is evaluated on ``document`` with ``@ctx``). A required or path parameter
    left without a value is refused. ``None`` counts as "not supplied".
    """
    values: dict[str, Any] = {}
    for name, parameter in declared.items():
        if is_credential_parameter(parameter):
            continue
        supplied = arguments.get(name)
        if supplied is not None:
            check_type(name, parameter.type, supplied)
            value = supplied
        elif is_expression(parameter.value):
            value = compile_expression(parameter.value).evaluate(
                document, ctx=ctx, role=f"parameters.{name}.value", limits=limits
            )
        else:
            value = parameter.value
        if value is None:
            if parameter.required or parameter.location is ParameterLocation.PATH:
                raise InvalidFunctionArguments(
                    f"parameter {name!r} is required; send it as {_TYPE_NAMES[parameter.type]}"
                )
            continue
        values[name] = value
    return values


def check_type(name: str, expected: ParameterType, value: Any) -> None:
    """Refuse ``value`` unless it has the JSON type ``expected`` (integral floats are ints)."""
    if not _has_type(expected, value):
        raise InvalidFunctionArguments(
            f"parameter {name!r} must be {_TYPE_NAMES[expected]}; send a value of that type"
        )


def _has_type(expected: ParameterType, value: Any) -> bool:
    if isinstance(value, bool):
        return expected is ParameterType.BOOLEAN
    if expected is ParameterType.STRING:
        return isinstance(value, str)
    if expected is ParameterType.NUMBER:
        return isinstance(value, int | float)
    if expected is ParameterType.INTEGER:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if expected is ParameterType.OBJECT:
        return isinstance(value, dict)
    if expected is ParameterType.ARRAY:
        return isinstance(value, list)
    return False


def _shown(name: object) -> str:
    """A caller-sent name, quoted and shortened: it is shown so the caller can fix it."""
    text = repr(name) if isinstance(name, str) else f"of type {type(name).__name__}"
    return text if len(text) <= _NAME_SHOWN else text[: _NAME_SHOWN - 1] + "…'"
