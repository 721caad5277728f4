"""One nomination in a real browser, from an empty draft to submitted with real files, then
returned by staff for a fix and resubmitted; accessibility of its pages at 360 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.nominations.demo import make_jpeg, make_pdf
from tests.e2e.conftest import _open, assert_accessible, no_horizontal_scroll, sign_in
from tests.e2e.conftest import wide_elements as wide

pytestmark = pytest.mark.e2e

NOMINATOR = "nominator@hospital-kl.example.org"
ADMIN = "admin@example.org"
HEAD = "director@hospital-kl.example.org"  # the KL head of institution (demo data)
CANDIDATE_EMAIL = "aminah.ismail.e2e@mail.example.org"
PDF_ONLY_OR_MIXED = ["Application form signed by the head of the institution",
                     "Curriculum vitae", "Medical licence", "Diploma", "Passport copy",
                     "English proficiency evidence", "Health certificate",
                     "Letter of recommendation"]
STAFF_NOTE = "The CV stops in 2023; please add your current post."


@pytest.fixture
def staff(browser) -> Iterator[Any]:  # noqa: ANN001
    """A third tab (desktop) for program staff, beside the nominator's and the phone."""
    yield from _open(browser, viewport={"width": 1280, "height": 800})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Real files as a scanner or phone makes them (clean PDFs, a JPEG) and a fake PDF."""
    out = {}
    for label in PDF_ONLY_OR_MIXED:
        path = tmp_path / (re.sub(r"\W+", "_", label.lower())[:30] + ".pdf")
        path.write_bytes(make_pdf(label, ["Candidate: Aminah Ismail", "FY2027"]))
        out[label] = path
    out["Photo"] = tmp_path / "photo.jpg"
    out["Photo"].write_bytes(make_jpeg("Aminah Ismail"))
    out["cv v2"] = tmp_path / "cv_2026.pdf"
    out["cv v2"].write_bytes(make_pdf("Curriculum vitae", ["2016-2026: all posts"], pages=2))
    out["fake"] = tmp_path / "scan.pdf"  # a text file renamed: must be refused by content
    out["fake"].write_text("This is not a PDF, only text with a .pdf name.\n")
    return out


# --- helpers ----------------------------------------------------------------------------

def _section(tab: Any, name: str) -> Any:
    return tab.locator(f"#section-{name}")


def _saved(tab: Any, name: str) -> None:
    expect(_section(tab, name).locator(".save-status")).to_have_text("Saved")


def _row(tab: Any, label: str) -> Any:
    return tab.locator("article.doc-row").filter(
        has=tab.get_by_role("heading", name=re.compile("^" + re.escape(label))))


def _upload(tab: Any, label: str, path: Path, **dates: str) -> Any:
    row = _row(tab, label)
    row.locator("input[type=file]").set_input_files(path)
    for name, value in dates.items():
        row.locator(f"input[name={name}]").fill(value)
    row.get_by_role("button", name="Upload").click()
    return row


def _mail_link(e2e_app: Any, to: str, template: str, after_id: int) -> str:
    """The path of the one-time link in the newest mail of `template` sent to `to`."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.notify.models import OutboxMessage

    with e2e_app.app_context():
        bodies = db.session.scalars(
            select(OutboxMessage.body_text).where(
                OutboxMessage.to_addr == to, OutboxMessage.template == template,
                OutboxMessage.id > after_id).order_by(OutboxMessage.id.desc())).all()
        db.session.remove()
    assert len(bodies) == 1, (to, template, bodies)
    found = re.search(r"https?://[^/\s]+(/confirm/\S+)", bodies[0])
    assert found, bodies[0]
    return found.group(1)


def _last_mail_id(e2e_app: Any) -> int:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.notify.models import OutboxMessage

    with e2e_app.app_context():
        last = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        db.session.remove()
    return last


def _events(e2e_app: Any, nomination_id: int) -> list[str]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.nominations.models import NominationEvent

    with e2e_app.app_context():
        kinds = db.session.scalars(
            select(NominationEvent.kind).where(NominationEvent.nomination_id == nomination_id)
            .order_by(NominationEvent.id)).all()
        db.session.remove()
    return list(kinds)


def _validity_dates(e2e_app: Any) -> tuple[str, str]:
    """(passport expiry, health certificate issue date) that pass the FY2027 rules."""
    from sqlalchemy import select

    from portal.cycles.models import Cycle
    from portal.extensions import db

    with e2e_app.app_context():
        cycle = db.session.scalars(select(Cycle).where(Cycle.name == "FY2027")).one()
        ends = cycle.training_ends_on
        db.session.remove()
    return (ends + timedelta(days=3 * 365)).isoformat(), \
        (date.today() - timedelta(days=10)).isoformat()


# --- the steps --------------------------------------------------------------------------

def _fill_facts(page: Any) -> None:
    """Section by section, each saved by htmx as the fields change; a wrong value is
    kept out of the draft and its error shown beside the field."""
    identity = _section(page, "identity")
    identity.get_by_label("Name as in passport (family name, or the only name)").fill("ISMAIL")
    identity.get_by_label("Given names as in passport").fill("AMINAH")
    identity.get_by_label("Name in native script").fill("أمينة إسماعيل")
    identity.get_by_label("Date of birth").fill("1990-05-14")
    identity.get_by_label("Sex").select_option(label="Female")
    identity.get_by_label("Nationality").select_option("MY")
    identity.get_by_label("Passport number").fill("A1")  # too short: refused
    error = page.locator("#identity-passport_number-error")
    expect(error).to_have_text("A passport number has 5 to 20 letters and digits.")
    passport = page.locator("#identity-passport_number")
    expect(passport).to_have_attribute("aria-invalid", "true")
    assert "identity-passport_number-error" in passport.get_attribute("aria-describedby")
    # Beside the field: in the same field box, not in a summary at the top.
    assert passport.locator("xpath=..").locator(".field-error").count() == 1
    expect(identity.locator(".save-status")).to_have_text("Saved, except the fields marked in red.")
    expect(page.get_by_label("Given names as in passport")).to_have_value("AMINAH")
    passport.fill("A98765432")
    _saved(page, "identity")
    expect(page.locator("#identity-passport_number-error")).to_have_count(0)

    contact = _section(page, "contact")
    contact.get_by_label("Candidate's e-mail").fill(CANDIDATE_EMAIL)
    contact.get_by_label("Phone").fill("+60 3 2615 5000")
    _saved(page, "contact")

    position = _section(page, "position")
    position.get_by_label("Position", exact=True).fill("Medical officer")
    position.get_by_label("Department").fill("Cardiology")
    position.get_by_label("Specialty", exact=True).select_option(label="Cardiology")
    position.get_by_label("Years of experience in the specialty").fill("6")
    _saved(page, "position")

    english = _section(page, "english")
    english.get_by_label("English level").select_option(label="Advanced")
    english.get_by_label("English evidence (test and score)").fill("IELTS 7.0 (2025)")
    _saved(page, "english")

    preferences = _section(page, "preferences")
    preferences.get_by_label("Preferred training field").fill("Interventional cardiology")
    preferences.get_by_label("Motivation").fill("To start a catheter lab in Kuala Lumpur.")
    _saved(page, "preferences")


def _upload_documents(page: Any, files: dict[str, Path], expiry: str, issued: str) -> None:
    # A text file named .pdf is refused by its content, with a message saying what to send.
    row = _upload(page, "Curriculum vitae", files["fake"])
    expect(row.get_by_role("alert")).to_have_text(
        "This file type is not accepted. Please upload one of: PDF.")
    expect(row.locator(".doc-state")).to_have_text("Missing")

    for label in PDF_ONLY_OR_MIXED:
        dates = {"expires_on": expiry} if label == "Passport copy" else \
            {"issued_on": issued} if label == "Health certificate" else {}
        row = _upload(page, label, files[label], **dates)
        expect(row.locator(".doc-state")).to_have_text("Uploaded")
        expect(row.locator(".doc-file a")).to_have_text(files[label].name)
    row = _upload(page, "Photo", files["Photo"])
    expect(row.locator(".doc-state")).to_have_text("Uploaded")
    expect(row.locator(".doc-file a")).to_have_text("photo.jpg")
    expect(_row(page, "Passport copy").locator(".doc-file")).to_contain_text(f"expires {expiry}")
    expect(_row(page, "Health certificate").locator(".doc-file")).to_contain_text(
        f"issued {issued}")
    expect(page.locator("article.doc-row .field-error")).to_have_count(0)


def _answer(phone: Any, live_server: str, path: str, button: str) -> None:
    """The head / the candidate opens the one-time link (no account) and answers."""
    phone.goto(live_server + path)
    expect(phone.get_by_role("definition").filter(has_text="AMINAH ISMAIL")).to_have_count(1)
    phone.get_by_role("button", name=button).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    phone.goto(live_server + path)  # one time only
    expect(phone.get_by_role("heading", level=1)).to_have_text("This link cannot be used")


def _ask_and_answer(page: Any, phone: Any, live_server: str, e2e_app: Any) -> None:
    panel = page.locator("#panel")
    for kind, to, ask, answer in (
        ("endorsement", HEAD, "Ask the head to endorse", "I endorse this nomination"),
        ("consent", CANDIDATE_EMAIL, "Ask the candidate for consent",
         "My data is correct and I consent"),
    ):
        before = _last_mail_id(e2e_app)
        panel.get_by_role("button", name=ask).click()
        expect(page.locator("#flashes")).to_have_text(f"A one-time link was sent to {to}.")
        link = _mail_link(e2e_app, to, f"nomination_{kind}_request", before)
        _answer(phone, live_server, link, answer)
    page.reload()
    expect(panel).to_contain_text("endorsed on")
    expect(panel).to_contain_text("consent given on")


def _check_small_screen(phone: Any, live_server: str, nomination_id: int) -> None:
    sign_in(phone, live_server, NOMINATOR, reuse=True)
    for path in (f"/nominations/{nomination_id}/edit", f"/nominations/{nomination_id}"):
        phone.goto(live_server + path)
        assert_accessible(phone)
        assert no_horizontal_scroll(phone), (path, wide(phone))


def _return_for_changes(staff: Any, live_server: str, reference: str) -> None:
    sign_in(staff, live_server, ADMIN, reuse=True)
    staff.goto(f"{live_server}/staff/nominations/")
    staff.get_by_role("searchbox").fill(reference)
    staff.get_by_role("link", name="ISMAIL, AMINAH").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("ISMAIL, AMINAH")
    staff.get_by_role("button", name="Return for changes").click()
    staff.get_by_label("Message to the institution").fill("Please update the CV.")
    staff.get_by_label("Curriculum vitae", exact=True).fill(STAFF_NOTE)
    staff.get_by_role("button", name="Return to the institution").click()
    expect(staff.locator("#flashes")).to_have_text(
        "The nomination was returned to the institution for changes.")
    expect(staff.locator("main .status").first).to_have_text("Returned for changes")


# --- the test ---------------------------------------------------------------------------

def test_a_nomination_from_draft_to_resubmitted(page, phone, staff, live_server, e2e_app,  # noqa: ANN001
                                                 files) -> None:
    expiry, issued = _validity_dates(e2e_app)
    sign_in(page, live_server, NOMINATOR, reuse=True)
    page.goto(f"{live_server}/nominations")
    page.get_by_role("button", name="Start a new nomination").click()
    page.wait_for_url(re.compile(r"/nominations/\d+/edit$"))
    nomination_id = int(page.url.rsplit("/", 2)[-2])
    reference = page.locator("h1 .mono").inner_text()
    expect(page.get_by_role("heading", level=1)).to_contain_text("New nomination")

    _fill_facts(page)
    page.reload()  # the draft kept every valid value
    expect(page.get_by_role("heading", level=1)).to_contain_text("AMINAH ISMAIL")
    expect(page.locator("#identity-passport_number")).to_have_value("A98765432")
    expect(page.locator("#position-experience_years")).to_have_value("6")
    assert_accessible(page)

    page.get_by_role("button", name="Next: documents").click()
    page.wait_for_url(re.compile(rf"/nominations/{nomination_id}#documents$"))
    _upload_documents(page, files, expiry, issued)
    panel = page.locator("#panel")
    expect(panel.locator(".not-ready")).not_to_contain_text("documents are missing")
    expect(panel.locator(".not-ready")).not_to_contain_text("details are missing")

    _ask_and_answer(page, phone, live_server, e2e_app)
    expect(panel).to_contain_text("Everything is ready. You can submit the nomination.")
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST"
            and r.url.endswith(f"/nominations/{nomination_id}/submit") else None)
    page.get_by_role("button", name="Submit nomination").dblclick()
    expect(page.locator("#flashes")).to_contain_text("ubmitted")
    expect(page.locator("main > p .status")).to_have_text("Submitted")
    history = page.locator("ol.history")
    expect(history.locator("strong", has_text="Submitted")).to_have_count(1)
    assert _events(e2e_app, nomination_id).count("submitted") == 1, posts
    expect(page.get_by_role("link", name="Edit candidate details")).to_have_count(0)
    expect(page.locator("form.upload-form")).to_have_count(0)

    _return_for_changes(staff, live_server, reference)

    page.reload()
    expect(panel).to_contain_text("Program staff returned this nomination for changes.")
    cv = _row(page, "Curriculum vitae")
    expect(cv.get_by_role("note")).to_have_text(f"Staff: {STAFF_NOTE}")
    _check_small_screen(phone, live_server, nomination_id)
    _upload(page, "Curriculum vitae", files["cv v2"])
    expect(cv.locator(".doc-file a")).to_have_text("cv_2026.pdf")
    expect(cv.locator(".doc-state")).to_have_text("Uploaded")
    page.get_by_role("button", name="Submit again").click()
    expect(page.locator("main > p .status")).to_have_text("Resubmitted")
    expect(history.locator("strong", has_text="Resubmitted")).to_have_count(1)
    expect(cv.get_by_role("note")).to_have_count(0)  # the note was dealt with
    kinds = _events(e2e_app, nomination_id)
    assert [k for k in kinds if k in ("submitted", "returned", "resubmitted")] == [
        "submitted", "returned", "resubmitted"], kinds
