"""Lazy commands: the root group imports a command's module only when that command runs.

Building every typer command (and importing every module behind it) costs more than most
commands themselves, so the root app names its nouns and commands as ``"module:attribute"``
strings instead of importing them. To add a command, add one line to ``LAZY_COMMANDS`` in
``essence/cli/app.py``::

    "case": "essence.cli.cases:app",            # a typer sub-app → `essence case …`
    "worklist": "essence.cli.steps:worklist_command",  # a function → `essence worklist`

and keep the module itself light at import time: import services, rendering and heavy
libraries inside the command functions (as the existing modules do). An entry may also be
the sub-app or function itself (already imported); it is then only built lazily.
`essence --help`, shell completion and a mistyped command load every entry, so they list
all of them; help lists plain commands first, then the nouns (typer's order).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup


class LazyGroup(TyperGroup):
    """A typer group that loads the commands named in `lazy_commands` on first use.

    Attributes:
        lazy_commands: command name → ``"module:attribute"`` of a ``typer.Typer`` sub-app or
            a command function (or the object itself), in the order help lists them.
    """

    lazy_commands: ClassVar[dict[str, object]] = {}

    def _load(self, name: str) -> None:
        if name in self.commands or name not in self.lazy_commands:
            return
        target = self.lazy_commands[name]
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            target = getattr(import_module(module), attribute)
        holder = typer.Typer(rich_markup_mode=getattr(self, "rich_markup_mode", "rich"))
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name)
        else:
            holder.command(name)(target)
        holder.callback()(_no_options)
        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        self.add_command(group.commands[name], name)

    def _load_all(self) -> None:
        for name in self.lazy_commands:
            self._load(name)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        self._load_all()
        names = super().list_commands(ctx)
        lazy = [n for n in self.lazy_commands if n in self.commands]
        plain = [n for n in lazy if not isinstance(self.commands[n], TyperGroup)]
        groups = [n for n in lazy if n not in plain]
        return [*plain, *(n for n in names if n not in lazy), *groups]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            if args[0] in self.lazy_commands:
                self._load(args[0])
            else:  # a typo: load all, so the suggestions name every command
                self._load_all()
        return super().resolve_command(ctx, args)


def _no_options() -> None:
    """Placeholder callback that keeps a single loaded command inside a group."""
