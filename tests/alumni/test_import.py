"""Importing alumni spreadsheets: mapping, dry run, errors per row, idempotency, refusals."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from io import BytesIO

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.alumni.importer import ImportRefused, guess_mapping, parse_rows, read_table
from portal.alumni.matching import run_import
from portal.alumni.models import Alumnus
from portal.extensions import db
from tests.alumni import factories
from tests.alumni.helpers import (
    GUESSED,
    csv_bytes,
    import_through_pages,
    mapping_data,
    token_of,
    upload,
    xlsx_bytes,
)

GOOD = [
    ["Srisuk", "Anan", "1980-03-12", "anan@example.org", "2005", "Cardiology", "Thailand",
     "Siriraj"],
    ["NGUYEN", "Van Minh", "02/11/1979", "", "2010", "radiology", "VN", "Bach Mai"],
    ["Santos", "Maria", "", "maria@example.org", "1990", "Endoscopy", "Philippines", ""],
]


def count() -> int:
    return db.session.scalar(select(func.count(Alumnus.id)))


def apply(data: bytes, mapping: list[str] = GUESSED, commit: bool = True):  # noqa: ANN201
    with force_locale("en"):
        table = read_table(data)
        rows, errors = parse_rows(table, mapping, date(2026, 6, 1))
        report = run_import(rows, errors, actor=None, filename="test.csv")
    if commit:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def test_columns_are_guessed_from_english_headers_and_variants() -> None:
    assert guess_mapping(HEADERS_VARIANTS) == [
        "family_name", "given_names", "date_of_birth", "email", "cycle_year", "specialty",
        "country", "institution_then", "institution_now", "", "native_name"]


HEADERS_VARIANTS = ["Last Name", "Given Names", "Date of Birth (dd/mm/yyyy)", "E-mail address",
                    "FY", "Speciality", "Country", "Institution", "Current institution",
                    "Shoe size", "Native name"]


def test_dry_run_lists_each_bad_row_and_saves_nothing(client, factory, login_as) -> None:
    login_as(factory.staff())
    rows = GOOD[:1] + [
        ["Wong", "Pim", "31/02/1980", "", "2005", "", "TH", ""],
        ["Le", "Huy", "", "", "2005", "", "Atlantis", ""],
        ["", "Nobody", "", "", "2005", "", "TH", ""],
        ["Tran", "Hoa", "", "not-an-address", "2005", "", "VN", ""],
        ["Aung", "Kyaw", "", "", "1975", "", "MM", ""],
    ]
    response = upload(client, csv_bytes(rows))
    preview = client.post(f"/admin/alumni/import/columns?file={token_of(response)}",
                          data=mapping_data(GUESSED))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Bad date 31/02/1980" in page
    assert "Unknown country Atlantis" in page
    assert "family name is missing" in page
    assert "Bad e-mail address not-an-address" in page
    assert "Year 1975 is outside 1983.." in page
    # Each problem names its spreadsheet row (header is row 1) and the file's column.
    for row, column in [(3, "DOB"), (4, "Country"), (5, "Surname"), (6, "E-mail"), (7, "Year")]:
        assert f"<tr><td>{row}</td><td>{column}</td>" in page
    assert "<dt>Created</dt><dd>1</dd>" in page
    assert "<dt>Skipped (errors)</dt><dd>5</dd>" in page
    assert count() == 0


def test_import_creates_updates_and_skips(app_ctx) -> None:
    existing = factories.alumnus(family_name="Srisuk", given_names="Anan",
                                 email="ANAN@example.org", cycle_year=2005, specialty="")
    rows = GOOD + [["Broken", "Row", "yesterday", "", "2005", "", "TH", ""]]
    report = apply(csv_bytes(rows))
    assert report.summary() == {"created": 2, "updated": 1, "unchanged": 0, "skipped": 1}
    db.session.refresh(existing)
    assert existing.specialty == "cardiology" and existing.date_of_birth == date(1980, 3, 12)
    assert existing.institution_then == "Siriraj"
    assert count() == 3
    nguyen = db.session.scalars(select(Alumnus).where(Alumnus.name_key == "nguyen")).one()
    assert (nguyen.country, nguyen.source, nguyen.email) == ("VN", "import", None)


def test_reimporting_the_same_file_changes_nothing(client, factory, login_as) -> None:
    login_as(factory.staff())
    data = csv_bytes(GOOD)
    _, first = import_through_pages(client, data)
    assert "3 created, 0 updated, 0 unchanged, 0 skipped" in first.get_data(as_text=True)
    snapshot = {a.id: a.updated_at for a in db.session.scalars(select(Alumnus))}
    preview, second = import_through_pages(client, data)
    assert "<dt>Unchanged</dt><dd>3</dd>" in preview.get_data(as_text=True)
    assert "0 created, 0 updated, 3 unchanged, 0 skipped" in second.get_data(as_text=True)
    db.session.expire_all()
    assert {a.id: a.updated_at for a in db.session.scalars(select(Alumnus))} == snapshot


def test_xlsx_with_date_cells_and_numeric_years(client, factory, login_as) -> None:
    login_as(factory.staff())
    rows = [["Sok", "Dara", datetime(1981, 4, 2), "dara@example.org", 2012, "Nephrology",
             "Cambodia", "Calmette"],
            ["Chan", "Sophea", date(1983, 7, 9), None, 2013.0, "Neonatology", "KH", None],
            ["Kim", "Rithy", "not a date", None, 2014, None, "KH", None]]
    data = xlsx_bytes(rows)
    _, final = import_through_pages(client, data, name="old-sheet.xlsx")
    assert "2 created, 0 updated, 0 unchanged, 1 skipped" in final.get_data(as_text=True)
    sok = db.session.scalars(select(Alumnus).where(Alumnus.name_key == "sok")).one()
    assert (sok.date_of_birth, sok.cycle_year, sok.country) == (date(1981, 4, 2), 2012, "KH")
    _, again = import_through_pages(client, data, name="old-sheet.xlsx")
    assert "0 created, 0 updated, 2 unchanged, 1 skipped" in again.get_data(as_text=True)


BROKEN_XLSX = b"PK\x03\x04" + b"\x00garbage" * 200


def _zip_without_workbook() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<doc/>")
    return out.getvalue()


def _xlsx_with_broken_sheet() -> bytes:
    good = BytesIO(xlsx_bytes([GOOD[0]]))
    out = BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"<worksheet><sheetData><row>" if "sheet1" in item.filename
                         else data)
    return out.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (BROKEN_XLSX, "damaged"),
    (_xlsx_with_broken_sheet(), "damaged"),
    (_zip_without_workbook(), "not an Excel workbook"),
    (bytes(range(256)) * 50, "neither CSV text nor an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Old Excel files (.xls)"),
    ("Surname,Country\nM\u00fcller,DE\n".encode("cp1252") + b"\x81\x8d", "not UTF-8 text"),
    (b"", "The file is empty"),
])
def test_malformed_files_are_refused_and_nothing_imported(client, factory, login_as, data,
                                                          message) -> None:
    login_as(factory.staff())
    response = upload(client, data, name="alumni.xlsx")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count() == 0


def test_too_large_upload_is_refused(client, factory, login_as) -> None:
    login_as(factory.staff())
    data = csv_bytes([GOOD[0]]) + b"x" * (5 * 1024 * 1024)
    response = upload(client, data)
    assert response.status_code == 413
    assert "larger than the limit of 5 MB" in response.get_data(as_text=True)


def test_legacy_encoding_can_be_chosen(app_ctx) -> None:
    data = csv_bytes([["ประเสริฐ", "สมชาย", "", "", "2001", "", "TH", ""]], encoding="cp874")
    with force_locale("en"), pytest.raises(ImportRefused, match="not UTF-8 text"):
        read_table(data)
    table = read_table(data, "cp874")
    assert table.rows[0][1][:2] == ["ประเสริฐ", "สมชาย"]


def test_matching_rules(app_ctx) -> None:
    by_email = factories.alumnus(family_name="Other", email="lan@example.org", cycle_year=2001)
    by_key = factories.alumnus(family_name="Van  Der  Berg", given_names="Jan", email=None,
                               date_of_birth=date(1970, 1, 2), cycle_year=1999)
    no_dob = factories.alumnus(family_name="Nguyen", given_names="Van A", email=None,
                               date_of_birth=None, cycle_year=2005)
    headers = ["Family name", "Given names", "Date of birth", "Email", "Year"]
    mapping = ["family_name", "given_names", "date_of_birth", "email", "cycle_year"]
    rows = [
        ["Lan", "Thi", "", "LAN@Example.org", "2001"],  # e-mail, any case
        ["van der berg", "J.", "1970-01-02", "", "1999"],  # name+dob+year, case/space
        ["NGUYEN", "van a", "", "", "2005"],  # no birth date: given names must agree
        ["Nguyen", "Van B", "", "", "2005"],  # ... so this is somebody else
        ["van der berg", "Jan", "1970-01-02", "", "2000"],  # another year: another person
    ]
    report = apply(csv_bytes(rows, headers=headers), mapping)
    assert report.summary() == {"created": 2, "updated": 2, "unchanged": 1, "skipped": 0}
    db.session.refresh(by_email)
    db.session.refresh(by_key)
    assert by_email.family_name == "Lan"  # matched by e-mail, name corrected
    assert by_key.family_name == "Van Der Berg" and by_key.given_names == "J."
    assert count() == 5 and no_dob.given_names == "Van A"


def test_merged_record_matches_its_survivor_and_ambiguous_rows_are_skipped(app_ctx) -> None:
    from portal.alumni.services import merge

    kept = factories.alumnus(family_name="Lim", email="lim.now@example.org", cycle_year=2003)
    old = factories.alumnus(family_name="Lim", email="lim.old@example.org", cycle_year=2003)
    merge(old, kept, None)
    factories.alumnus(family_name="Tan", email=None, given_names="Mei", cycle_year=2004)
    factories.alumnus(family_name="TAN", email=None, given_names="mei", cycle_year=2004)
    headers = ["Family name", "Given names", "Email", "Year", "City"]
    mapping = ["family_name", "given_names", "email", "cycle_year", "city"]
    rows = [["Lim", "", "lim.old@example.org", "2003", "Penang"],
            ["Tan", "Mei", "", "2004", "Ipoh"]]
    report = apply(csv_bytes(rows, headers=headers), mapping)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 0, "skipped": 1}
    assert "matches several records" in report.errors[0].message
    db.session.refresh(kept)
    db.session.refresh(old)
    assert kept.city == "Penang" and old.city == ""


def test_import_does_not_overwrite_what_an_alumnus_keeps(app_ctx, factory) -> None:
    user = factory.alumnus()
    record = factories.alumnus(family_name="Prasert", email="somchai@example.org",
                               position="Head of cardiology", user_id=user.id, city="")
    headers = ["Family name", "Email", "Position", "City"]
    rows = [["Prasert", "somchai@example.org", "Resident", "Bangkok"]]
    apply(csv_bytes(rows, headers=headers), ["family_name", "email", "position", "city"])
    db.session.refresh(record)
    assert record.position == "Head of cardiology"  # the person's own, newer value
    assert record.city == "Bangkok"  # blank: filled


def test_cli_dry_run_then_import(app, app_ctx, tmp_path) -> None:
    path = tmp_path / "alumni.csv"
    path.write_bytes(csv_bytes(GOOD, headers=["Nom"] + HEADERS_CLI))
    runner = app.test_cli_runner()
    mapping = json.dumps({"Nom": "family_name", "Remarks": ""})
    result = runner.invoke(args=["import-alumni", str(path), "--dry-run", "--mapping", mapping])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing changed: 3 created" in result.output
    assert count() == 0
    result = runner.invoke(args=["import-alumni", str(path), "--mapping", mapping])
    assert "Imported: 3 created, 0 updated, 0 unchanged, 0 skipped." in result.output
    assert count() == 3
    path.write_bytes(BROKEN_XLSX)
    result = runner.invoke(args=["import-alumni", str(path)])
    assert result.exit_code != 0 and "Refused, nothing imported" in result.output


HEADERS_CLI = ["First name", "DOB", "E-mail", "Year", "Specialty", "Country", "Remarks"]


def test_staged_file_is_private_to_its_uploader(client, factory, login_as) -> None:
    login_as(factory.staff())
    token = token_of(upload(client, csv_bytes(GOOD)))
    login_as(factory.staff())
    assert client.get(f"/admin/alumni/import/columns?file={token}").status_code == 404
    assert client.get("/admin/alumni/import/columns?file=forged").status_code == 404
