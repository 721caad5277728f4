"""The copy of a PDF that reviewers get: the same pages, without what names the author.

Document metadata often carries the candidate's name even when the pages do not (the
institution typed it into the CV's title, the scanner wrote the operator's name as
author). The copy leaves out:

- the document information dictionary (trailer /Info: Title, Author, Subject, Keywords,
  Creator, Producer, dates) and every XMP metadata stream (/Metadata, on the catalog,
  pages, images or anywhere else), and private application data (/PieceInfo);
- what shows a title in the viewer: /DisplayDocTitle of the viewer preferences, and the
  outline (bookmarks, whose titles are free text), with the page mode that opens it;
- the author (/T) of comments and other markup annotations, and digital signatures
  (a signature dictionary names the signer, and its certificate too).

How: the objects reachable from the catalog are written one at a time into a new file
(a new classic cross-reference table, objects numbered afresh from 1), so anything not
reachable from the catalog (the information dictionary, superseded objects of earlier
incremental updates, unused objects) is simply not there. Stream data is copied as it is
stored (no decoding, no re-encoding), and each object is dropped from pypdf's cache once
it is written, so memory stays at about the largest single stream (one image of a scan),
not the size of the file. The pages, their content and the fonts are byte for byte the
same objects.
"""

from __future__ import annotations

import secrets
from typing import IO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

# Keys left out of every dictionary (direct or indirect, stream dictionaries too).
DROPPED_KEYS = frozenset({"/Metadata", "/PieceInfo", "/DisplayDocTitle"})
# Keys left out of the catalog.
DROPPED_CATALOG_KEYS = frozenset({"/Outlines", "/Info"})
# Annotations that carry an author in /T (for widgets /T is the form field's name).
MARKUP_ANNOTATIONS = frozenset({
    "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine",
    "/Highlight", "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink",
    "/FileAttachment", "/Sound", "/Redact", "/Popup",
})


class CopyFailed(Exception):
    """The PDF could not be copied (damaged in a way the upload checks let through)."""


def _is_signature(obj: PdfObject | None) -> bool:
    return isinstance(obj, DictionaryObject) and "/ByteRange" in obj


def _is_metadata(obj: PdfObject | None) -> bool:
    return isinstance(obj, StreamObject) and obj.get("/Type") == "/Metadata"


class _Copier:
    def __init__(self, reader: PdfReader, out: IO[bytes]) -> None:
        self.reader = reader
        self.out = out
        self.numbers: dict[tuple[int, int], int] = {}  # (old id, generation) -> new id
        self.pending: list[tuple[IndirectObject, int]] = []
        self.offsets: dict[int, int] = {}  # new id -> where it starts in `out`

    def number(self, ref: IndirectObject) -> IndirectObject:
        """The new reference for an old one (numbered when first seen)."""
        key = (ref.idnum, ref.generation)
        new = self.numbers.get(key)
        if new is None:
            new = self.numbers[key] = len(self.numbers) + 1
            self.pending.append((ref, new))
        return IndirectObject(new, 0, self.reader)

    def scrub(self, top: PdfObject, *, catalog: bool = False) -> None:
        """Drop what names the author from `top` and every direct object inside it, and
        renumber the references it holds (iterative: no recursion on deep nesting)."""
        stack: list[PdfObject] = [top]
        while stack:
            obj = stack.pop()
            if isinstance(obj, DictionaryObject):
                for key in [k for k in obj if k in DROPPED_KEYS]:
                    del obj[key]
                if obj is top and catalog:
                    for key in [k for k in obj if k in DROPPED_CATALOG_KEYS]:
                        del obj[key]
                    if obj.get("/PageMode") == "/UseOutlines":
                        del obj["/PageMode"]
                if obj.get("/Subtype") in MARKUP_ANNOTATIONS and "/T" in obj:
                    del obj["/T"]
                for key, value in list(obj.items()):  # raw values: references unresolved
                    if key == "/Length" and isinstance(obj, StreamObject):
                        continue  # written as a direct number with the stream
                    if isinstance(value, IndirectObject):
                        obj[key] = self.number(value)
                    elif _is_signature(value):
                        del obj[key]
                    elif isinstance(value, DictionaryObject | ArrayObject):
                        stack.append(value)
            elif isinstance(obj, ArrayObject):
                for i, value in enumerate(obj):
                    if isinstance(value, IndirectObject):
                        obj[i] = self.number(value)
                    elif isinstance(value, DictionaryObject | ArrayObject):
                        stack.append(value)

    def write_object(self, number: int, obj: PdfObject) -> None:
        self.offsets[number] = self.out.tell()
        self.out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def copy(self) -> None:
        trailer = self.reader.trailer
        root = trailer.raw_get("/Root")
        if not isinstance(root, IndirectObject):
            raise CopyFailed("the catalog is not an indirect object")
        info = trailer.raw_get("/Info") if "/Info" in trailer else None
        skipped = {(info.idnum, info.generation)} if isinstance(info, IndirectObject) else set()
        root_key = (root.idnum, root.generation)
        header = (self.reader.pdf_header or "%PDF-1.7").strip()
        self.out.write(header.encode("latin-1") + b"\n%\xe2\xe3\xcf\xd3\n")
        new_root = self.number(root)
        while self.pending:
            ref, number = self.pending.pop()
            key = (ref.idnum, ref.generation)
            obj = None if key in skipped else self.reader.get_object(ref)
            if obj is None or _is_metadata(obj) or _is_signature(obj):
                self.write_object(number, NullObject())
                continue
            self.scrub(obj, catalog=key == root_key)
            self.write_object(number, obj)
            # Written: let go of it (a scan is nearly all image streams).
            self.reader.resolved_objects.pop((ref.generation, ref.idnum), None)
        self.write_xref(new_root)

    def write_xref(self, root: IndirectObject) -> None:
        start = self.out.tell()
        size = len(self.numbers) + 1  # every number handed out was written, once
        lines = [f"xref\n0 {size}\n", "0000000000 65535 f\r\n"]
        lines += [f"{self.offsets[n]:010d} 00000 n\r\n" for n in range(1, size)]
        self.out.write("".join(lines).encode("ascii"))
        new_trailer = DictionaryObject({
            NameObject("/Size"): NumberObject(size),
            NameObject("/Root"): root,
            NameObject("/ID"): ArrayObject([ByteStringObject(secrets.token_bytes(16))] * 2),
        })
        self.out.write(b"trailer\n")
        new_trailer.write_to_stream(self.out)
        self.out.write(f"\nstartxref\n{start}\n%%EOF\n".encode("ascii"))


def strip_metadata(source: IO[bytes], out: IO[bytes]) -> int:
    """Write the reviewers' copy of the PDF in `source` (seekable) to `out`; return the
    number of pages, which is checked against the original by reading the copy back."""
    try:
        reader = PdfReader(source, strict=False)
        if reader.is_encrypted:  # refused at upload; never copied
            raise CopyFailed("encrypted")
        pages = len(reader.pages)  # before the copy renumbers references in place
        _Copier(reader, out).copy()
        out.flush()
        out.seek(0)
        copied = len(PdfReader(out, strict=False).pages)
    except CopyFailed:
        raise
    except Exception as e:  # pypdf raises many kinds of errors on malformed input
        raise CopyFailed(repr(e)) from e
    if copied != pages:
        raise CopyFailed(f"the copy has {copied} pages, the original {pages}")
    out.seek(0)
    return pages
