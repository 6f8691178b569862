"""``authgate solution``: publish solution folders and grant their use, on the server's machine."""

from __future__ import annotations

from pathlib import Path

import typer

from authgate.cli.common import fail, out, run, runtime, settings_or_exit
from authgate.errors import AuthgateError
from authgate.functions.folder import read_solution_folder
from authgate.functions.ports import SolutionRole
from authgate.identity.deps import Actor

app = typer.Typer(help="Solutions: publish folders of functions.", no_args_is_help=True)

CLI_ACTOR = Actor(None, "cli")


@app.command()
def publish(
    folder: Path = typer.Argument(..., help="The solution folder (with solution.yaml)."),
    org: str = typer.Option(..., help="The organization's slug."),
    name: str = typer.Option("", help="The solution's name (default: from solution.yaml)."),
) -> None:
    """Validate the folder and publish it as the solution's next version."""
    settings = settings_or_exit()
    try:
        files = read_solution_folder(folder)
    except AuthgateError as exc:
        fail(exc.message, 1)

    async def main() -> None:
        async with runtime(settings) as rt:
            solutions = rt.services.solutions
            published = await solutions.publish_as_operator(org, name or None, files, CLI_ACTOR)
            for warning in published.warnings:
                out.print(f"warning: {warning}", highlight=False)
            out.print(
                f"Published [bold]{published.solution.name}[/] version "
                f"{published.solution.version} in {org}.",
                highlight=False,
            )

    run(main)


@app.command()
def grant(
    solution: str = typer.Argument(..., help="The solution's name."),
    org: str = typer.Option(..., help="The organization's slug."),
    email: str = typer.Option(..., help="A member of the organization."),
    role: SolutionRole = typer.Option(SolutionRole.USER, help="USER calls; MAKER also publishes."),
) -> None:
    """Let a member of the organization use the solution (or change their role in it)."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            await rt.services.solutions.grant_as_operator(org, solution, email, role, CLI_ACTOR)
            out.print(f"{email} is now {role.value} of {solution}.", highlight=False)

    run(main)


@app.command("list")
def list_solutions(org: str = typer.Option(..., help="The organization's slug.")) -> None:
    """The organization's solutions and the version in force of each."""
    settings = settings_or_exit()

    async def main() -> None:
        async with runtime(settings) as rt:
            for record in await rt.services.solutions.list_as_operator(org):
                out.print(
                    f"{record.name}  version {record.version}  {record.title or ''}",
                    highlight=False,
                )

    run(main)
