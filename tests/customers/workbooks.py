"""Build Excel files in memory for import tests."""

import io

import openpyxl

from customers.importing import COLUMNS

HEADERS = [c.header for c in COLUMNS]


def row(code="C-0001", **values):
    base = {
        "code": code,
        "name_zh": f"测试客户{code}",
        "name_en": f"Test customer {code}",
        "kind": "own",
        "status": "active",
        "trade": "domestic",
        "contact_name": "张三",
        "contact_email": "zhang@example.com",
        "address": "广东省东莞市长安镇1号",
    }
    base.update(values)
    return base


def xlsx(rows, headers=None) -> bytes:
    """rows: dicts keyed by column key; headers: the header cells (default: the template's)."""
    keys = [c.key for c in COLUMNS]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers or HEADERS)
    for values in rows:
        sheet.append([values.get(k) for k in keys] if isinstance(values, dict) else list(values))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
