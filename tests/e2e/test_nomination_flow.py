"""One nomination in a real browser, from an empty draft to submitted with real files, then
returned by staff for a fix and resubmitted; accessibility of its pages at 360 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.nominations.demo import make_jpeg, make_pdf
from tests.e2e.conftest import (
    _open,
    assert_accessible,
    no_horizontal_scroll,
    sign_in,
    watch,
)
from tests.e2e.conftest import wide_elements as wide

pytestmark = pytest.mark.e2e

NOMINATOR = "nominator@hospital-kl.example.org"
ADMIN = "admin@example.org"
HEAD = "director@hospital-kl.example.org"  # the KL head of institution (demo data)
CANDIDATE_EMAIL = "aminah.ismail.e2e@mail.example.org"
# The FY2027 demo requirements that take a PDF: every required one but the photo.
PDF_ROWS = ["Application form signed by the head of the institution",
                     "Curriculum vitae", "Medical licence", "Diploma", "Passport copy",
                     "English proficiency evidence", "Health certificate",
                     "Letter of recommendation"]
STAFF_NOTE = "The CV stops in 2023; please add your current post."
MOTIVATION = "To start a catheter lab in Kuala Lumpur."


@pytest.fixture
def staff(browser) -> Iterator[Any]:  # noqa: ANN001
    """A third tab (desktop) for program staff, beside the nominator's and the phone."""
    yield from _open(browser, viewport={"width": 1280, "height": 800})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Real files as a scanner or phone makes them (clean PDFs, a JPEG) and a fake PDF."""
    out = {}
    for label in PDF_ROWS:
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


def _receipts(e2e_app: Any, reference: str) -> int:
    """Receipts mailed for the nomination (one per submission)."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.notify.models import OutboxMessage

    with e2e_app.app_context():
        count = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template == "nomination_receipt",
            OutboxMessage.subject.contains(reference)))
        db.session.remove()
    return count


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

def _enter(field: Any, value: str) -> None:
    """Type a value and leave the field, as a person does: the change autosaves."""
    field.fill(value)
    field.press("Tab")


def _fill_facts(page: Any) -> None:
    """Section by section, each saved by htmx as the fields change; a wrong value is
    kept out of the draft and its error shown beside the field."""
    identity = _section(page, "identity")
    _enter(identity.get_by_label("Name as in passport (family name, or the only name)"),
           "ISMAIL")
    _enter(identity.get_by_label("Given names as in passport"), "AMINAH")
    _enter(identity.get_by_label("Name in native script"), "أمينة إسماعيل")
    _enter(identity.get_by_label("Date of birth"), "1990-05-14")
    identity.get_by_label("Sex").select_option(label="Female")
    identity.get_by_label("Nationality").select_option("MY")
    _enter(identity.get_by_label("Passport number"), "A1")  # too short: refused
    error = page.locator("#identity-passport_number-error")
    expect(error).to_have_text("A passport number has 5 to 20 letters and digits.")
    passport = page.locator("#identity-passport_number")
    expect(passport).to_have_attribute("aria-invalid", "true")
    assert "identity-passport_number-error" in passport.get_attribute("aria-describedby")
    # Beside the field: in the same field box, not in a summary at the top.
    assert passport.locator("xpath=..").locator(".field-error").count() == 1
    expect(identity.locator(".save-status")).to_have_text(
        "Saved, except the fields marked in red.")
    expect(page.get_by_label("Given names as in passport")).to_have_value("AMINAH")
    _enter(passport, "A98765432")
    _saved(page, "identity")
    expect(page.locator("#identity-passport_number-error")).to_have_count(0)

    # A slow line: what is typed while a save is under way stays, and is saved too.
    contact = _section(page, "contact")
    held: list[Any] = []

    def hold(route: Any) -> None:  # the answer to the first save comes late
        held.append(route)

    page.route("**/sections/contact", hold)
    with page.expect_request("**/sections/contact"):
        _enter(contact.get_by_label("Candidate's e-mail"), CANDIDATE_EMAIL)
    page.keyboard.type("+60 3 2615 5000")  # the phone field has the focus
    held[0].continue_()
    page.unroute("**/sections/contact", hold)
    expect(contact.locator(".save-status")).to_have_text("Saved")
    expect(page.get_by_label("Phone")).to_have_value("+60 3 2615 5000")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Phone")).to_have_value("+60 3 2615 5000")

    position = _section(page, "position")
    _enter(position.get_by_label("Position", exact=True), "Medical officer")
    _enter(position.get_by_label("Department"), "Cardiology")
    position.get_by_label("Specialty", exact=True).select_option(label="Cardiology")
    _enter(position.get_by_label("Years of experience in the specialty"), "6")
    _saved(page, "position")

    english = _section(page, "english")
    english.get_by_label("English level").select_option(label="Advanced")
    _enter(english.get_by_label("English evidence (test and score)"), "IELTS 7.0 (2025)")
    _saved(page, "english")

    # The last field, then straight on to the documents: the change is not lost.
    _enter(_section(page, "preferences").get_by_label("Preferred training field"),
           "Interventional cardiology")
    _section(page, "preferences").get_by_label("Motivation").fill(MOTIVATION)
    page.get_by_role("button", name="Next: documents").click()


def _upload_documents(page: Any, files: dict[str, Path], expiry: str, issued: str) -> None:
    # A text file named .pdf is refused by its content, with a message saying what to send.
    row = _upload(page, "Curriculum vitae", files["fake"])
    expect(row.get_by_role("alert")).to_have_text(
        "This file type is not accepted. Please upload one of: PDF.")
    expect(row.locator(".doc-state")).to_have_text("Missing")

    for label in PDF_ROWS:
        dates = {"expires_on": expiry} if label == "Passport copy" else \
            {"issued_on": issued} if label == "Health certificate" else {}
        row = _upload(page, label, files[label], **dates)
        expect(row.locator(".doc-state")).to_have_text("Uploaded")
        expect(row.locator(".doc-file a")).to_have_text(files[label].name)
        # The keyboard stays on the row; screen readers hear that it worked.
        expect(row.get_by_role("heading", level=3)).to_be_focused()
        expect(page.locator("#doc-announcer")).to_have_text(f"{label} uploaded.")
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
    assert_accessible(phone)
    assert no_horizontal_scroll(phone), wide(phone)
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
    assert_accessible(staff)
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
    page.wait_for_url(re.compile(rf"/nominations/{nomination_id}#documents$"))
    page.goto(f"{live_server}/nominations/{nomination_id}/edit")  # the draft kept it all
    expect(page.get_by_role("heading", level=1)).to_contain_text("AMINAH ISMAIL")
    for field, value in (("identity-passport_number", "A98765432"),
                         ("contact-phone", "+60 3 2615 5000"),
                         ("position-experience_years", "6"),
                         ("preferences-motivation", MOTIVATION)):
        expect(page.locator(f"#{field}")).to_have_value(value)
    assert_accessible(page)

    show = f"{live_server}/nominations/{nomination_id}"
    page.goto(show)
    _upload_documents(page, files, expiry, issued)
    # The nine documents of the checklist; the cycle's optional anonymised CV (for blind
    # review) stays empty.
    expect(page.locator("article.doc-row .doc-state",
                        has_text=re.compile(r"^\s*Uploaded\s*$"))).to_have_count(9)
    panel = page.locator("#panel")
    # Facts and files complete and eligible: only the two answers are still awaited.
    expect(panel.locator(".not-ready li")).to_have_text([
        "The head of your institution has not endorsed this nomination yet.",
        "The candidate has not given consent yet."])

    _ask_and_answer(page, phone, live_server, e2e_app)
    expect(panel).to_contain_text("Everything is ready. You can submit the nomination.")
    second_tab = page.context.new_page()  # the same page, left open in another tab
    seen = watch(second_tab)
    second_tab.goto(show)
    page.get_by_role("button", name="Submit nomination").dblclick()
    expect(page.locator("#flashes")).to_have_text(
        f"Submitted. A receipt listing every file was sent to {NOMINATOR}.")
    expect(page.locator("main > p .status")).to_have_text("Submitted")
    second_tab.get_by_role("button", name="Submit nomination").click()
    expect(second_tab.locator("#flashes")).to_have_text(
        "This nomination has already been submitted.")
    assert not seen.page_errors, seen.page_errors
    second_tab.close()
    history = page.locator("ol.history")
    expect(history.locator("strong", has_text="Submitted")).to_have_count(1)
    assert _events(e2e_app, nomination_id).count("submit") == 1  # history: the moves
    assert _receipts(e2e_app, reference) == 1
    expect(page.get_by_role("link", name="Edit candidate details")).to_have_count(0)
    expect(page.locator("form.upload-form")).to_have_count(0)

    _return_for_changes(staff, live_server, reference)

    page.reload()
    expect(panel).to_contain_text("Program staff returned this nomination for changes.")
    expect(history).to_contain_text("Please update the CV.")
    cv = _row(page, "Curriculum vitae")
    expect(cv.get_by_role("note")).to_have_text(f"Staff: {STAFF_NOTE}")
    _check_small_screen(phone, live_server, nomination_id)
    _upload(page, "Curriculum vitae", files["cv v2"])
    expect(cv.locator(".doc-file a")).to_have_text("cv_2026.pdf")
    expect(cv.locator(".doc-state")).to_have_text("Uploaded")
    expect(cv.get_by_role("note")).to_have_text(f"Staff: {STAFF_NOTE}")  # until resubmitted
    page.get_by_role("button", name="Submit again").click()
    expect(page.locator("main > p .status")).to_have_text("Resubmitted")
    expect(history.locator("strong", has_text="Resubmitted")).to_have_count(1)
    expect(cv.get_by_role("note")).to_have_count(0)  # the note was dealt with
    kinds = _events(e2e_app, nomination_id)
    assert [k for k in kinds if k in ("submit", "return", "resubmit")] == [
        "submit", "return", "resubmit"], kinds
    assert _receipts(e2e_app, reference) == 2


def test_deadline_countdown_keeps_time_while_the_page_is_open(page, live_server) -> None:  # noqa: ANN001
    sign_in(page, live_server, NOMINATOR, reuse=True)
    countdown = page.locator(".cycle-card .countdown").first
    expect(countdown).to_contain_text("left")  # as written by the server
    deadline = datetime.fromisoformat(countdown.get_attribute("data-deadline"))

    # The browser's clock 2 days, 3 hours and 30 seconds before the deadline.
    page.clock.install(time=deadline - timedelta(days=2, hours=3, seconds=30))
    page.reload()
    expect(countdown).to_have_text("2 days and 3 hours left")
    page.clock.fast_forward("50:30:00")  # the page stays open for 2 days and 2.5 hours
    expect(countdown).to_have_text("0 hours and 30 minutes left")
    page.clock.fast_forward("00:31:00")
    expect(countdown).to_have_text("The deadline has passed.")
