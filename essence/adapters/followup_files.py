"""The term follow-up as files: one CSV per breakdown, or one workbook with a sheet each.

Numbers stay numbers (shares as fractions 0..1, formatted as percent in the workbook);
suppressed or missing figures are empty cells, never zeros.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from essence.domain.errors import InvalidInput
from essence.services.followup import FollowUpView, GroupRow

COLUMNS: tuple[str, ...] = (
    "group",
    "children",
    "consent_share",
    "sip_share",
    "with_feedback",
    "median_lead_time_days",
    "p90_lead_time_days",
    "share_within_90_days",
    "share_within_140_days",
    "median_days_saved",
    "visit_days_mean",
    "family_km_total",
    "family_km_mean",
    "no_shows",
    "suppressed",
)
SHARE_COLUMNS = frozenset(
    {"consent_share", "sip_share", "share_within_90_days", "share_within_140_days"}
)
Cell = str | int | float | bool | None


def tables(view: FollowUpView) -> dict[str, list[list[Cell]]]:
    """Every table of the report (header row first): about, overall and each breakdown."""
    about: list[list[Cell]] = [
        ["figure", "value"],
        ["period", view.period],
        ["first_day", view.first_day.isoformat()],
        ["last_day", view.last_day.isoformat()],
        ["as_of", view.as_of.isoformat()],
        ["baseline_days", view.baseline_days],
        ["guarantee_days", view.guarantee_days],
        ["consent_target", view.consent_target],
        ["sip_target", view.sip_target],
        ["suppress_below", view.suppress_below],
    ]
    out: dict[str, list[list[Cell]]] = {"about": about, "overall": _rows([view.overall])}
    for dimension, rows in view.breakdowns.items():
        out[f"by_{dimension}"] = _rows(rows)
    return out


def _rows(rows: list[GroupRow]) -> list[list[Cell]]:
    header: list[Cell] = list(COLUMNS)
    return [header, *([getattr(r, c) for c in COLUMNS] for r in rows)]


def write_csv(view: FollowUpView, directory: Path) -> list[Path]:
    """Write one CSV per table into `directory` (created if missing); returns the files.

    Raises:
        InvalidInput: field ``csv`` when the directory cannot be written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, rows in tables(view).items():
            path = directory / f"followup-{view.period}-{name}.csv"
            buffer = io.StringIO()
            csv.writer(buffer).writerows(["" if c is None else c for c in row] for row in rows)
            path.write_text(buffer.getvalue(), encoding="utf-8")
            written.append(path)
    except OSError as error:
        raise InvalidInput("csv", str(directory), error.strerror or "cannot write") from None
    return written


def xlsx_bytes(view: FollowUpView) -> bytes:
    """The report as an Excel workbook: one sheet per table, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in tables(view).items():
        sheet = book.create_sheet(title=name[:31])
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        header = [str(c) for c in rows[0]]
        for index, column in enumerate(header, start=1):
            if column in SHARE_COLUMNS:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.0%"
            width = max(len(str(r[index - 1] or "")) for r in rows) + 2
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width, 30)
        sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_xlsx(view: FollowUpView, path: Path) -> Path:
    """Write the workbook to `path`.

    Raises:
        InvalidInput: field ``xlsx`` when the file cannot be written.
    """
    try:
        path.write_bytes(xlsx_bytes(view))
    except OSError as error:
        raise InvalidInput("xlsx", str(path), error.strerror or "cannot write") from None
    return path
