"""Attendance certificates: issued once per attendee after the event, printed as PDF with
a verification URL and QR code that anyone can open.

PDF with fpdf2 and HarfBuzz shaping (Thai marks, Vietnamese stacked accents). Each piece of
text is drawn with the first font that has its characters (fonts.py). The CJK font ships as
CFF outlines, which fpdf2 embeds with a custom encoding many text extractors (and copy and
paste in some viewers) cannot read; so the characters a certificate needs are cut out of it
and converted to TrueType outlines first, which embed as plain Identity-H CID fonts.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.db import new_key
from portal.events import fonts
from portal.events.errors import NotAvailable as NotAvailable  # raised here
from portal.events.labels import hours, kind_label
from portal.events.models import Certificate, Event, Registration
from portal.extensions import db
from portal.i18n import country_name
from portal.web import external_url


def event_dates(event: Event) -> str:
    """The day(s) of the event in the venue's zone, as ISO dates."""
    zone = ZoneInfo(event.venue_timezone)
    first = event.starts_at.astimezone(zone).date()
    last = event.ends_at.astimezone(zone).date()
    return first.isoformat() if first == last else f"{first.isoformat()}/{last.isoformat()}"


def issue(registration: Registration, event: Event) -> Certificate:
    """The certificate of an attendee, created on first use (needs `alumnus` loaded for
    alumni). Two requests at once end with one row (UNIQUE registration)."""
    existing = db.session.scalars(select(Certificate).where(
        Certificate.registration_id == registration.id)).first()
    if existing is not None:
        return existing
    if not (registration.attended and event.is_over()):
        raise NotAvailable()
    name, native = registration.person_name(), ""
    if registration.alumnus_id is not None and registration.alumnus is not None:
        native = registration.alumnus.native_name or ""
        if native.strip() == name.strip():
            native = ""
    certificate = Certificate(
        registration_id=registration.id, code=new_key(), name=name[:200], native_name=native,
        event_title=event.title, event_date=event_dates(event), cpd_hours=event.cpd_hours)
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        return db.session.scalars(select(Certificate).where(
            Certificate.registration_id == registration.id)).one()
    return certificate


def verification_url(certificate: Certificate) -> str:
    return external_url("events.verify_certificate", code=certificate.code)


def _dates_text(value: str) -> str:
    parts = [format_date(date.fromisoformat(p), "long") for p in value.split("/")]
    return " – ".join(parts)


# --- fonts -------------------------------------------------------------------------------

def _truetype_subset(path: Path, index: int, text: str, target: Path) -> Path:
    """The glyphs of `text` from a CFF (OpenType) font, as a small TrueType font file."""
    font = TTFont(path, fontNumber=index, lazy=False)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = {}
    for name in glyf.glyphOrder:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    for table in ("VORG", "CFF2"):
        if table in font:
            del font[table]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements", "maxPoints", "maxContours", "maxCompositePoints",
                  "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    font.sfntVersion = "\0\1\0\0"
    font.save(target)
    font.close()
    return target


def _is_cff(face: fonts.FontFace) -> bool:
    font = TTFont(face.regular, fontNumber=face.index, lazy=True)
    try:
        return "CFF " in font
    finally:
        font.close()


class _Pdf(FPDF):
    def __init__(self, faces: list[fonts.FontFace], texts: list[str], workdir: Path) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.faces = faces
        self.set_auto_page_break(False)
        self.set_text_shaping(True)
        needed: dict[str, str] = {}
        for text in texts:
            for face, piece in fonts.runs(text, faces):
                needed[face.family] = needed.get(face.family, "") + piece
        for face in faces:
            for style, path in (("", face.regular), ("B", face.bold)):
                if face.family != faces[0].family and face.family not in needed:
                    continue
                if _is_cff(face):
                    path = _truetype_subset(path, face.index, needed.get(face.family, " "),
                                            workdir / f"{face.family}{style}.ttf")
                    self.add_font(face.family, style, str(path))
                else:
                    self.add_font(face.family, style, str(path),
                                  collection_font_number=face.index)

    def centered(self, text: str, y: float, size: float, bold: bool = False,
                 width: float | None = None) -> float:
        """Draw text centred at y, wrapped to `width`; returns the y below it."""
        width = width or self.w - 60
        height = size * 0.5
        for line in self._wrap(text, size, bold, width):
            pieces = fonts.runs(line, self.faces)
            total = 0.0
            for face, piece in pieces:
                self.set_font(face.family, "B" if bold else "", size)
                total += self.get_string_width(piece)
            self.set_xy((self.w - total) / 2, y)
            for face, piece in pieces:
                self.set_font(face.family, "B" if bold else "", size)
                self.cell(self.get_string_width(piece), height, piece)
            y += height + 1.5
        return y

    def _width(self, text: str, size: float, bold: bool) -> float:
        total = 0.0
        for face, piece in fonts.runs(text, self.faces):
            self.set_font(face.family, "B" if bold else "", size)
            total += self.get_string_width(piece)
        return total

    def _wrap(self, text: str, size: float, bold: bool, width: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in text.split():
            trial = f"{current} {word}".strip()
            if current and self._width(trial, size, bold) > width:
                lines.append(current)
                current = word
            else:
                current = trial
        return [*lines, current] if current else lines or [""]


def render_pdf(certificate: Certificate, event: Event, language: str = "en") -> bytes:
    """The certificate as PDF bytes. Raises fonts.FontsMissing with what to install."""
    faces = fonts.certificate_fonts()
    url = verification_url(certificate)
    with force_locale(language):
        title = _("Certificate of attendance")
        program = _("Medical Training Program")
        certify = _("This is to certify that")
        attended = _("attended the %(kind)s", kind=kind_label(event.kind).lower())
        place = ", ".join(p for p in (event.city, country_name(event.country)) if p)
        when = _dates_text(certificate.event_date)
        cpd = (_("Continuing professional development: %(hours)s hours",
                 hours=hours(certificate.cpd_hours)) if certificate.cpd_hours else "")
        verify = _("Check that this certificate is genuine:")
        number = _("Certificate %(code)s", code=certificate.code)
        issued = _("Issued on %(date)s", date=format_date(certificate.issued_at.date(), "long"))
    names = [certificate.name, certificate.native_name]
    texts = [title, program, certify, *names, attended, certificate.event_title,
             f"{place} · {when}", cpd, verify, url, number, issued]
    with tempfile.TemporaryDirectory(prefix="certificate-") as workdir:
        pdf = _Pdf(faces, [t for t in texts if t], Path(workdir))
        pdf.set_title(f"{title} – {certificate.name}")
        pdf.set_creator(program)
        pdf.add_page()
        pdf.set_draw_color(30, 70, 120)
        pdf.set_line_width(1.2)
        pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
        pdf.set_line_width(0.3)
        pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)
        pdf.set_text_color(30, 70, 120)
        y = pdf.centered(program, 24, 13)
        y = pdf.centered(title, y + 4, 28, bold=True)
        pdf.set_text_color(20, 20, 20)
        y = pdf.centered(certify, y + 6, 13)
        y = pdf.centered(certificate.name, y + 3, 26, bold=True)
        if certificate.native_name:
            y = pdf.centered(certificate.native_name, y, 18)
        y = pdf.centered(attended, y + 3, 13)
        y = pdf.centered(certificate.event_title, y + 2, 18, bold=True, width=pdf.w - 80)
        y = pdf.centered(f"{place} · {when}" if place else when, y + 1, 12)
        if cpd:
            pdf.centered(cpd, y + 2, 12, bold=True)
        qr = io.BytesIO()
        segno.make(url, error="m").save(qr, kind="png", scale=8, border=2)
        qr.seek(0)
        pdf.image(qr, x=22, y=pdf.h - 58, w=36, h=36)
        for offset, (text, size) in enumerate(((verify, 9), (url, 8), (number, 8),
                                               (issued, 9))):
            pdf.set_xy(62, pdf.h - 52 + offset * 6)
            for face, piece in fonts.runs(text, faces):
                pdf.set_font(face.family, "", size)
                pdf.cell(pdf.get_string_width(piece), 5, piece)
        return bytes(pdf.output())
