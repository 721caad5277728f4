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
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

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
