"""Read PSPLIB single-mode RCPSP files (`.sm`) and solution lists (e.g. `j30hrs.sm`).

Malformed or truncated input raises `InvalidInput` naming the file and the line or section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from essence.domain.errors import InvalidInput
from essence.scheduling.rcpsp import RcpspInstance

_FIELD = "psplib file"
_SOLUTIONS_FIELD = "psplib solutions"
_SEPARATOR = re.compile(r"^[*=\-]{5,}\s*$")


@dataclass
class _Lines:
    """The lines of one file with a cursor, for error messages naming file and line."""

    name: str
    lines: list[str]
    position: int = 0

    def fail(self, reason: str) -> InvalidInput:
        return InvalidInput(_FIELD, self.name, reason)

    def find(self, prefix: str) -> int:
        """Move past the first line starting with `prefix` (case-insensitive); its number."""
        wanted = prefix.lower()
        for number in range(self.position, len(self.lines)):
            if self.lines[number].strip().lower().startswith(wanted):
                self.position = number + 1
                return number
        raise self.fail(f"truncated: section {prefix!r} not found")

    def data_rows(self, section: str, expected: int) -> Iterator[tuple[int, list[int]]]:
        """Yield (line number, integers) for the next `expected` data lines of a section."""
        found = 0
        while found < expected:
            if self.position >= len(self.lines) or _SEPARATOR.match(self.lines[self.position]):
                raise self.fail(f"truncated: expected {expected} jobs in {section}, found {found}")
            number = self.position
            self.position += 1
            if self.lines[number].strip():
                found += 1
                yield number + 1, self.integers(number)

    def integers(self, number: int) -> list[int]:
        text = self.lines[number]
        try:
            return [int(token) for token in text.split()]
        except ValueError:
            raise self.fail(
                f"line {number + 1}: expected integers, found {text.strip()!r}"
            ) from None


def read_sm(path: str | Path) -> RcpspInstance:
    """Parse a PSPLIB single-mode `.sm` file into a validated RcpspInstance.

    Only renewable resources are kept; jobs are numbered as in the file (1..n).

    Raises:
        InvalidInput: The file is missing, truncated, malformed or describes an invalid
            instance; the message names the file (basename) and the line or section.
    """
    file = Path(path)
    return parse_sm(_read_text(file, _FIELD), file.name)


def parse_sm(text: str, name: str) -> RcpspInstance:
    """Parse the text of a PSPLIB `.sm` file; `name` labels the instance and the errors."""
    lines = _Lines(name, text.splitlines())
    jobs = _header_value(lines, "jobs (incl. supersource/sink )")
    renewable = _header_value(lines, "  - renewable")
    nonrenewable = _header_value(lines, "  - nonrenewable")
    doubly = _header_value(lines, "  - doubly constrained")
    successors = _precedences(lines, jobs)
    durations, demands = _requests(lines, jobs, renewable + nonrenewable + doubly)
    capacities = _availabilities(lines, renewable + nonrenewable + doubly)
    try:
        return RcpspInstance(
            name=name,
            jobs=tuple(range(1, jobs + 1)),
            durations=durations,
            successors=successors,
            demands=tuple(d[:renewable] for d in demands),
            capacities=capacities[:renewable],
        )
    except InvalidInput as error:
        raise lines.fail(f"invalid instance: {error}") from None


def _header_value(lines: _Lines, label: str) -> int:
    """The integer after the colon of a header line such as 'jobs (...):  32'."""
    number = lines.find(label.strip())
    match = re.search(r":\s*(\d+)", lines.lines[number])
    if match is None:
        raise lines.fail(f"line {number + 1}: expected a number after {label.strip()!r}")
    return int(match.group(1))


def _precedences(lines: _Lines, jobs: int) -> list[tuple[int, ...]]:
    """Successor lists from PRECEDENCE RELATIONS: jobnr, #modes, #successors, successors."""
    lines.find("PRECEDENCE RELATIONS")
    lines.find("jobnr.")
    successors: list[tuple[int, ...]] = [()] * jobs
    for number, row in lines.data_rows("PRECEDENCE RELATIONS", jobs):
        if len(row) < 3 or len(row) != 3 + row[2]:
            raise lines.fail(f"line {number}: malformed precedence row")
        _check_job_number(lines, number, row[0], jobs)
        if row[1] != 1:
            raise lines.fail(f"line {number}: job {row[0]} has {row[1]} modes, expected 1")
        successors[row[0] - 1] = tuple(row[3:])
    return successors


def _requests(lines: _Lines, jobs: int, resources: int) -> tuple[list[int], list[tuple[int, ...]]]:
    """Durations and demands from REQUESTS/DURATIONS: jobnr, mode, duration, demands."""
    lines.find("REQUESTS/DURATIONS")
    lines.find("jobnr.")
    if lines.position < len(lines.lines) and lines.lines[lines.position].startswith("---"):
        lines.position += 1
    durations, demands = [0] * jobs, [()] * jobs
    for number, row in lines.data_rows("REQUESTS/DURATIONS", jobs):
        if len(row) != 3 + resources:
            raise lines.fail(
                f"line {number}: expected {3 + resources} numbers in a request row, "
                f"found {len(row)}"
            )
        _check_job_number(lines, number, row[0], jobs)
        durations[row[0] - 1] = row[2]
        demands[row[0] - 1] = tuple(row[3:])
    return durations, demands


def _availabilities(lines: _Lines, resources: int) -> tuple[int, ...]:
    """Capacities from RESOURCEAVAILABILITIES (a label line, then one line of numbers)."""
    lines.find("RESOURCEAVAILABILITIES")
    lines.position += 1  # the "R 1  R 2 ..." label line
    if lines.position >= len(lines.lines):
        raise lines.fail("truncated: no values in RESOURCEAVAILABILITIES")
    values = lines.integers(lines.position)
    if len(values) != resources:
        raise lines.fail(
            f"line {lines.position + 1}: expected {resources} resource capacities, "
            f"found {len(values)}"
        )
    return tuple(values)


def _check_job_number(lines: _Lines, number: int, job: int, jobs: int) -> None:
    if not 1 <= job <= jobs:
        raise lines.fail(f"line {number}: job number {job} outside 1..{jobs}")


def read_solutions(path: str | Path) -> dict[str, int]:
    """Parse a PSPLIB solution list (e.g. `j30hrs.sm`) into {instance file name: makespan}.

    The family prefix comes from the file name (`j30hrs.sm` -> `j30`), so the row
    `Par=1, Inst=2, Makespan=47` becomes `{"j301_2.sm": 47}`.

    Raises:
        InvalidInput: The file is missing, empty or has a malformed data row.
    """
    file = Path(path)
    text = _read_text(file, _SOLUTIONS_FIELD)
    prefix = re.match(r"[a-zA-Z]+\d+", file.name)
    family = prefix.group(0) if prefix else "j30"
    solutions: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens or not tokens[0].isdigit():
            continue
        if len(tokens) < 3 or not (tokens[1].isdigit() and tokens[2].isdigit()):
            raise InvalidInput(_SOLUTIONS_FIELD, file.name, f"line {number}: malformed row")
        solutions[f"{family}{tokens[0]}_{tokens[1]}.sm"] = int(tokens[2])
    if not solutions:
        raise InvalidInput(_SOLUTIONS_FIELD, file.name, "no solution rows found")
    return solutions


def _read_text(file: Path, field: str) -> str:
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise InvalidInput(field, file.name, "file not found") from None
    except OSError as error:
        raise InvalidInput(field, file.name, f"cannot read: {error.strerror}") from None
