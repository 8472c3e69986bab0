"""Draw a pathway template as a rich tree, marking the critical path."""

from __future__ import annotations

from rich.tree import Tree

from essence.cli.render import console
from essence.domain.pathway import PathwayTemplate


def _label(template: PathwayTemplate, key: str, critical: set[str]) -> str:
    step = template.step(key)
    who = " + ".join(p.value for p in step.professions) or "waiting"
    size = f"{step.wait_days} d wait" if step.is_waiting else f"{step.minutes} min"
    attendees = f", with {', '.join(a.value for a in step.attendees)}" if step.attendees else ""
    text = f"{key}: {step.title} [dim]({who}, {size}{attendees}, ~{template.lead_days(key)} d)[/]"
    return f"[bold red]★ {text}[/]" if key in critical else text


def render_pathway(template: PathwayTemplate) -> None:
    """Print the DAG as a tree from the roots; a step with several prerequisites hangs under
    the one on the critical path (or its first) and names the others."""
    path = template.critical_path()
    critical = set(path.steps)
    root = Tree(f"[bold]{template.name}[/] v{template.version} — {template.description}")
    nodes: dict[str, Tree] = {}
    for key in template.topological_order():
        step = template.step(key)
        label = _label(template, key, critical)
        if not step.requires:
            nodes[key] = root.add(label)
            continue
        parent = next((r for r in step.requires if r in critical), step.requires[0])
        others = [r for r in step.requires if r != parent]
        if others:
            label += f" [dim]+ after {', '.join(others)}[/]"
        nodes[key] = nodes[parent].add(label)
    console.print(root)
    console.print(
        f"critical path: {' → '.join(path.steps)} = [bold]{path.days} days[/] "
        f"({path.staff_minutes} staff minutes on it)"
    )
