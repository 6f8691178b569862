"""Turning a solution folder's files into a :class:`~authgate.functions.model.Solution`.

The folder arrives as a mapping of relative paths to text (``functions/folder.py`` reads
one from disk; the publish API receives one); nothing here touches the filesystem.
``solution.yaml`` names the solution; every ``*.yaml``, ``*.yml`` or ``*.jigx`` file under
``functions/`` (sub-folders included) is one function named after the file. Other files —
the jigs and assets of a Jigx project — are not read. Every problem in every file is
collected before :class:`~authgate.functions.errors.InvalidSolution` is raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from authgate.functions.jigx_keys import SOLUTION_NOT_IMPLEMENTED
from authgate.functions.model import Function, Provider, Solution
from authgate.functions.validation import Findings, LoadWarning, invalid_solution
from authgate.functions.validation_fields import Fields, kind_of
from authgate.functions.validation_rest import read_rest_function
from authgate.functions.validation_sql import read_sql_function
from authgate.functions.yaml_source import YamlSyntaxError, YMap, parse_yaml

SOLUTION_FILE = "solution.yaml"
FUNCTIONS_FOLDER = "functions"
FUNCTION_SUFFIXES = (".yaml", ".yml", ".jigx")
SOLUTION_KEYS = frozenset({"name", "title", "description"})

MAX_FILES = 1_000
MAX_FILE_CHARS = 1_048_576
MAX_TOTAL_CHARS = 16 * 1_048_576
MAX_PATH = 512

SOLUTION_NAME = re.compile(r"[a-z0-9-]{1,64}")
FUNCTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class LoadedSolution:
    """A valid solution, and the warnings about what in it authgate does not run yet."""

    solution: Solution
    warnings: tuple[LoadWarning, ...]


def load_solution(files: Mapping[str, str]) -> LoadedSolution:
    """Read and validate a solution folder given as ``{relative path: text}``.

    Raises :class:`~authgate.functions.errors.InvalidSolution` listing every problem.
    """
    findings = Findings()
    if not _within_bounds(files, findings):
        findings.raise_if_any()
    function_files = _function_files(files, findings)
    header = _read_header(files, findings)
    functions: dict[str, Function] = {}
    for name, path in sorted(function_files.items()):
        function = _read_function(name, path, files[path], findings)
        if function is not None:
            functions[name] = function
    if header is None or findings.problems:
        # A missing or bad header was recorded as a problem.
        raise invalid_solution(findings.problems)
    solution = Solution(name=header[0], title=header[1], description=header[2], functions=functions)
    return LoadedSolution(solution, tuple(findings.warnings))


def _within_bounds(files: Mapping[str, str], findings: Findings) -> bool:
    """Whether the folder is small enough to read; a bad path alone does not stop reading."""
    if len(files) > MAX_FILES:
        findings.problem("(folder)", None, None, f"the solution has more than {MAX_FILES} files")
        return False
    fits = True
    total = 0
    for path, text in files.items():
        if not isinstance(path, str) or not isinstance(text, str):
            findings.problem("(folder)", None, None, "every file must be a path and its text")
            return False
        total += len(text)
        problem = _path_problem(path)
        if problem is not None:
            findings.problem(path[:MAX_PATH], None, None, problem)
        if len(text) > MAX_FILE_CHARS:
            findings.problem(
                path[:MAX_PATH], None, None, f"the file is larger than {MAX_FILE_CHARS} characters"
            )
            fits = False
    if total > MAX_TOTAL_CHARS:
        findings.problem(
            "(folder)",
            None,
            None,
            f"the solution's files hold more than {MAX_TOTAL_CHARS} characters",
        )
        fits = False
    return fits


def _path_problem(path: str) -> str | None:
    if not path or len(path) > MAX_PATH:
        return f"a file path must have 1 to {MAX_PATH} characters"
    if "\\" in path or "\x00" in path or path.startswith("/"):
        return "file paths are relative, with '/' between folders"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "a file path must not have empty, '.' or '..' parts"
    return None


def _function_files(files: Mapping[str, str], findings: Findings) -> dict[str, str]:
    """Function name → path, with every name given once."""
    by_name: dict[str, str] = {}
    for path in sorted(files):
        pure = PurePosixPath(path)
        if (
            _path_problem(path) is not None
            or pure.parts[0] != FUNCTIONS_FOLDER
            or len(pure.parts) < 2
        ):
            continue
        if pure.suffix.lower() not in FUNCTION_SUFFIXES:
            findings.warn(path, None, None, "not read: function files end in .yaml, .yml or .jigx")
            continue
        name = pure.stem
        if FUNCTION_NAME.fullmatch(name) is None:
            findings.problem(
                path,
                None,
                None,
                "a function's file name (its name) must be 1 to 64 letters, digits, '-' or '_', "
                "starting with a letter or digit",
            )
            continue
        if name in by_name:
            findings.problem(
                path,
                None,
                None,
                f"two files define the function '{name}': {by_name[name]} and {path}; "
                "rename or remove one",
            )
            continue
        by_name[name] = path
    return by_name


def _read_header(
    files: Mapping[str, str], findings: Findings
) -> tuple[str, str | None, str | None] | None:
    text = files.get(SOLUTION_FILE)
    if text is None:
        findings.problem(
            SOLUTION_FILE, None, None, "the folder needs a solution.yaml with the solution's name"
        )
        return None
    root = _parse_mapping(SOLUTION_FILE, text, findings)
    if root is None:
        return None
    fields = Fields(findings, SOLUTION_FILE, None, root)
    fields.check_keys(SOLUTION_KEYS, SOLUTION_NOT_IMPLEMENTED)
    name = fields.text("name", required=True)
    title = fields.text("title", empty_ok=True)
    description = fields.text("description", empty_ok=True)
    if name is not None and SOLUTION_NAME.fullmatch(name) is None:
        fields.problem("name", "'name' must be 1 to 64 lower-case letters, digits or '-'")
        return None
    return None if name is None else (name, title, description)


def _read_function(name: str, path: str, text: str, findings: Findings) -> Function | None:
    root = _parse_mapping(path, text, findings)
    if root is None:
        return None
    fields = Fields(findings, path, None, root)
    provider = fields.text("provider", required=True)
    if provider is None:
        return None
    if provider == Provider.REST:
        return read_rest_function(name, fields)
    if provider == Provider.SQL:
        return read_sql_function(name, fields)
    fields.problem(
        "provider",
        f"'provider' must be {Provider.REST.value} or {Provider.SQL.value}; "
        "authgate runs no other data provider",
    )
    return None


def _parse_mapping(path: str, text: str, findings: Findings) -> YMap | None:
    try:
        root = parse_yaml(text)
    except YamlSyntaxError as error:
        findings.problem(path, None, error.line, f"not valid YAML: {error.problem}")
        return None
    if root is None:
        findings.problem(path, None, None, "the file is empty")
        return None
    if not isinstance(root, YMap):
        findings.problem(
            path,
            None,
            root.line,
            f"the file must be a mapping (key: value lines), not {kind_of(root)}",
        )
        return None
    return root
