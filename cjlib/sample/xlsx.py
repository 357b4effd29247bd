"""Write one sheet of text cells with XlsxWriter, deterministically (fixed document dates)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import xlsxwriter

FIXED_DATE = datetime(2026, 1, 1)


def write_xlsx(path: Path, sheet: str, header: list[str], cols: list[pa.Array]) -> None:
    """Header in row 1, data from row 2; every cell is written as text exactly as given (so a
    planted spreadsheet formula stays text); '' cells stay empty."""
    options = {
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "constant_memory": True,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties({"created": FIXED_DATE})
        worksheet = book.add_worksheet(sheet)
        worksheet.write_row(0, 0, header)
        columns = [c.to_pylist() for c in cols]
        for row, values in enumerate(zip(*columns, strict=True), start=1):
            for col, value in enumerate(values):
                if value != "":
                    worksheet.write_string(row, col, value)
