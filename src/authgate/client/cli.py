"""The device commands of ``authgate``: login, logout, whoami, sync, call and data.

They are thin: each builds a :class:`~authgate.client.sync_client.Client` and prints what it
returns. Results go to standard output (a table, or JSON with ``--json``); progress, notices
and errors go to standard error. Nothing printed holds a token or a credential.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from authgate.client.errors import LocalDataError
from authgate.client.sync_client import Client
from authgate.errors import AuthgateError

T = TypeVar("T")
err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)
SERVER = typer.Option(
    None, "--server", help="The authgate server (default: the last one, or AUTHGATE_URL)."
)
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
MAX_CELL = 60


def _notice(line: str) -> None:
    err.print(line, style="yellow", highlight=False)


@contextmanager
def _client(server: str | None) -> Iterator[Client]:
    try:
        client = Client(server, notice=_notice)
    except AuthgateError as error:
        _fail(error)
    with client:
        yield client


def _fail(error: AuthgateError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {error.message}", highlight=False)
    raise typer.Exit(1)


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except AuthgateError as error:
        raise _fail(error) from None


def parse_parameters(pairs: list[str]) -> dict[str, Any]:
    """``key=text`` gives a string; ``key:=json`` a JSON value (number, boolean, object…)."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise LocalDataError(f"parameter {pair[:64]!r} must be key=value or key:=json")
        if key.endswith(":"):
            try:
                parameters[key[:-1]] = json.loads(value)
            except json.JSONDecodeError:
                raise LocalDataError(f"parameter {key[:-1]!r} is not valid JSON") from None
        else:
            parameters[key] = value
    return parameters


def login(
    server: str | None = SERVER,
    email: str | None = typer.Option(None, "--email", help="Your email address."),
    organization: str | None = typer.Option(None, "--org", help="Organization slug."),
    sso: bool = typer.Option(False, "--sso", help="Sign in with your organization's SSO."),
    device_code: bool = typer.Option(
        False, "--device-code", help="Sign in on another device's browser (no browser here)."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Sign this device in; the tokens are kept in the keychain."""
    with _client(server) as client:
        if device_code:

            def show(started: Mapping[str, Any]) -> None:
                err.print(
                    f"Open {started['verification_uri']} and enter the code "
                    f"[bold]{started['user_code']}[/] (or open "
                    f"{started['verification_uri_complete']}). Waiting…",
                    highlight=False,
                )

            tokens = _run(lambda: client.login_device_code(show))
        elif sso:
            address = email or typer.prompt("Email")
            err.print("Opening the browser to sign in…")
            tokens = _run(lambda: client.login_sso(address, organization))
        else:
            address = email or typer.prompt("Email")
            if password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = typer.prompt("Password", hide_input=True)
            tokens = _run(lambda: client.login(address, password, organization))
        where = f" to {tokens.organization}" if tokens.organization else ""
        err.print(f"Signed in{where} at {client.home.server}.", highlight=False)


def logout(server: str | None = SERVER) -> None:
    """Sign out: end the session on the server, forget tokens and credentials here."""
    with _client(server) as client:
        had = _run(client.logout)
    err.print("Signed out." if had else "This device was not signed in.")


def whoami(server: str | None = SERVER, as_json: bool = JSON) -> None:
    """Who this device is signed in as."""
    with _client(server) as client:
        me = _run(client.whoami)
    if as_json:
        out.print(orjson.dumps(me, option=orjson.OPT_INDENT_2).decode())
        return
    out.print(f"{me['display_name']} <{me['email']}>")
    out.print(f"organization: {me['organization']}  roles: {', '.join(me['roles'])}")


def sync(solution: str, server: str | None = SERVER, as_json: bool = JSON) -> None:
    """Fetch a solution's definition and its local functions' credentials."""
    with _client(server) as client:
        report = _run(lambda: client.sync(solution))
    if as_json:
        body = {
            "solution": report.solution,
            "version": report.version,
            "changed": report.changed,
            "functions": list(report.functions),
            "localFunctions": list(report.local_functions),
            "credentials": list(report.credentials),
            "withheld": report.withheld,
        }
        out.print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return
    state = "updated" if report.changed else "unchanged"
    out.print(f"{report.solution}: version {report.version} ({state})")
    out.print(f"functions: {', '.join(report.functions) or '-'}")
    out.print(f"run on this device: {', '.join(report.local_functions) or '-'}")
    out.print(f"credentials in the keychain: {', '.join(report.credentials) or '-'}")
    for name, reason in report.withheld.items():
        out.print(f"not on this device: {name} ({reason})")


def call(
    solution: str,
    function: str,
    parameter: list[str] = typer.Option(
        [], "--param", "-p", help="key=value (a string) or key:=json; repeat for more."
    ),
    table: str | None = typer.Option(None, "--table", help="Local table (default: the function)."),
    server: str | None = SERVER,
    as_json: bool = JSON,
) -> None:
    """Call a function (in the cloud, or here for useLocalCall) and keep its records."""
    parameters = _run(lambda: parse_parameters(parameter))
    with _client(server) as client:
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        with progress:
            task = progress.add_task(f"{solution}/{function}", total=None)

            def on_page(pages: int) -> None:
                progress.update(task, description=f"{solution}/{function}: {pages} page(s)")

            outcome = _run(
                lambda: client.call(solution, function, parameters, table=table, on_page=on_page)
            )
    if as_json:
        body = {"records": outcome.records, "output": outcome.output, "pages": outcome.pages}
        out.print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        out.print(_table(outcome.records))
    err.print(
        f"{len(outcome.records)} record(s), {outcome.pages} page(s), run {outcome.ran}; "
        f"table {outcome.table} has {outcome.rows} row(s)",
        highlight=False,
    )


def data(
    solution: str,
    table: str | None = typer.Argument(None, help="A local table; omit it to list them."),
    ids: list[str] = typer.Option([], "--id", help="Only rows with this id (repeatable)."),
    where: list[str] = typer.Option([], "--where", help="field=value filter (repeatable)."),
    limit: int | None = typer.Option(None, "--limit", min=1),
    server: str | None = SERVER,
    as_json: bool = JSON,
) -> None:
    """Read results kept on this device (no server needed)."""
    with _client(server) as client:
        if table is None:
            infos = client.tables(solution)
            listing = Table("table", "function", "rows")
            for info in infos:
                listing.add_row(info.name, info.function, str(info.rows))
            out.print(listing)
            return
        filters = [tuple(w.split("=", 1)) for w in where if "=" in w]
        rows = _run(
            lambda: client.data(solution, table, ids=ids, where=filters, limit=limit)  # type: ignore[arg-type]
        )
    if as_json:
        out.print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    else:
        out.print(_table(rows))


def _table(records: list[Any]) -> Table:
    columns: list[str] = []
    for record in records:
        for key in record if isinstance(record, dict) else ("value",):
            if key not in columns:
                columns.append(key)
    view = Table(*columns) if columns else Table("(no records)")
    for record in records:
        row = record if isinstance(record, dict) else {"value": record}
        view.add_row(*(_cell(row.get(column)) for column in columns))
    return view


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def register(app: typer.Typer) -> None:
    """Add the device commands to the ``authgate`` command."""
    for command in (login, logout, whoami, sync, call, data):
        app.command(rich_help_panel="Device")(command)
