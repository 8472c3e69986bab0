"""`essence pathway …`: show the DAG with its critical path, validate and store templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from essence.cli.common import JsonOption, emit, service_context

app = typer.Typer(help="Show, validate and store pathway templates.", no_args_is_help=True)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Template name.")] = "essence-default",
    version: Annotated[int | None, typer.Option(help="Version (default: newest).")] = None,
    file: Annotated[
        Path | None, typer.Option(help="Show a template file instead of a stored one.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Draw the pathway as a tree with the critical path and its length."""
    from essence.cli.render_pathway import render_pathway

    if file is not None:
        from essence.adapters.pathway_files import read_template_file

        template = read_template_file(file)
    else:
        from essence.services.setup import get_pathway

        template = get_pathway(service_context(), name, version)
    emit(template, as_json, render_pathway)


@app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="YAML or JSON template file.")]) -> None:
    """Check a template file: schema, professions, durations, prerequisites, cycles."""
    from essence.adapters.pathway_files import read_template_file
    from essence.cli.render import console

    template = read_template_file(file)
    path = template.critical_path()
    console.print(
        f"[green]valid[/]: {template.name} v{template.version}, {len(template.steps)} steps, "
        f"critical path {path.days} days ({' → '.join(path.steps)})"
    )


@app.command("load")
def load(file: Annotated[Path, typer.Argument(help="YAML or JSON template file.")]) -> None:
    """Store a new template version; running cases keep the version they started with."""
    from essence.adapters.pathway_files import read_template_file
    from essence.cli.render import console
    from essence.services.setup import store_pathway

    template = store_pathway(service_context(), read_template_file(file))
    console.print(f"stored {template.name} v{template.version} ({template.fingerprint()})")


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every stored template version."""
    from essence.cli.render import console
    from essence.services.setup import list_pathways

    templates = list_pathways(service_context())
    rows = [
        {
            "name": t.name,
            "version": t.version,
            "steps": len(t.steps),
            "fingerprint": t.fingerprint(),
        }
        for t in templates
    ]

    def render(data: list[dict[str, object]]) -> None:
        for row in data:
            console.print(
                f"{row['name']} v{row['version']}: {row['steps']} steps ({row['fingerprint']})"
            )

    emit(rows, as_json, render)
