"""Content checks for uploaded files, by content and never by name (no Flask needed).

PDFs are stored as sent once they parse strictly and carry no active content; images
are decoded and re-encoded, which drops EXIF (GPS, camera, owner) and any payload hidden
after the image data.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, NoReturn

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    TextStringObject,
)

from portal.errors import Refused
from portal.storage.base import CHUNK, seekable_size

log = logging.getLogger(__name__)

MAX_PIXELS = 60_000_000  # a 600 dpi A4 scan is 35 MP; more is a bomb or a mistake
MAX_PDF_OBJECTS = 500_000
JPEG_QUALITY = 90


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str
    short: str  # how the type is named in messages ("PDF")


KINDS = {
    "pdf": Kind("application/pdf", ".pdf", "PDF"),
    "jpeg": Kind("image/jpeg", ".jpg", "JPEG"),
    "png": Kind("image/png", ".png", "PNG"),
}
_LONG_NAMES = {"pdf": _l("PDF document"), "jpeg": _l("JPEG image"), "png": _l("PNG image")}
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG"}

# What makes a PDF do something by itself, or reach outside the file:
# - keys: scripts, additional actions (/AA: on opening, closing, printing the document,
#   showing a page, the pointer over an annotation, a field getting the focus... all run
#   without a click), launching programs, attachments, Flash/3D media and XFA forms;
# - action types refused wherever they are, even behind a click: Launch, GoToR (another
#   file, e.g. on a Windows share, which hands over the reader's login hash), GoToE,
#   JavaScript, SubmitForm, ImportData, plus media and attachments.
# /OpenAction is judged by its value (see _opens_a_page): office programs and PDF
# libraries write one that only shows page 1 at a zoom, and refusing those bounced
# ordinary files. Links a person clicks (/URI, mailto) and plain form fields stay allowed.
ACTIVE_KEYS = frozenset({
    "/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFiles", "/EmbeddedFile",
    "/RichMedia", "/XFA",
})
ACTIVE_VALUES = frozenset({
    "/JavaScript", "/Launch", "/RichMedia", "/EmbeddedFile", "/GoToR", "/GoToE",
    "/ImportData", "/SubmitForm",
})
_ACTIVE_NAMES = ACTIVE_KEYS | ACTIVE_VALUES


class FileRejected(Refused):
    """An upload that is refused (422); message is shown to the user as it is."""


class FileTooLarge(FileRejected):
    """An upload over its limit (413)."""

    status = 413

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(_l(
            "This file is larger than the limit of %(limit)s. Please upload a smaller file.",
            limit=f"{max_bytes / (1024 * 1024):g} MB",
        ), code="too_large")


@dataclass
class CheckedFile:
    kind: str
    content_type: str
    extension: str
    fileobj: IO[bytes]  # what to store, positioned at 0
    pages: int | None = None
    width: int | None = None
    height: int | None = None


def spool_limited(stream: IO[bytes], max_bytes: int) -> tempfile.SpooledTemporaryFile[bytes]:
    """Copy stream into a temporary file (memory up to 1 MiB), refusing more than max_bytes.

    Reads at most max_bytes + 1 bytes: a client sending gigabytes is cut off at the
    limit instead of being read to the end.
    """
    out = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115
    total = 0
    try:
        while data := stream.read(min(CHUNK, max_bytes + 1 - total)):
            total += len(data)
            if total > max_bytes:
                raise FileTooLarge(max_bytes)
            out.write(data)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


@contextmanager
def limited_file(stream: IO[bytes], max_bytes: int) -> Iterator[IO[bytes]]:
    """The upload as a seekable file of at most max_bytes, positioned at 0.

    A form upload is already a temporary file (werkzeug spools it while parsing the
    request), so it is used as it is after a size check instead of being copied again;
    any other stream goes through spool_limited. The caller's stream is left open.
    """
    if seekable_size(stream) is None:
        with spool_limited(stream, max_bytes) as spooled:
            yield spooled
        return
    stream.seek(0)
    if seekable_size(stream) > max_bytes:  # type: ignore[operator]
        raise FileTooLarge(max_bytes)
    yield stream


def _accepted(allowed: set[str]) -> str:
    return ", ".join(KINDS[k].short for k in KINDS if k in allowed)


def sniff(head: bytes) -> str | None:
    """The kind announced by the first bytes (confirmed later by parsing)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def sniff_kind(fileobj: IO[bytes], allowed: set[str]) -> str:
    """The file's kind from its first bytes, if it is one of allowed; raise FileRejected
    if not. Cheap; inspect_file then confirms the kind by parsing the whole file."""
    if not allowed or not set(allowed) <= KINDS.keys():
        raise ValueError(f"allowed must be a non-empty subset of {sorted(KINDS)}")
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    if not head:
        raise FileRejected(_l("The file is empty."))
    kind = sniff(head)
    if kind is None:
        raise FileRejected(_l(
            "This file type is not accepted. Please upload one of: %(kinds)s.",
            kinds=_accepted(allowed),
        ))
    if kind not in allowed:
        raise FileRejected(_l(
            "This file is a %(found)s, which is not accepted here. "
            "Please upload one of: %(kinds)s.",
            found=_LONG_NAMES[kind], kinds=_accepted(allowed),
        ))
    return kind


def stored_as_sent(kind: str) -> bool:
    """PDFs are kept byte for byte once they pass; images are re-encoded."""
    return kind == "pdf"


def inspect_file(fileobj: IO[bytes], allowed: set[str]) -> CheckedFile:
    """Decide what fileobj is and whether it may be stored; raise FileRejected if not."""
    kind = sniff_kind(fileobj, allowed)
    if kind == "pdf":
        return _check_pdf(fileobj)
    return _reencode_image(fileobj, kind)


# -- PDF -------------------------------------------------------------------------------

_PDF_UNREADABLE = _l(
    "This PDF could not be read; it may be damaged. "
    "Please save or scan it again and upload the new file."
)
_PDF_ACTIVE = _l(
    "This PDF contains scripts, automatic actions or embedded files, which are not "
    "accepted. Please print it to a new PDF (or scan it) and upload that file."
)


def _check_pdf(fileobj: IO[bytes]) -> CheckedFile:
    if found := scan_raw_names(fileobj):
        _refuse_active(found)
    fileobj.seek(0)
    try:
        reader = PdfReader(fileobj, strict=True)
        if reader.is_encrypted:
            raise FileRejected(_l(
                "This PDF is protected by a password or encrypted. "
                "Please upload a copy without protection."
            ))
        pages = len(reader.pages)
        found = find_active_content(reader)
    except FileRejected:
        raise
    except Exception as e:  # pypdf raises many kinds of errors on malformed input
        log.info("PDF refused as unreadable: %r", e)
        raise FileRejected(_PDF_UNREADABLE) from e
    if found:
        _refuse_active(found)
    if pages == 0:
        raise FileRejected(_l("This PDF has no pages."))
    fileobj.seek(0)
    kind = KINDS["pdf"]
    return CheckedFile("pdf", kind.content_type, kind.extension, fileobj, pages=pages)


def _refuse_active(name: str) -> NoReturn:
    log.info("PDF refused for active content: %s", name)
    raise FileRejected(_PDF_ACTIVE)


def _stored_objects(reader: PdfReader) -> list[IndirectObject]:
    """Every object the cross-reference data lists, those inside compressed object
    streams included, whether or not anything points to them (a repairing reader may
    still find an object the page tree does not reach)."""
    refs = [IndirectObject(number, generation, reader)
            for generation, numbers in reader.xref.items() for number in numbers]
    refs.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    if len(refs) > MAX_PDF_OBJECTS:
        raise ValueError("too many objects")
    return refs


def find_active_content(reader: PdfReader) -> str | None:
    """Walk every object reachable from the trailer, then every other stored object
    (object streams included); return the first active name found.

    Iterative with a visited set, so reference cycles and deep nesting cannot recurse.
    """
    stack: list[object] = [*reversed(_stored_objects(reader)), reader.trailer]
    seen: set[tuple[int, int]] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > MAX_PDF_OBJECTS:
                raise ValueError("too many objects")
            resolved = obj.get_object()
            if isinstance(resolved, StreamObject):
                # The walk needs a stream's dictionary, not its data: dropping it from
                # pypdf's cache keeps one stream in memory at a time instead of the
                # whole file (a 20 MB scan is nearly all image streams).
                reader.resolved_objects.pop((obj.generation, obj.idnum), None)
            obj = resolved
        if isinstance(obj, DictionaryObject):  # stream objects too
            for key, value in obj.items():  # raw values: references stay unresolved here
                if key in ACTIVE_KEYS:
                    return str(key)
                if key == "/OpenAction" and not _opens_a_page(value):
                    return str(key)
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
        elif isinstance(obj, NameObject) and obj in ACTIVE_VALUES:
            return str(obj)
    return None


def _opens_a_page(action: object) -> bool:
    """True for an /OpenAction that only goes to a place in the document: an explicit
    destination [page /Fit ...], a named one, or a /GoTo action whose /Next chain (one
    action or an array of them, followed to its end) holds nothing but /GoTo actions.
    Anything else runs by itself when the file is opened (a script, a web address,
    printing, another file...) and counts as active."""
    if isinstance(action, IndirectObject):
        action = action.get_object()
    if isinstance(action, ArrayObject | NameObject | TextStringObject | ByteStringObject):
        return True
    pending: list[object] = [action]
    seen: set[tuple[int, int]] = set()
    while pending:
        step = pending.pop()
        if isinstance(step, IndirectObject):
            ref = (step.idnum, step.generation)
            if ref in seen:
                continue
            seen.add(ref)
            step = step.get_object()
        if not isinstance(step, DictionaryObject) or step.get("/S") != "/GoTo":
            return False
        following = step.raw_get("/Next") if "/Next" in step else None  # unresolved
        if isinstance(following, ArrayObject):
            pending.extend(following)
        elif following is not None:
            pending.append(following)
        if len(seen) > MAX_PDF_OBJECTS:
            return False
    return True


# A name token, or the keyword that starts stream data (skipped: compressed bytes would
# otherwise match short names like /JS or /AA by chance every few megabytes).
_TOKEN = re.compile(
    rb"/(?P<name>[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)|(?<![A-Za-z])stream(?:\r\n|\n|\r)"
)
_ENDSTREAM = re.compile(rb"endstream")
_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_OVERLAP = 256


def _decode_name(raw: bytes) -> str:
    """/J#61vaScript is /JavaScript to a PDF reader, so it must be to us."""
    return "/" + _HEX.sub(lambda m: bytes([int(m[1], 16)]), raw).decode("latin-1")


def scan_raw_names(fileobj: IO[bytes]) -> str | None:
    """Search the raw bytes outside streams for active names, in chunks.

    Catches objects the parser would not reach (e.g. left out of the xref table but
    found by a lenient viewer's repair). A token cut by a chunk boundary is carried
    over to the next round instead of being judged half-read.
    """
    fileobj.seek(0)
    carry, in_stream = b"", False
    while True:
        chunk = fileobj.read(CHUNK)
        last = not chunk
        buf, pos = carry + chunk, 0
        while True:
            if in_stream:
                m = _ENDSTREAM.search(buf, pos)
                if m is None:
                    pos = max(pos, len(buf) - _OVERLAP)
                    break
                in_stream, pos = False, m.end()
                continue
            m = _TOKEN.search(buf, pos)
            if m is None:
                pos = max(pos, len(buf) - _OVERLAP)
                break
            if m.end() == len(buf) and not last:
                pos = max(m.start(), len(buf) - _OVERLAP)
                break
            pos = m.end()
            if m["name"] is None:
                in_stream = True
            elif (name := _decode_name(m["name"])) in _ACTIVE_NAMES:
                return name
        if last:
            return None
        carry = buf[pos:]


# -- images ----------------------------------------------------------------------------

_IMAGE_UNREADABLE = _l(
    "This image could not be read; it may be damaged. "
    "Please save it again and upload the new file."
)


def _reencode_image(fileobj: IO[bytes], kind: str) -> CheckedFile:
    too_big = FileRejected(_l(
        "This image is too large (more than %(mp)s megapixels). "
        "Please reduce its resolution and upload it again.",
        mp=MAX_PIXELS // 1_000_000,
    ))
    formats = [_PIL_FORMATS[kind]]
    try:
        # Image.open reads only the header: check the size before decoding anything.
        with Image.open(fileobj, formats=formats) as img:
            if img.width * img.height > MAX_PIXELS:
                raise too_big
            img.verify()
        fileobj.seek(0)  # verify() leaves the image unusable; decode it afresh
        with Image.open(fileobj, formats=formats) as img:
            img.load()
            clean = ImageOps.exif_transpose(img)  # a copy, turned the way the camera meant
        out = _encode(clean, kind)
    except FileRejected:
        raise
    except Image.DecompressionBombError as e:
        raise too_big from e
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        log.info("image refused as unreadable: %r", e)
        raise FileRejected(_IMAGE_UNREADABLE) from e
    info = KINDS[kind]
    return CheckedFile(
        kind, info.content_type, info.extension, out, width=clean.width, height=clean.height
    )


def _encode(img: Image.Image, kind: str) -> tempfile.SpooledTemporaryFile[bytes]:
    # Pillow copies some metadata (comments, ICC profile, text) from info when saving;
    # keep only PNG palette transparency, which is part of the picture.
    img.info = {k: v for k, v in img.info.items() if k == "transparency" and kind == "png"}
    out = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115
    try:
        if kind == "jpeg":
            if img.mode not in ("L", "RGB"):
                img = img.convert("RGB")
            img.save(out, "JPEG", quality=JPEG_QUALITY)
        else:
            img.save(out, "PNG")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
