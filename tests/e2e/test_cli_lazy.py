"""The CLI builds and imports only the command that runs; help still lists every command."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from essence.cli.app import LAZY_COMMANDS, app


def _modules_after(*args: str) -> set[str]:
    code = (
        "import sys; from essence.cli.app import app\n"
        "try:\n"
        f"    app({list(args)!r}, standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_a_command_imports_only_its_own_cli_module() -> None:
    loaded = _modules_after("worklist", "--help")
    assert "essence.cli.steps" in loaded
    for other in ("essence.cli.bench", "essence.cli.simulate", "essence.cli.schedule"):
        assert other not in loaded
    assert "rich.progress" not in loaded
    assert "sqlalchemy" not in loaded  # help needs no database


def test_help_lists_every_command_and_typos_get_suggestions() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["--help"])
    assert shown.exit_code == 0
    for name in LAZY_COMMANDS:
        assert name in shown.output
    typo = runner.invoke(app, ["workist"])
    assert typo.exit_code == 2
    assert "worklist" in typo.output


def test_lazy_nouns_keep_their_subcommands() -> None:
    shown = CliRunner().invoke(app, ["step", "--help"])
    assert shown.exit_code == 0
    for sub in ("start", "complete", "hold", "resume", "cancel", "assign"):
        assert sub in shown.output
