"""Long lists drawn line by line in the layout of `make_table`'s rich tables.

A rich `Table` renders every cell through its own renderables (padding, text, measurement),
about half a millisecond a cell: 80 ms for the 101 open cases of `essence case list`. A
`LineTable` lays out the same table (the same column widths, wrapping, ellipses, cropping
and styles, at any terminal width) from plain strings and yields the finished lines as
rich segments, in a few milliseconds. Cells are strings, or lines with a style each.
`fits` tells whether a table (a `LineTable` or a rich `Table`) shows every word at a width,
so a renderer can fall back to a more compact layout before rich cuts ids with "…".
Nothing here reads the environment or the terminal (the worker may preload it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.table import Table

#: A cell: text (lines separated by "\n"), or its lines each with a rich style ("" = none).
Cell = str | Sequence[tuple[str, str]]
_Run = tuple[str, str]  # a piece of an output line and its style

TITLE_STYLE = "italic"  # rich's "table.title"
HEADER_STYLE = "bold"  # rich's "table.header"
RULE = "─"  # the line under the header (box.SIMPLE_HEAD)


@dataclass
class _Column:
    header: str
    whole: int | None  # minimum width of a column that never wraps (None: wraps)
    cells: list[list[_Run]] = field(default_factory=list)
    _sizes: list[tuple[int, int]] | None = None

    def header_lines(self, style: str = "") -> list[_Run]:
        """The header, a line each (a header may hold several, separated by "\n")."""
        return [(line, style) for line in self.header.split("\n")]

    def sizes(self) -> list[tuple[int, int]]:
        """(longest word, longest line) of the header and of every cell, in cells."""
        if self._sizes is None:
            self._sizes = [_size(self.header_lines()), *(_size(lines) for lines in self.cells)]
        return self._sizes

    def shown_whole(self, width: int) -> bool:
        """Whether a column `width` cells wide (without padding) cuts nothing: it holds every
        word, and every line if the column never wraps."""
        longest = (line if self.whole is not None else word for word, line in self.sizes())
        return max(longest, default=0) <= width


class LineTable:
    """A table like `render.make_table(title, columns, whole=...)`, cheap for many rows.

    Args:
        title: Shown above the table, in italics.
        columns: Column headers, left to right; "\n" starts a new header line.
        whole: Columns that never wrap, with their minimum width in characters (ids,
            dates); a narrow terminal squeezes the other columns first, as in rich.

    Example:
        >>> table = LineTable("2 cases", ["case", "waiting on"], whole={"case": 12})
        >>> table.add_row("c-7f3a9e1b2c", "intake ← coord-1")
        >>> table.add_row("c-0b1c2d3e4f", [("consent", ""), ("1 of 2", "yellow")])
    """

    def __init__(
        self, title: str, columns: Sequence[str], *, whole: dict[str, int] | None = None
    ) -> None:
        self.title = title
        self.columns = [_Column(name, (whole or {}).get(name)) for name in columns]

    def add_row(self, *cells: Cell) -> None:
        """Add a row: one cell per column, in order."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        for column, cell in zip(self.columns, cells, strict=True):
            column.cells.append(
                [(line, "") for line in cell.split("\n")] if isinstance(cell, str) else list(cell)
            )

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[Segment | Table]:
        if options.ascii_only or options.legacy_windows:  # rich draws another box there
            yield self.as_rich_table()
            return
        count = len(self.columns)
        pads = [_padding(index, count) for index in range(count)]
        widths = _widths(self.columns, options.max_width - (count + 1), pads)  # edges, dividers
        table_width = sum(widths) + count + 1
        styles: dict[str, Style | None] = {"": None}

        def style_of(name: str) -> Style | None:
            if name not in styles:
                styles[name] = console.get_style(name)
            return styles[name]

        if self.title:
            title = Text(self.title, style=TITLE_STYLE)
            for line in title.wrap(console, table_width, justify="left"):
                yield Segment(line.plain, style_of(TITLE_STYLE))
                yield Segment.line()
        yield Segment(" " * table_width)  # the top edge of box.SIMPLE_HEAD is blank
        yield Segment.line()
        header = [c.header_lines(HEADER_STYLE) for c in self.columns]
        rows: Iterable[list[list[_Run]]] = zip(*(c.cells for c in self.columns), strict=True)
        for number, cells in enumerate([header, *rows]):
            for runs in self._row_lines(console, cells, widths, pads, header=number == 0):
                for text, style in runs:
                    yield Segment(text, style_of(style))
                yield Segment.line()
            if number == 0:
                yield Segment(f" {RULE * (table_width - 2)} ")
                yield Segment.line()
        yield Segment(" " * table_width)
        yield Segment.line()

    def as_rich_table(self) -> Table:
        """The same table as a rich `Table` (slower; for terminals without box lines)."""
        from essence.cli.render import make_table

        whole = {c.header: c.whole for c in self.columns if c.whole is not None}
        table = make_table(self.title, [c.header for c in self.columns], whole=whole)
        for cells in zip(*(c.cells for c in self.columns), strict=True):
            table.add_row(*(_text(lines) for lines in cells))
        return table

    def fits(self, width: int) -> bool:
        """Whether the table shows everything at `width` terminal columns: every column at
        least as wide as its longest word, and as its longest line if it never wraps."""
        count = len(self.columns)
        pads = [_padding(index, count) for index in range(count)]
        return _shown_whole(self.columns, pads, width - (count + 1))

    def _row_lines(
        self,
        console: Console,
        cells: list[list[_Run]],
        widths: list[int],
        pads: list[int],
        *,
        header: bool,
    ) -> list[list[_Run]]:
        """The output lines of one row: cells fitted, padded and side by side."""
        count = len(cells)
        fitted = [
            _fit(console, lines, width - pad, column.whole is None)
            for lines, width, pad, column in zip(cells, widths, pads, self.columns, strict=True)
        ]
        height = max(1, *(len(lines) for lines in fitted))
        output: list[list[_Run]] = []
        cell_style = HEADER_STYLE if header else ""
        for number in range(height):
            runs: list[_Run] = [(" ", "")]
            for index, (lines, width) in enumerate(zip(fitted, widths, strict=True)):
                blank = height - len(lines)  # headers sit at the bottom, rows at the top
                at = number - blank if header else number
                text, style = lines[at] if 0 <= at < len(lines) else ("", "")
                left = " " if index else ""
                right = " " if index < count - 1 else ""
                inner = width - len(left) - len(right)
                if inner < 1:  # no room for text: rich leaves the cell blank
                    left, right, text, inner = " " * width, "", "", 0
                _add(runs, left, cell_style)
                _add(runs, text, style or cell_style)
                _add(runs, " " * (inner - cell_len(text)) + right, cell_style)
                _add(runs, " " if index < count - 1 else "", "")
            _add(runs, " ", "")
            output.append(runs)
        return output


def fits(table: LineTable | Table, width: int) -> bool:
    """Whether `table` shows everything at `width` terminal columns, nothing cut with "…".

    Args:
        table: A `LineTable`, or a rich `Table` of strings (rich markup) and `Text` cells.
        width: The terminal's width in columns.

    Example:
        >>> wide = LineTable("", ["case", "waiting on"], whole={"case": 12})
        >>> wide.add_row("c-7f3a9e1b2c", "team_conference ← md-1, psy-1")
        >>> fits(wide, 80), fits(wide, 20)
        (True, False)
    """
    if isinstance(table, LineTable):
        return table.fits(width)
    columns = [
        _Column(
            _plain(column.header),
            (column.min_width or 0) if column.no_wrap else None,
            [[(line, "") for line in _plain(cell).split("\n")] for cell in column.cells],
        )
        for column in table.columns
    ]
    count = len(columns)
    _top, right, _bottom, left = table.padding
    pads = [
        (left if table.pad_edge or index > 0 else 0)
        + (right if table.pad_edge or index < count - 1 else 0)
        for index in range(count)
    ]
    edges = (2 if table.box and table.show_edge else 0) + (count - 1 if table.box else 0)
    return _shown_whole(columns, pads, width - edges)


def _plain(cell: object) -> str:
    """The text of a rich table's cell or header (markup taken out)."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    raise TypeError(f"cannot measure a {type(cell).__name__} cell")


def _shown_whole(columns: list[_Column], pads: list[int], max_width: int) -> bool:
    """Whether columns laid out within `max_width` (cells, without edges) cut nothing."""
    widths = _widths(columns, max_width, pads)
    return all(
        column.shown_whole(width - pad)
        for column, width, pad in zip(columns, widths, pads, strict=True)
    )


def _widths(columns: list[_Column], max_width: int, pads: list[int]) -> list[int]:
    """Each column's width with its padding, as rich's `Table` would choose it."""
    natural = [_measure(column, max_width, pad) for column, pad in zip(columns, pads, strict=True)]
    widths = [high or 1 for _low, high in natural]
    if sum(widths) <= max_width:
        return widths
    wrapable = [column.whole is None for column in columns]
    widths = _collapse(widths, wrapable, max_width)
    if sum(widths) > max_width:  # last resort: reduce every column evenly
        widths = _ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
    return [
        _measure(column, width, pad)[1] or 0
        for column, width, pad in zip(columns, widths, pads, strict=True)
    ]


def _padding(index: int, count: int) -> int:
    """Left and right padding of a column: one space each, none at the table's edges."""
    return (1 if index > 0 else 0) + (1 if index < count - 1 else 0)


def _measure(column: _Column, max_width: int, pad: int) -> tuple[int, int]:
    """(minimum, maximum) width of a column with its padding, within `max_width`."""
    if max_width < 1:
        return 0, 0
    low, high = 0, 0
    for size in column.sizes():
        cell_low, cell_high = _measure_cell(size, max_width, pad)
        low, high = max(low, cell_low), max(high, cell_high)
    low, high = min(low, max_width), min(high, max_width)
    if column.whole is not None:
        low, high = max(low, column.whole + pad), max(high, column.whole + pad)
    return low, high


def _size(lines: list[_Run]) -> tuple[int, int]:
    """(longest word, longest line) of a cell, in terminal cells."""
    longest_line = max((cell_len(text) for text, _style in lines), default=0)
    words = [word for text, _style in lines for word in text.split()]
    return max(map(cell_len, words), default=longest_line), longest_line


def _measure_cell(size: tuple[int, int], max_width: int, pad: int) -> tuple[int, int]:
    """Like rich's measurement of a padded text cell of `size` within `max_width`."""
    if max_width - pad < 1:
        return max_width, max_width
    low, high = _normalise(size[0], min(size[1], max_width))
    if high < 1:
        low, high = 0, 0
    low, high = low + pad, min(high + pad, max_width)
    return _normalise(min(low, high), high)


def _normalise(low: int, high: int) -> tuple[int, int]:
    low = min(max(0, low), high)
    return max(0, low), max(0, low, high)


def _collapse(widths: list[int], wrapable: list[bool], max_width: int) -> list[int]:
    """Shrink the widest wrapping columns until the table fits (rich's `_collapse_widths`)."""
    total = sum(widths)
    excess = total - max_width
    if not any(wrapable):
        return widths
    while total and excess > 0:
        widest = max(w for w, wraps in zip(widths, wrapable, strict=True) if wraps)
        second = max(
            w if wraps and w != widest else 0 for w, wraps in zip(widths, wrapable, strict=True)
        )
        ratios = [
            1 if (w == widest and wraps) else 0 for w, wraps in zip(widths, wrapable, strict=True)
        ]
        if not any(ratios) or not widest - second:
            break
        widths = _ratio_reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        total = sum(widths)
        excess = total - max_width
    return widths


def _ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """Take `total` off `values` in proportion to `ratios`, at most `maximums` each."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result: list[int] = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            taken = min(most, round(ratio * remaining / total_ratio))
            result.append(value - taken)
            remaining -= taken
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _fit(console: Console, lines: list[_Run], width: int, wraps: bool) -> list[_Run]:
    """A cell's lines within `width`: wrapped at words, or cut with an ellipsis."""
    if width < 1:
        return []
    fitted: list[_Run] = []
    for text, style in lines:
        if cell_len(text) <= width:
            fitted.append((text, style))
        elif wraps:
            wrapped = Text(text).wrap(console, width, justify="left", overflow="ellipsis")
            fitted.extend((line.plain.rstrip(" "), style) for line in wrapped)
        else:
            fitted.append((_truncate(text, width), style))
    return fitted


def _truncate(text: str, width: int) -> str:
    """Cut `text` to `width` cells ending in "…" (rich's ellipsis overflow; trailing
    blanks beyond the width go first)."""
    blanks = len(text) - len(text.rstrip())
    if blanks and len(text) > width:
        text = text[: len(text) - min(blanks, len(text) - width)]
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…"


def _text(lines: list[_Run]) -> Text:
    text = Text()
    for number, (line, style) in enumerate(lines):
        if number:
            text.append("\n")
        text.append(line, style or None)
    return text


def _add(runs: list[_Run], text: str, style: str) -> None:
    """Append a run, merged with the previous one when they share a style."""
    if not text:
        return
    if runs and runs[-1][1] == style:
        runs[-1] = (runs[-1][0] + text, style)
    else:
        runs.append((text, style))
