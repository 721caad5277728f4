"""Files for the tests of reviewers' documents: PDFs whose metadata names the candidate."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Text
from pypdf.generic import DecodedStreamObject, NameObject, TextStringObject

from portal.nominations.demo import make_pdf

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">
<dc:creator><rdf:Seq><rdf:li>{name}</rdf:li></rdf:Seq></dc:creator>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">CV of {name}</rdf:li></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def _metadata_stream(writer: PdfWriter, name: str) -> object:
    stream = DecodedStreamObject()
    stream.set_data(XMP.format(name=name).encode("utf-8"))
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return writer._add_object(stream)


def pdf_naming(name: str, *, text: str = "Clinical experience: four years.",
               pages: int = 1, incremental: bool = True) -> bytes:
    """A valid PDF whose pages do not name the candidate but whose metadata does: /Info
    Title, Author and Subject, XMP on the catalog and on a page, a bookmark, the viewer
    set to show the title, a comment by the candidate; and (incremental) an update that
    leaves an older /Info in the file's bytes."""
    reader = PdfReader(io.BytesIO(make_pdf("Curriculum vitae", [text], pages=pages)))
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata({"/Title": f"CV of {name}", "/Author": name,
                         "/Subject": f"Nomination of {name}"})
    writer._root_object[NameObject("/Metadata")] = _metadata_stream(writer, name)
    writer.pages[0][NameObject("/Metadata")] = _metadata_stream(writer, name)
    writer.add_outline_item(title=f"{name}: curriculum vitae", page_number=0)
    writer.create_viewer_preferences().display_doctitle = True
    note = Text(rect=(50, 550, 200, 650), text="Checked", open=False)
    note[NameObject("/T")] = TextStringObject(name)  # the comment's author
    writer.add_annotation(page_number=0, annotation=note)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    if not incremental:
        return data
    update = PdfWriter(io.BytesIO(data), incremental=True)
    update.add_metadata({"/Keywords": f"{name} nomination"})
    again = io.BytesIO()
    update.write(again)
    return again.getvalue()


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def pdf_metadata_text(data: bytes) -> str:
    """Everything a PDF says about itself outside its pages, as text to search."""
    reader = PdfReader(io.BytesIO(data))
    parts = [repr(dict(reader.metadata or {}))]
    xmp = reader.root_object.get("/Metadata")
    if xmp is not None:
        parts.append(xmp.get_object().get_data().decode("utf-8", "replace"))
    parts.append(repr(reader.outline))
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            parts.append(repr(annotation.get_object()))
    return "\n".join(parts)


def raw_strings(data: bytes) -> bytes:
    """The file's bytes with literal strings' escapes undone (octal \\055 and \\( alike),
    for a plain search."""
    data = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m[1], 8) & 0xFF]), data)
    return re.sub(rb"\\(.)", rb"\1", data)
