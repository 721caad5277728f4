"""Reading alumni spreadsheets (CSV, XLSX): content checks, column mapping, row checks.

Nothing here writes to the database: `read_table` turns bytes into rows or refuses the
whole file (ImportRefused, with a message for staff), `parse_rows` turns mapped rows into
clean values plus one error per bad row. portal.alumni.matching applies them.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from portal.alumni import cellvalues
from portal.errors import Refused

MAX_ROWS = 50_000
# A 5 MB XLSX can unpack to gigabytes (a "zip bomb"); real alumni sheets stay far below.
MAX_XLSX_UNPACKED = 150 * 1024 * 1024

def max_bytes() -> int:
    """The largest file an import accepts (setting ALUMNI_IMPORT_MAX_MB)."""
    return int(current_app.config["ALUMNI_IMPORT_MAX_MB"]) * 1024 * 1024


ENCODINGS = {
    "auto": _l("Automatic (UTF-8 or UTF-16)"),
    "cp1252": _l("Windows Western (cp1252)"),
    "cp874": _l("Windows Thai (cp874)"),
    "cp1258": _l("Windows Vietnamese (cp1258)"),
    "cp932": _l("Windows Japanese (Shift-JIS)"),
}

# Fields a column can fill, in the order the mapping form lists them.
TARGETS: dict[str, Any] = {
    "family_name": _l("Family name"),
    "given_names": _l("Given names"),
    "native_name": _l("Name in native script"),
    "date_of_birth": _l("Date of birth"),
    "email": _l("E-mail"),
    "cycle_year": _l("Cycle year"),
    "specialty": _l("Specialty"),
    "country": _l("Country"),
    "institution_then": _l("Institution at nomination"),
    "institution_now": _l("Current institution"),
    "position": _l("Position"),
    "city": _l("City"),
    "notes": _l("Notes"),
}
REQUIRED_TARGETS = ("family_name",)

# Header spellings seen in old sheets (compared after _header_key): English first, then
# common variants, abbreviations and Japanese.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "family_name": ("family name", "surname", "last name", "lastname", "family", "name family",
                    "surname family name", "姓", "氏"),
    "given_names": ("given names", "given name", "first name", "firstname", "first names",
                    "forename", "forenames", "given", "other names", "名"),
    "native_name": ("native name", "name in native script", "local name", "name native",
                    "name local", "native script", "original name", "現地語氏名"),
    "date_of_birth": ("date of birth", "dob", "d o b", "birth date", "birthdate", "born",
                      "birthday", "date birth", "生年月日"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "mail address",
              "メール", "メールアドレス"),
    "cycle_year": ("cycle year", "year", "cycle", "fy", "fiscal year", "training year",
                   "year of training", "batch", "年度"),
    "specialty": ("specialty", "speciality", "specialization", "specialisation", "field",
                  "training field", "course", "専門", "専門分野"),
    "country": ("country", "country code", "nation", "country of origin", "国", "国名"),
    "institution_then": ("institution", "institution then", "hospital", "organization",
                         "organisation", "affiliation", "dispatching institution",
                         "nominating institution", "institution at nomination", "所属"),
    "institution_now": ("current institution", "institution now", "current hospital",
                        "current affiliation", "current workplace", "workplace", "現所属"),
    "position": ("position", "title", "job title", "current position", "designation",
                 "役職"),
    "city": ("city", "town", "city town", "都市"),
    "notes": ("notes", "note", "remarks", "remark", "comments", "comment", "備考"),
}


class ImportRefused(Refused):
    """The whole file is refused (422); `message` says why, for staff."""


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells)


@dataclass
class RowError:
    row: int
    column: str  # the file's column header ("" for the whole row)
    message: str


@dataclass
class ParsedRow:
    row: int
    values: dict[str, Any] = field(default_factory=dict)


# --- the file ------------------------------------------------------------------------------

def sniff_kind(data: bytes) -> str:
    """"csv" or "xlsx" by content (never by file name); refuses anything else."""
    if not data.strip():
        raise ImportRefused(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError) as exc:
            raise ImportRefused(_l("The workbook is damaged and cannot be read. Open it in "
                                   "your spreadsheet program and save it again.")) from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise ImportRefused(_l("This is a ZIP archive, not an Excel workbook. Upload a CSV "
                               "file or an .xlsx workbook."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(_l("Old Excel files (.xls) are not accepted. Open the file and "
                               "save it as .xlsx or as CSV (UTF-8)."))
    return "csv"


def read_table(data: bytes, encoding: str = "auto") -> Table:
    kind = sniff_kind(data)
    table = _read_xlsx(data) if kind == "xlsx" else _read_csv(data, encoding)
    if not table.headers:
        raise ImportRefused(_l("The file has no header row."))
    if len(table.rows) > MAX_ROWS:
        raise ImportRefused(_l("The file has more than %(n)d rows. Split it into smaller "
                               "files.", n=MAX_ROWS))
    return table


def _decode(data: bytes, encoding: str) -> str:
    not_text = _l("This file is neither CSV text nor an Excel workbook (.xlsx).")
    if encoding not in ENCODINGS:
        encoding = "auto"
    if encoding == "auto":
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            candidates = ["utf-16"]
        elif b"\x00" in data:
            raise ImportRefused(not_text)
        else:
            candidates = ["utf-8-sig"]
    else:
        candidates = [encoding]
    try:
        text = data.decode(candidates[0])
    except (UnicodeDecodeError, LookupError) as exc:
        if encoding == "auto":
            raise ImportRefused(_l(
                "The file is not UTF-8 text. Save it as \"CSV UTF-8\" in your spreadsheet "
                "program, upload the .xlsx workbook, or choose the file's encoding.")) from exc
        raise ImportRefused(_l("The file cannot be read as %(encoding)s. Choose another "
                               "encoding.", encoding=ENCODINGS[encoding])) from exc
    # Control characters other than tabs and line ends mean binary data, not a sheet.
    if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in text):
        raise ImportRefused(not_text)
    # Legacy Vietnamese encodings store accents as combining marks: compose them.
    return unicodedata.normalize("NFC", text.lstrip("\ufeff"))


def _read_csv(data: bytes, encoding: str) -> Table:
    text = _decode(data, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportRefused(_l("The CSV file is malformed: %(error)s", error=str(exc))) from exc
    return _table("csv", [(n, row) for n, row in enumerate(rows, start=1)])


def _read_xlsx(data: bytes) -> Table:
    damaged = _l("The workbook is damaged and cannot be read. Open it in your spreadsheet "
                 "program and save it again.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise ImportRefused(_l("The workbook is too large once unpacked."))
            if archive.testzip() is not None:
                raise ImportRefused(damaged)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = [(n, list(values)) for n, values in
                    enumerate(sheet.iter_rows(values_only=True), start=1)]
        finally:
            workbook.close()
    except ImportRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds for broken XML or parts
        raise ImportRefused(damaged) from exc
    return _table("xlsx", rows)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(kind: str, rows: list[tuple[int, list[Any]]]) -> Table:
    rows = [(n, cells) for n, cells in rows if not all(_blank(c) for c in cells)]
    if not rows:
        return Table(kind, [], [])
    _, header_cells = rows[0]
    width = max(len(cells) for _, cells in rows)
    headers = [cellvalues.as_text(c) for c in header_cells] + [""] * (width - len(header_cells))
    headers = [h or str(_l("Column %(n)d", n=i + 1)) for i, h in enumerate(headers)]
    body = [(n, list(cells) + [None] * (width - len(cells))) for n, cells in rows[1:]]
    return Table(kind, headers, body)


# --- mapping -------------------------------------------------------------------------------

def _header_key(header: str) -> str:
    header = re.sub(r"\(.*?\)|\[.*?\]", " ", header or "")  # "DOB (dd/mm/yyyy)" -> "DOB"
    header = unicodedata.normalize("NFKC", header).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", header).replace("_", " ").split())


_SYNONYM_INDEX = {_header_key(s): target for target, words in SYNONYMS.items() for s in words}


def guess_mapping(headers: list[str]) -> list[str]:
    """The target field of each column, or "" (ignored); each target at most once."""
    used: set[str] = set()
    mapping = []
    for header in headers:
        target = _SYNONYM_INDEX.get(_header_key(header), "")
        if target in used:
            target = ""
        used.add(target)
        mapping.append(target)
    return mapping


def mapping_problems(mapping: list[str]) -> list[Any]:
    problems: list[Any] = []
    chosen = [t for t in mapping if t]
    for target in sorted({t for t in chosen if chosen.count(t) > 1}):
        problems.append(_l("%(field)s is chosen for more than one column.",
                           field=TARGETS[target]))
    for target in REQUIRED_TARGETS:
        if target not in chosen:
            problems.append(_l("Choose the column that holds the %(field)s.",
                               field=TARGETS[target]))
    return problems


def mapping_from_names(headers: list[str], named: dict[str, str]) -> list[str]:
    """A mapping given as {header: field} (command line); other columns keep the guess."""
    mapping = guess_mapping(headers)
    unknown = [h for h in named if h not in headers]
    if unknown:
        raise ImportRefused(_l("No column named %(name)s in the file.", name=unknown[0]))
    for index, header in enumerate(headers):
        if header in named:
            target = named[header] or ""
            if target and target not in TARGETS:
                raise ImportRefused(_l("Unknown field %(name)s.", name=target))
            mapping = [("" if t == target and target else t) for t in mapping]
            mapping[index] = target
    return mapping


def parse_rows(table: Table, mapping: list[str], today: date
               ) -> tuple[list[ParsedRow], list[RowError]]:
    """Clean values of every mapped row, and one error per problem of a bad row."""
    columns = [(i, t, table.headers[i]) for i, t in enumerate(mapping) if t]
    family_header = next((h for _, t, h in columns if t == "family_name"), "")
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        row = ParsedRow(number)
        problems: list[RowError] = []
        for index, target, header in columns:
            raw = cells[index] if index < len(cells) else None
            if _blank(raw):
                continue
            try:
                row.values[target] = cellvalues.value(target, raw, today)
            except ValueError as exc:
                message = cellvalues.message(target, str(exc), raw, today)
                problems.append(RowError(number, header, str(message)))
        if "family_name" not in row.values and not any(
                p.column == family_header for p in problems):
            problems.append(RowError(number, family_header, str(_l(
                "The family name is missing (people with one name: put it in the family "
                "name column)."))))
        if problems:
            errors.extend(problems)
        elif row.values:
            parsed.append(row)
    return parsed, errors
