"""The README's CLI tour runs as written: every command of its bash block, in order, on a
fresh database (the block is parsed from README.md, so the two cannot drift apart)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from essence.cli.app import app

REPO = Path(__file__).resolve().parents[2]
CASE_ID = re.compile(r"\bc-[0-9a-f]{10}\b")


def tour_commands(readme: str) -> list[str]:
    """The commands of the first bash block after "A quick tour of the CLI", one per
    entry, continuation lines joined."""
    section = readme[readme.index("## A quick tour of the CLI") :]
    block = section[section.index("```bash\n") + len("```bash\n") :]
    block = block[: block.index("```")]
    commands: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            commands.append(full)
    return commands


def test_the_tour_parses_into_essence_commands() -> None:
    commands = tour_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert len(commands) > 20
    for command in commands:
        words = shlex.split(command, comments=True)
        assert words[0] in ("essence", "export"), command


@pytest.mark.slow
def test_the_readme_tour_runs_command_by_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pathway = tmp_path / "essence" / "pathways"
    pathway.mkdir(parents=True)
    shutil.copy(REPO / "essence" / "pathways" / "essence-default.yaml", pathway)
    monkeypatch.chdir(tmp_path)
    env = {"ESSENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'essence.db'}", "ESSENCE_USER": ""}
    monkeypatch.delenv("ESSENCE_USER", raising=False)
    case_id = ""
    ran = 0
    for command in tour_commands((REPO / "README.md").read_text(encoding="utf-8")):
        words = shlex.split(command, comments=True)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            env[name] = value
            continue
        args = [case_id if w == "c-…" else w for w in words[1:]]
        assert "c-…" not in args or case_id, f"no case id yet for: {command}"
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, f"{command}\n{result.output}"
        ran += 1
        if args[:2] == ["case", "open"]:
            found = CASE_ID.search(result.stdout)
            assert found, result.stdout
            case_id = found.group(0)
    assert ran > 20
    assert (tmp_path / "letter.txt").read_text(encoding="utf-8").startswith("Dear family")
    assert "BEGIN:VCALENDAR" in (tmp_path / "psy-1.ics").read_text(encoding="utf-8")
