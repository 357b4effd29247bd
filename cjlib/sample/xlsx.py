"""A minimal, deterministic XLSX writer (inline strings, one sheet); no third-party package."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .fmt import cat, s

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _col_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _esc(a: np.ndarray) -> np.ndarray:
    a = np.strings.replace(s(a), "&", "&amp;")
    return np.strings.replace(np.strings.replace(a, "<", "&lt;"), ">", "&gt;")


def write_xlsx(path: Path, sheet: str, header: list[str], cols: list[np.ndarray]) -> None:
    """Write one sheet of text cells (header row 1, data from row 2); '' cells are left out."""
    n = len(cols[0]) if cols else 0
    rown = s(np.arange(2, n + 2))
    cells = []
    for j, c in enumerate(cols):
        ref = cat(_col_letter(j), rown)
        cell = cat('<c r="', ref, '" t="inlineStr"><is><t xml:space="preserve">', _esc(c),
                   "</t></is></c>")
        cells.append(np.where(s(c) == "", s(""), cell))
    rows = cat('<row r="', rown, '">', *cells, "</row>") if n else s([])
    head = "".join(
        f'<c r="{_col_letter(j)}1" t="inlineStr"><is><t>{h}</t></is></c>'
        for j, h in enumerate(header)
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}><sheetData>'
        f'<row r="1">{head}</row>' + "".join(rows.tolist()) + "</sheetData></worksheet>"
    )
    wb = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} {_R}><sheets>'
        f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts = [
        ("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", _WB_RELS), ("xl/worksheets/sheet1.xml", body),
    ]
    with zipfile.ZipFile(path, "w") as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
