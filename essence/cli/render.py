"""Shared terminal output: one rich console for results, one for errors, JSON for scripts."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from rich.console import Console

console = Console()
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def print_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout (dates ISO 8601, enums by value)."""
    print(json.dumps(data, default=_default, ensure_ascii=False, indent=2))


def make_table(title: str, columns: list[str], *, whole: dict[str, int] | None = None) -> Any:
    """A compact rich table; columns in `whole` (ids, dates) get that minimum width and never
    wrap, so a narrow terminal squeezes the free-text columns instead."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for column in columns:
        width = (whole or {}).get(column)
        table.add_column(column, no_wrap=width is not None, min_width=width)
    return table


def print_fitting(*layouts: Any) -> None:
    """Print the first of `layouts` (tables, widest first) that shows everything at the
    console's width, nothing cut with "…"; the last, most compact one if none does.

    Args:
        layouts: The same rows as `LineTable`s or rich `Table`s, in order of preference.
    """
    from essence.cli.line_table import fits

    width = console.width
    chosen = next((layout for layout in layouts[:-1] if fits(layout, width)), layouts[-1])
    console.print(chosen)
