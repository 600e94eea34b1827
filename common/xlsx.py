"""Writing people's text into .xlsx files safely (PITFALLS.md, "Found in our own app").

openpyxl stores a string that starts with ``=`` as a live formula, and Excel evaluates cells that start with
``+``, ``-`` or ``@`` once someone edits them (OWASP "CSV injection"). Text typed by people (customer names,
comments) goes through ``text_cell``: such values are written as plain text with Excel's quote prefix, exactly
as typed. Control characters that the XML of a workbook cannot hold are dropped instead of failing the file.
"""

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def text_cell(sheet, value):
    """``value`` for ``sheet.append`` (write-only sheets): unchanged unless it is text that could be read as a
    formula, which becomes a cell forced to text."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith(FORMULA_PREFIXES):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl typed a leading "=" as a formula
    cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell
