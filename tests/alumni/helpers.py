"""Building spreadsheets for import tests, and driving the three import pages."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

from openpyxl import Workbook

HEADERS = ["Surname", "First name", "DOB", "E-mail", "Year", "Specialty", "Country",
           "Hospital"]


def csv_bytes(rows: list[list[Any]], headers: list[str] = HEADERS, delimiter: str = ",",
              encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client: Any, data: bytes, name: str = "alumni.csv", encoding: str = "auto") -> Any:
    return client.post("/admin/alumni/import", data={
        "file": (io.BytesIO(data), name), "encoding": encoding,
    }, content_type="multipart/form-data")


def token_of(response: Any) -> str:
    return parse_qs(urlparse(response.headers["Location"]).query)["file"][0]


def mapping_data(mapping: list[str]) -> dict[str, str]:
    return {f"col_{i}": target for i, target in enumerate(mapping)}


GUESSED = ["family_name", "given_names", "date_of_birth", "email", "cycle_year", "specialty",
           "country", "institution_then"]


def import_through_pages(client: Any, data: bytes, name: str = "alumni.csv",
                         mapping: list[str] = GUESSED) -> tuple[Any, Any]:
    """Upload, choose columns, preview, import: returns (preview, final) responses."""
    response = upload(client, data, name)
    assert response.status_code == 303, response.data[:800]
    token = token_of(response)
    preview = client.post(f"/admin/alumni/import/columns?file={token}",
                          data=mapping_data(mapping))
    assert preview.status_code == 200, preview.data[:800]
    final = client.post("/admin/alumni/import/run",
                        data={"file": token, "mapping": json.dumps(mapping)},
                        follow_redirects=True)
    return preview, final
