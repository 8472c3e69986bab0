"""`LineTable` draws exactly what rich's `Table` (`render.make_table`) draws, at any width,
and `fits` knows at which widths a table (either kind) shows every word."""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Callable

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from essence.cli.line_table import LineTable, fits

COLUMNS = ["case", "child", "home", "state", "done", "proj.", "risk", "waiting on"]
WHOLE = {"case": 12, "child": 13, "home": 6, "state": 6, "done": 5, "proj.": 5, "risk": 8}
COMPACT = ["case\nchild", "home", "state\ndone", "proj.\nrisk", "waiting on"]
COMPACT_WHOLE = {"case\nchild": 13, "home": 6, "state\ndone": 6, "proj.\nrisk": 6}
HOMES = ["Umeå", "Robertsfors", "Skellefteå", "Åsele", "Malå"]
NAMES = ["Alva Testsson", "Åsa Öberg-Lindqvist", "Li", "", "Anna Maria Ek "]
STATES = ["referred", "consented", "assessing", "feedback-given", "withdrawn"]
WAITS = [
    "intake ← coord-1",
    "team_conference ← md-1, psy-1, pt-1, slp-1",
    "language_assessment ← waiting on consent (1 of 2)",
    "medical_exam ← unassigned (on hold)",
    "x" * 45,
]
RISKS = [(">140 d", "bold red"), (">90 d", "yellow"), ("ok", "green")]


def _case_table(rng: random.Random, rows: int) -> LineTable:
    """A case list of made-up rows: plain and styled cells, one to four lines each."""
    table = LineTable(f"{rows} cases", COLUMNS, whole=WHOLE)
    for number in range(rows):
        state = rng.choice(STATES)
        table.add_row(
            rng.choice([f"c-{number:06d}", f"c-{rng.getrandbits(40):010x}"]),
            f"2021{rng.randint(101, 1231):04d}-****\n{rng.choice(NAMES)[:13]}",
            rng.choice(HOMES),
            [(state, ""), ("review", "magenta")] if rng.random() < 0.3 else state,
            f"{rng.randint(0, 15)}/15",
            rng.choice(["—", "45 d", "1234 d"]),
            [rng.choice(RISKS)],
            "\n".join(rng.sample(WAITS, rng.choice([0, 1, 2, 4]))),
        )
    return table


def _compact_case_table(rng: random.Random, rows: int) -> LineTable:
    """The same kind of rows in the compact layout: two-line headers, three-line cells."""
    table = LineTable(f"{rows} cases", COMPACT, whole=COMPACT_WHOLE)
    for number in range(rows):
        state = [(rng.choice(STATES), ""), (f"{rng.randint(0, 15)}/15", "")]
        table.add_row(
            f"c-{number:06d}\n2021{rng.randint(101, 1231):04d}-****\n{rng.choice(NAMES).strip()}",
            rng.choice(HOMES),
            [*state, ("review", "magenta")] if rng.random() < 0.3 else state,
            [(rng.choice(["—", "45 d", "1234 d"]), ""), rng.choice(RISKS)],
            "\n".join(rng.sample(WAITS, rng.choice([0, 1, 2, 4]))),
        )
    return table


LAYOUTS = [_case_table, _compact_case_table]


def _printed(
    renderable: object, width: int, *, colour: bool = False, ascii_only: bool = False
) -> str:
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="ascii" if ascii_only else "utf-8", errors="replace")
    console = Console(
        file=stream,
        width=width,
        force_terminal=colour,
        color_system="truecolor" if colour else None,
        legacy_windows=False,
    )
    console.print(renderable)
    stream.flush()
    return buffer.getvalue().decode("utf-8", "replace")


def _styled(ansi: str) -> list[list[tuple[str, str]]]:
    """Each character of a coloured rendering with its style (segment cuts do not matter)."""
    console = Console()
    lines = [Text.from_ansi(line) for line in ansi.split("\n")]
    return [
        [(c, str(t.get_style_at_offset(console, i))) for i, c in enumerate(t.plain)] for t in lines
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_line_table_matches_rich_at_every_width(
    seed: int, layout: Callable[[random.Random, int], LineTable]
) -> None:
    rng = random.Random(seed)
    for rows in (0, 1, 7):
        table = layout(rng, rows)
        reference = table.as_rich_table()
        for width in range(20, 221, 5):
            assert _printed(table, width) == _printed(reference, width), (rows, width)
        for width in (40, 80, 120, 200):
            drawn, expected = (
                _printed(table, width, colour=True),
                _printed(reference, width, colour=True),
            )
            assert _styled(drawn) == _styled(expected), (rows, width)


def test_a_line_table_keeps_every_column_readable_when_the_terminal_is_wide_enough() -> None:
    table = _case_table(random.Random(4), 3)
    lines = _printed(table, 200).splitlines()
    assert lines[2].split() == [
        "case",
        "child",
        "home",
        "state",
        "done",
        "proj.",
        "risk",
        "waiting",
        "on",
    ]
    assert all(len(line) <= 200 for line in lines)
    assert all(len(line) <= 80 for line in _printed(table, 80).splitlines())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_terminal_without_box_characters_gets_rich_itself(
    layout: Callable[[random.Random, int], LineTable],
) -> None:
    table = layout(random.Random(5), 3)
    assert _printed(table, 100, ascii_only=True) == _printed(
        table.as_rich_table(), 100, ascii_only=True
    )


def _boxed(table: LineTable) -> Table:
    """The same rows in rich's default table (heavy box, padded edges), as `essence audit`."""
    boxed = Table(title=table.title)
    for column in table.columns:
        boxed.add_column(column.header, no_wrap=column.whole is not None, min_width=column.whole)
    for cells in zip(*(c.cells for c in table.columns), strict=True):
        boxed.add_row(*("\n".join(line for line, _style in lines) for lines in cells))
    return boxed


def _words(table: LineTable) -> Counter[str]:
    texts = [table.title, *(c.header for c in table.columns)]
    texts += [line for c in table.columns for lines in c.cells for line, _style in lines]
    return Counter(word for text in texts for word in text.split())


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", [6, 7])
def test_a_table_fits_exactly_where_no_word_is_cut_or_squeezed_out(
    seed: int, layout: Callable[[random.Random, int], LineTable]
) -> None:
    rng = random.Random(seed)
    for rows in (1, 7):
        table = layout(rng, rows)
        words = _words(table)
        for drawn in (table, table.as_rich_table(), _boxed(table)):
            for width in range(20, 221, 5):
                shown = Counter(_printed(drawn, width).split())
                assert fits(drawn, width) == (not words - shown), (type(drawn), rows, width)
