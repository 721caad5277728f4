"""The reviewers' copy of a PDF: same pages, no metadata naming the author, bounded memory."""

from __future__ import annotations

import io
import os
import tempfile
import tracemalloc

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from portal.review.pdf_copy import CopyFailed, strip_metadata
from portal.storage.checks import inspect_file
from tests.review.documents_factories import (
    pdf_metadata_text,
    pdf_naming,
    pdf_text,
    raw_strings,
)

NAME = "Zawadi Okonkwo-Lindqvist"


def _copy(data: bytes) -> bytes:
    out = io.BytesIO()
    strip_metadata(io.BytesIO(data), out)
    return out.getvalue()


def test_the_copy_keeps_the_pages_and_drops_everything_that_names_the_author() -> None:
    original = pdf_naming(NAME, pages=2)
    assert NAME in pdf_metadata_text(original)  # the file really does carry the name

    copy = _copy(original)

    assert NAME.encode() not in raw_strings(copy)  # not even in superseded objects
    reader = PdfReader(io.BytesIO(copy), strict=True)
    assert not reader.metadata
    assert reader.xmp_metadata is None
    assert "/Metadata" not in reader.pages[0]
    assert reader.outline == []
    assert "/DisplayDocTitle" not in (reader.viewer_preferences or {})
    note = reader.pages[0]["/Annots"][0].get_object()
    assert note["/Contents"] == "Checked" and "/T" not in note  # the comment, not its author
    assert len(reader.pages) == 2
    assert pdf_text(copy) == pdf_text(original)
    # The copy is itself a PDF the upload checks accept.
    assert inspect_file(io.BytesIO(copy), {"pdf"}).pages == 2


def test_the_copy_drops_a_signature_which_names_the_signer() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_naming("Somebody Else",
                                                                  incremental=False))))
    signature = writer._add_object(DecodedStreamObject())

    def sig(who: str) -> DictionaryObject:
        return _dict({"/Type": NameObject("/Sig"), "/ByteRange": [0, 1, 2, 3],
                      "/Name": who, "/Contents": signature})

    writer._root_object[NameObject("/AcroForm")] = writer._add_object(_dict({"/Fields": [
        _dict({"/FT": NameObject("/Sig"), "/V": sig(NAME)}),  # direct
        _dict({"/FT": NameObject("/Sig"), "/V": writer._add_object(sig(NAME))}),  # indirect
    ]}))
    out = io.BytesIO()
    writer.write(out)
    assert NAME.encode() in raw_strings(out.getvalue())

    assert NAME.encode() not in raw_strings(_copy(out.getvalue()))


def _dict(values: dict) -> DictionaryObject:
    def wrap(v: object) -> object:
        if isinstance(v, PdfObject):
            return v
        if isinstance(v, str):
            return TextStringObject(v)
        if isinstance(v, int):
            return NumberObject(v)
        if isinstance(v, list):
            return ArrayObject([wrap(x) for x in v])
        return v

    return DictionaryObject({NameObject(k): wrap(v) for k, v in values.items()})


def test_memory_stays_at_the_largest_stream_not_the_file() -> None:
    """A 12 MB scan of twelve 1 MB pages is copied with a few MB of memory."""
    writer = PdfWriter()
    for _ in range(12):
        page = writer.add_blank_page(200, 200)
        stream = DecodedStreamObject()
        stream.set_data(os.urandom(1024 * 1024))  # like a compressed image: incompressible
        page[NameObject("/Contents")] = writer._add_object(stream)
    writer.add_metadata({"/Author": NAME})
    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as out:
        writer.write(source)
        del writer
        source.seek(0)
        tracemalloc.start()
        try:
            pages = strip_metadata(source, out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        size = out.seek(0, 2)
    assert pages == 12
    assert size > 12 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_a_pdf_that_cannot_be_read_is_not_copied() -> None:
    with pytest.raises(CopyFailed):
        _copy(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n")
