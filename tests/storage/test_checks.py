"""Content checks: what a user uploading files would see accepted or refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from portal.storage.base import CHUNK
from portal.storage.checks import (
    FileRejected,
    FileTooLarge,
    find_active_content,
    inspect_file,
    scan_raw_names,
    spool_limited,
)

ALL = {"pdf", "jpeg", "png"}


def check(data: bytes, allowed: set[str] = ALL):
    return inspect_file(io.BytesIO(data), allowed)


def test_plain_pdf_is_kept_as_sent(samples):
    data = samples.pdf(pages=2)
    checked = check(data, {"pdf"})
    assert (checked.kind, checked.content_type, checked.extension) == (
        "pdf", "application/pdf", ".pdf"
    )
    assert checked.pages == 2
    assert checked.fileobj.read() == data


@pytest.mark.parametrize("maker", [
    "pdf_js", "pdf_attachment", "pdf_launch", "pdf_open_uri", "pdf_open_goto_then_script",
])
def test_pdf_with_active_content_is_refused(samples, maker):
    with pytest.raises(FileRejected) as err:
        check(getattr(samples, maker)(), {"pdf"})
    assert "scripts, automatic actions or embedded files" in str(err.value)


# Issue 12, point 7: every action that runs by itself (an open action and what it chains
# to through /Next, /AA on the document, pages, annotations and fields), and Launch,
# GoToR, GoToE, JavaScript, SubmitForm and ImportData anywhere, inside object streams too.
RUNS_BY_ITSELF = [
    "pdf_open_goto_then_uri", "pdf_open_goto_then_print", "pdf_open_gotor_unc",
    "pdf_open_named_print", "pdf_catalog_aa", "pdf_page_aa", "pdf_annotation_aa",
    "pdf_form_field_aa", "pdf_objstm_open_action",
]
REFUSED_ANYWHERE = [
    "pdf_link_gotor_unc", "pdf_link_gotoe", "pdf_link_submitform", "pdf_link_importdata",
    "pdf_link_then_launch", "pdf_objstm_hidden_launch",
]


@pytest.mark.parametrize("maker", RUNS_BY_ITSELF + REFUSED_ANYWHERE)
def test_pdf_actions_that_run_by_themselves_or_reach_outside_are_refused(samples, maker):
    with pytest.raises(FileRejected) as err:
        check(getattr(samples, maker)(), {"pdf"})
    assert "scripts, automatic actions or embedded files" in str(err.value)


@pytest.mark.parametrize("maker", [
    "pdf_web_and_mail_links", "pdf_fillable_form", "pdf_objstm_plain", "pdf_open_at_page",
])
def test_pdf_links_to_click_and_fillable_fields_are_accepted(samples, maker):
    data = getattr(samples, maker)()
    checked = check(data, {"pdf"})
    assert checked.kind == "pdf" and checked.fileobj.read() == data


def test_actions_inside_object_streams_are_found_by_the_object_walk(samples):
    # Compressed: the raw scan cannot see them; only the walk over every stored object
    # (object streams included, referenced or not) finds them.
    for maker, expected in [("pdf_objstm_open_action", "/OpenAction"),
                            ("pdf_objstm_hidden_launch", "/Launch")]:
        data = getattr(samples, maker)()
        assert b"/Launch" not in data and b"/URI" not in data
        assert scan_raw_names(io.BytesIO(data)) is None
        reader = PdfReader(io.BytesIO(data), strict=True)
        assert reader.xref_objStm  # the builder really used an object stream
        assert find_active_content(reader) == expected, maker


def test_object_walk_finds_what_raw_bytes_may_hide(samples):
    # The walk sees parsed (unescaped, decompressed) names, independently of the raw scan.
    for maker, expected in [
        ("pdf_js", {"/JavaScript", "/JS"}),
        ("pdf_open_uri", {"/OpenAction"}),
        ("pdf_open_goto_then_script", {"/JavaScript", "/JS", "/OpenAction"}),
        ("pdf_attachment", {"/EmbeddedFiles", "/EmbeddedFile"}),
        ("pdf_launch", {"/Launch"}),
    ]:
        reader = PdfReader(io.BytesIO(getattr(samples, maker)()), strict=True)
        assert find_active_content(reader) in expected, maker
    assert find_active_content(PdfReader(io.BytesIO(samples.pdf()))) is None


def test_pdf_that_only_opens_at_a_page_is_accepted(samples):
    # Office programs and PDF libraries (fpdf2 here) write an /OpenAction that shows
    # page 1 at some zoom; that is not active content.
    from portal.nominations.demo import make_pdf

    for data in (samples.pdf_open_at_page(), make_pdf("Curriculum vitae", ["Line"])):
        assert b"/OpenAction" in data
        checked = check(data, {"pdf"})
        assert checked.kind == "pdf" and checked.fileobj.read() == data


def test_hex_escaped_name_outside_the_object_graph_is_refused(samples):
    # Appended after %%EOF: the parser never reaches it, a repairing viewer might.
    data = samples.pdf() + b"\n9 0 obj << /S /J#61vaScript /J#53 (app.alert(1)) >> endobj\n"
    with pytest.raises(FileRejected, match="scripts"):
        check(data, {"pdf"})


def test_raw_scan_ignores_stream_data_and_handles_chunk_edges():
    assert scan_raw_names(io.BytesIO(b"/Type /Page /J#61vaScript ")) == "/JavaScript"
    in_stream = b"<< /Length 9 >> stream\n/JS /AA \nendstream /Type"
    assert scan_raw_names(io.BytesIO(in_stream)) is None
    # A name cut by the 1 MiB read boundary is judged whole: /JSX is harmless...
    pad = b" " * (CHUNK - 3)
    assert scan_raw_names(io.BytesIO(pad + b"/JSX ")) is None
    # ...and /JavaScript split across the boundary is still found.
    assert scan_raw_names(io.BytesIO(pad + b"/JavaScript")) == "/JavaScript"


def test_encrypted_pdf_is_refused(samples):
    with pytest.raises(FileRejected, match="password"):
        check(samples.pdf_encrypted(), {"pdf"})


@pytest.mark.parametrize("kind", ["garbage", "header-only", "truncated"])
def test_malformed_pdf_is_refused(samples, kind):
    data = {
        "garbage": b"%PDF-1.7\nthis is not a pdf at all",
        "header-only": b"%PDF-",
        "truncated": samples.pdf_truncated(),
    }[kind]
    with pytest.raises(FileRejected, match="could not be read"):
        check(data, {"pdf"})


def test_jpeg_is_reencoded_without_metadata_and_turned_upright(samples):
    data = samples.jpeg_with_gps((40, 20))
    with Image.open(io.BytesIO(data)) as src:  # the sample really carries GPS data
        assert src.getexif().get_ifd(0x8825)
    checked = check(data)
    with checked.fileobj:
        out = checked.fileobj.read()
    assert checked.kind == "jpeg" and checked.extension == ".jpg"
    assert (checked.width, checked.height) == (20, 40)  # orientation 6 applied
    with Image.open(io.BytesIO(out)) as img:
        assert img.format == "JPEG" and img.size == (20, 40)
        assert not img.getexif()
        assert "comment" not in img.info
    assert b"SpyCam" not in out and b"Exif" not in out and b"A. Person" not in out


def test_png_is_reencoded_without_text_chunks(samples):
    checked = check(samples.png_with_text(), {"png"})
    with checked.fileobj:
        out = checked.fileobj.read()
    with Image.open(io.BytesIO(out)) as img:
        assert img.format == "PNG" and img.text == {} and img.mode == "RGBA"
    assert b"tEXt" not in out and b"Secret Person" not in out


def test_data_hidden_after_the_image_is_dropped(samples):
    data = samples.png_with_text() + b"<script>alert(1)</script>"
    with check(data).fileobj as f:
        assert b"<script>" not in f.read()


def test_png_named_pdf_is_refused_by_content(samples):
    with pytest.raises(FileRejected) as err:
        check(samples.png_with_text(), {"pdf"})
    assert str(err.value) == (
        "This file is a PNG image, which is not accepted here. Please upload one of: PDF."
    )


@pytest.mark.parametrize("maker", ["html", "zip"])
def test_other_files_are_refused_with_what_is_accepted(samples, maker):
    with pytest.raises(FileRejected) as err:
        check(getattr(samples, maker)())
    assert str(err.value) == (
        "This file type is not accepted. Please upload one of: PDF, JPEG, PNG."
    )


def test_empty_file_is_refused():
    with pytest.raises(FileRejected, match="empty"):
        check(b"")


@pytest.mark.parametrize("size", [(8000, 8000), (30000, 30000)], ids=["64MP", "900MP"])
def test_huge_images_are_refused_before_decoding(samples, size):
    with pytest.raises(FileRejected, match="too large"):
        check(samples.png_header(*size))


def test_truncated_image_is_refused(samples):
    data = samples.jpeg_with_gps((400, 300))
    with pytest.raises(FileRejected, match="could not be read"):
        check(data[: len(data) // 2])


def test_allowed_kinds_are_validated():
    with pytest.raises(ValueError):
        inspect_file(io.BytesIO(b"x"), {"exe"})


class CountingStream:
    """An endless upload that records how much was read from it."""

    def __init__(self) -> None:
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        n = CHUNK if n < 0 else n
        self.consumed += n
        return b"x" * n


def test_spool_stops_reading_at_the_limit():
    source = CountingStream()
    limit = 3 * CHUNK // 2
    with pytest.raises(FileTooLarge) as err:
        spool_limited(source, limit)
    assert source.consumed <= limit + CHUNK
    assert err.value.max_bytes == limit
    assert "1.5 MB" in str(err.value)


def test_spool_keeps_files_up_to_the_limit():
    data = bytes(range(256)) * 4096  # exactly 1 MiB
    with spool_limited(io.BytesIO(data), len(data)) as spooled:
        assert spooled.read() == data
