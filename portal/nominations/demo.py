"""Demo cycles and nominations (`flask demo-data`): an open FY2027 with realistic
requirements, a past FY2025 with outcomes, and nominations of the two demo institutions
in every state, with real PDF and JPEG files stored through the storage API."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from fpdf import FPDF
from PIL import Image, ImageDraw
from sqlalchemy import select

from portal.accounts.models import User
from portal.cycles.models import (
    Cycle,
    CycleStatus,
    DocumentRequirement,
    Sensitivity,
    Specialty,
    ValidityRule,
    program_timezone,
)
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.lifecycle import STAFF
from portal.nominations import duplicates
from portal.nominations.confirmations import snapshot
from portal.nominations.lifecycle import NOMINATION
from portal.nominations.models import (
    Confirmation,
    DocumentState,
    Nomination,
    NominationDocument,
    NominationEvent,
    NominationState,
    ReturnNote,
)
from portal.nominations.services import new_reference, refresh_completeness
from portal.storage import store_upload

CONSENT_TEXT = (
    "I confirm that the data above is correct. I consent to the processing of my personal "
    "data by the foundation and the selection committee for the selection and, if I am "
    "accepted, the organisation of my training, and to its transfer to Japan for these "
    "purposes. I may withdraw this consent at any time by writing to the program staff."
)
SPECIALTIES = [
    ("cardiology", "Cardiology"), ("radiology", "Diagnostic radiology"),
    ("endoscopy", "Gastrointestinal endoscopy"), ("laboratory", "Clinical laboratory"),
    ("icu_nursing", "Intensive care nursing"), ("clinical_engineering", "Clinical engineering"),
]
# code, label, help, required, types, MB, rule, param, sensitivity
REQUIREMENTS = [
    ("application_form", "Application form signed by the head of the institution",
     "The program's form, completed, signed and stamped.", True, ["pdf"], 10,
     ValidityRule.NONE, None, Sensitivity.NORMAL),
    ("cv", "Curriculum vitae", "In English, at most 3 pages.", True, ["pdf"], 10,
     ValidityRule.NONE, None, Sensitivity.NORMAL),
    ("licence", "Medical licence", "Current licence or registration to practise.", True,
     ["pdf", "jpeg", "png"], 10, ValidityRule.NONE, None, Sensitivity.NORMAL),
    ("diploma", "Diploma", "Degree certificate (with an English translation if needed).",
     True, ["pdf", "jpeg", "png"], 20, ValidityRule.NONE, None, Sensitivity.NORMAL),
    ("passport", "Passport copy", "The page with the photo. Enter the expiry date.", True,
     ["pdf", "jpeg", "png"], 10, ValidityRule.VALID_MONTHS_AFTER_TRAINING, 6,
     Sensitivity.SENSITIVE),
    ("english", "English proficiency evidence", "IELTS, TOEFL or an equivalent certificate.",
     True, ["pdf", "jpeg", "png"], 10, ValidityRule.NONE, None, Sensitivity.NORMAL),
    ("health", "Health certificate", "Issued by a physician. Enter the date of issue.", True,
     ["pdf"], 10, ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE, 90, Sensitivity.SENSITIVE),
    ("recommendation", "Letter of recommendation", "From the candidate's supervisor.", True,
     ["pdf"], 10, ValidityRule.NONE, None, Sensitivity.NORMAL),
    ("photo", "Photo", "A recent passport-style photo.", True, ["jpeg", "png"], 5,
     ValidityRule.NONE, None, Sensitivity.NORMAL),
]


def make_pdf(title: str, lines: list[str] | None = None, pages: int = 1) -> bytes:
    """A real, plain PDF (text only: no scripts, no attachments)."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 16)
        pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        for line in lines or []:
            pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        if pages > 1:
            pdf.cell(0, 7, f"Page {page + 1} of {pages}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_jpeg(text: str, size: tuple[int, int] = (400, 500), color: str = "#dfe8f0") -> bytes:
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 4, size[1] // 6, size[0] * 3 // 4, size[1] // 2), fill="#8a6f5a")
    draw.rectangle((size[0] // 6, size[1] // 2, size[0] * 5 // 6, size[1]), fill="#33495e")
    draw.text((10, 10), text, fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _cycle(name: str, status: str, opens: datetime, closes: datetime,
           training: tuple[date, date], **kw: Any) -> Cycle:
    cycle = Cycle(
        name=name, status=status, opens_at=opens, closes_at=closes,
        window_timezone=program_timezone(), training_starts_on=training[0],
        training_ends_on=training[1], retention_days=365,
        seats_total=24, seats_per_country=4, seats_per_institution=2,
        max_submissions_per_institution=6, min_experience_years=2, max_experience_years=15,
        min_age=25, max_age=45, english_evidence_required=True,
        prior_participation="lower_priority", endorsement_required=True,
        consent_text=CONSENT_TEXT, reminders_sent={}, **kw)
    cycle.specialties = [Specialty(code=c, name=n, position=i)
                         for i, (c, n) in enumerate(SPECIALTIES)]
    cycle.requirements = [
        DocumentRequirement(code=c, label=lb, help_text=h, required=r, accepted_types=t,
                            max_size_mb=mb, validity_rule=rule, validity_param=p,
                            sensitivity=s, position=i)
        for i, (c, lb, h, r, t, mb, rule, p, s) in enumerate(REQUIREMENTS)
    ]
    db.session.add(cycle)
    db.session.flush()
    return cycle


def _documents(nomination: Nomination, cycle: Cycle, user_id: int, *,
               skip: tuple[str, ...] = (), bad_passport: bool = False) -> None:
    name = nomination.candidate_name
    for req in cycle.requirements:
        if req.code in skip:
            continue
        if req.code == "photo":
            data, filename = make_jpeg(name), "photo.jpg"
        elif req.code in ("licence", "diploma") and nomination.id % 2:
            data, filename = make_jpeg(f"{req.label}: {name}", (900, 640), "#f4f1e6"), \
                f"{req.code}_scan.jpg"
        else:
            data = make_pdf(req.label, [f"Candidate: {name}", f"Reference: {nomination.reference}",
                                        f"Institution document for cycle {cycle.name}."],
                            pages=2 if req.code == "cv" else 1)
            filename = f"{req.code}.pdf"
        blob = store_upload(io.BytesIO(data), original_name=filename,
                            allowed=set(req.accepted_types),
                            max_bytes=req.max_size_mb * 1024 * 1024, user_id=user_id)
        doc = NominationDocument(nomination_id=nomination.id, requirement_id=req.id,
                                 blob_id=blob.id, uploaded_by_id=user_id,
                                 state=DocumentState.UPLOADED)
        if req.validity_rule == ValidityRule.VALID_MONTHS_AFTER_TRAINING:
            months = 2 if bad_passport else 30
            doc.expires_on = cycle.training_ends_on + timedelta(days=30 * months)
        elif req.validity_rule == ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE:
            doc.issued_on = min(date.today(), cycle.closes_at.date()) - timedelta(days=20)
        db.session.add(doc)


def _confirm(nomination: Nomination, institution: Institution, user_id: int,
             at: datetime) -> None:
    for kind, email in (("endorsement", institution.head_email), ("consent", nomination.email)):
        db.session.add(Confirmation(
            nomination_id=nomination.id, kind=kind, email=email, requested_at=at,
            requested_by_id=user_id, decision="granted", decided_at=at + timedelta(hours=5),
            decided_ip="203.0.113.7", snapshot=snapshot(nomination, kind)))


def _history(nomination: Nomination, user: User, steps: list[tuple[str, str, str]],
             start: datetime, staff: User) -> None:
    """steps: (kind, to_state, comment), kinds named by the lifecycle's moves; staff make
    the moves the table gives to staff (return, review, outcome)."""
    state: str | None = None
    at = start
    for kind, to_state, comment in steps:
        actor = staff if STAFF in {a for m in NOMINATION.moves if m.name == kind
                                   for a in m.actors} else user
        db.session.add(NominationEvent(
            nomination_id=nomination.id, at=at, actor_id=actor.id, actor_label=actor.email,
            from_state=state, to_state=to_state, kind=kind, comment=comment))
        state, at = to_state, at + timedelta(days=2)


# family, given, native, sex, nationality, passport, year of birth, specialty
Candidate = tuple[str, str, str, str, str, str, int, str]
CANDIDATES: dict[str, list[Candidate]] = {
    "kl": [
        ("Tan", "Mei Ling", "陈美玲", "F", "MY", "A12345678", 1990, "cardiology"),
        ("Kumar", "Ravi", "", "M", "MY", "A23456789", 1987, "radiology"),
        ("Abdullah", "Nur Aisyah", "", "F", "MY", "A34567890", 1992, "icu_nursing"),
        ("Lim", "Wei Jie", "林伟杰", "M", "MY", "A45678901", 1989, "endoscopy"),
        ("Rahman", "Farah", "", "F", "MY", "A56789012", 1991, "laboratory"),
        ("Wong", "Kar Wai", "黃家偉", "M", "MY", "A67890123", 1986, "clinical_engineering"),
    ],
    "hanoi": [
        ("Nguyen", "Thi Hoa", "Nguyễn Thị Hoa", "F", "VN", "C1234567", 1990, "cardiology"),
        ("Tran", "Van Minh", "Trần Văn Minh", "M", "VN", "C2345678", 1988, "cardiology"),
        ("Pham", "Thu Trang", "Phạm Thu Trang", "F", "VN", "C3456789", 1993, "radiology"),
        ("Le", "Quang Huy", "Lê Quang Huy", "M", "VN", "C4567890", 1985, "endoscopy"),
        ("Sukarno", "", "", "M", "VN", "C5678901", 1984, "laboratory"),  # one-name person
    ],
}
# States in the open cycle, in the order of the candidates above.
OPEN_STATES = {
    "kl": ["draft", "draft_ready", "submitted", "returned", "under_review", "withdrawn"],
    "hanoi": ["submitted", "resubmitted", "draft", "under_review", "draft"],
}
PAST_STATES = {"kl": ["accepted", "reserve", "rejected"], "hanoi": ["accepted", "rejected"]}

_CREATED = ("created", "draft", "")
_SUBMIT = ("submit", "submitted", "")
_REVIEW = ("start_review", "under_review", "")
STEPS = {
    "submitted": [_CREATED, _SUBMIT],
    "returned": [_CREATED, _SUBMIT,
                 ("return", "returned", "Please upload a clearer passport copy.")],
    "resubmitted": [_CREATED, _SUBMIT,
                    ("return", "returned", "The CV is missing the last two years."),
                    ("resubmit", "resubmitted", "")],
    "under_review": [_CREATED, _SUBMIT, _REVIEW],
    "withdrawn": [_CREATED, _SUBMIT,
                  ("withdraw", "withdrawn", "The candidate accepted a fellowship abroad.")],
    "accepted": [_CREATED, _SUBMIT, _REVIEW, ("accept", "accepted", "")],
    "reserve": [_CREATED, _SUBMIT, _REVIEW, ("reserve", "reserve", "")],
    "rejected": [_CREATED, _SUBMIT, _REVIEW, ("reject", "rejected", "")],
}


def _nomination(cycle: Cycle, institution: Institution, user: User, candidate: Candidate,
                state: str, staff: User, start: datetime) -> Nomination:
    family, given, native, sex, nat, passport, year, specialty = candidate
    spec = next(s for s in cycle.specialties if s.code == specialty)
    real_state = {"draft_ready": "draft"}.get(state, state)
    email_name = (given or family).split()[0].lower()
    n = Nomination(
        reference=new_reference(), cycle_id=cycle.id, institution_id=institution.id,
        country=institution.country, state=real_state, family_name=family, given_names=given,
        native_name=native, date_of_birth=date(year, 3 + len(family) % 9, 10 + len(given) % 18),
        sex={"F": "female", "M": "male"}[sex], nationality=nat, passport_number=passport,
        email=f"{email_name}.{family.lower()}@mail.example.org", phone="+60 3 2615 5555"
        if nat == "MY" else "+84 24 3825 3531",
        position="Medical officer" if specialty != "icu_nursing" else "Staff nurse",
        department=spec.name, specialty_id=spec.id, experience_years=4 + len(family) % 5,
        english_level="advanced", english_evidence=f"IELTS {6 + len(given) % 3}.5",
        preferred_field=spec.name, preferred_hospital="",
        motivation="To bring current practice in " + spec.name.lower() + " back home.",
        created_by_id=user.id, created_at=start, duplicate_flags=[],
    )
    if state == "draft":  # an unfinished draft: facts and documents missing
        n.passport_number, n.english_evidence, n.experience_years = "", "", None
    db.session.add(n)
    db.session.flush()
    skip = ("health", "recommendation", "photo") if state == "draft" else ()
    _documents(n, cycle, user.id, skip=skip, bad_passport=state == "returned")
    if state not in ("draft",):
        _confirm(n, institution, user.id, start + timedelta(days=1))
    if real_state != "draft":
        n.submitted_at = start + timedelta(days=2)
        n.is_complete = True
        _history(n, user, STEPS[real_state], start, staff)
    else:
        _history(n, user, [_CREATED], start, staff)
    if real_state == "withdrawn":
        n.withdrawn_reason = STEPS["withdrawn"][-1][2]
    return n


def load(people: dict[str, Any]) -> None:
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    staff = people["admin"]
    closes = now + timedelta(days=25)
    fy27 = _cycle("FY2027", CycleStatus.PUBLISHED, now - timedelta(days=20), closes,
                  (date(closes.year + 1, 4, 12), date(closes.year + 1, 7, 31)))
    past_close = now - timedelta(days=700)
    fy25 = _cycle("FY2025", CycleStatus.CLOSED, past_close - timedelta(days=45), past_close,
                  (past_close.date() + timedelta(days=150),
                   past_close.date() + timedelta(days=260)))
    users = {"kl": people["nominator_kl"], "hanoi": people["nominator_hanoi"]}
    made: list[Nomination] = []
    for key in ("kl", "hanoi"):
        institution = people["institutions"][key]
        for candidate, state in zip(CANDIDATES[key], PAST_STATES[key], strict=False):
            past = _nomination(fy25, institution, users[key], candidate, state, staff,
                               fy25.opens_at + timedelta(days=3))
            made.append(past)
        for i, (candidate, state) in enumerate(zip(CANDIDATES[key], OPEN_STATES[key],
                                                   strict=True)):
            made.append(_nomination(fy27, institution, users[key], candidate, state, staff,
                                    fy27.opens_at + timedelta(days=1 + i)))
    db.session.flush()
    returned = next(n for n in made if n.state == NominationState.RETURNED)
    event = db.session.scalars(select(NominationEvent).where(
        NominationEvent.nomination_id == returned.id, NominationEvent.kind == "return")).one()
    passport = next(r for r in fy27.requirements if r.code == "passport")
    db.session.add_all([
        ReturnNote(nomination_id=returned.id, event_id=event.id, requirement_id=passport.id,
                   comment="The passport expires too early; please renew it and upload the "
                           "new copy."),
        ReturnNote(nomination_id=returned.id, event_id=event.id, field="experience_years",
                   comment="Please count only the years in the specialty."),
    ])
    for n in made:
        n.duplicate_flags = duplicates.find(n)
        if n.editable:
            refresh_completeness(n)
    db.session.flush()
