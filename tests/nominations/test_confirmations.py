"""Endorsement and consent bound to the facts they confirmed (issue 12, points 1 and 2),
and the per-nomination limit on links (point 3's part for nominations)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Confirmation, Nomination, NominationState
from portal.notify.models import OutboxMessage
from tests.conftest import login
from tests.nominations.factories import make_cycle, make_nomination

HTMX = {"HX-Request": "true"}


def _mine(nominator, cycle, **kw):  # noqa: ANN001, ANN003, ANN202
    return make_nomination(cycle, db.session.get(Institution, nominator.institution_id), **kw)


def _mails(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == template).order_by(OutboxMessage.id)))


def _link(to: str, kind: str) -> str:
    body = db.session.scalars(select(OutboxMessage.body_text).where(
        OutboxMessage.to_addr == to).order_by(OutboxMessage.id.desc())).first()
    return re.search(rf"http://portal\.test(/confirm/{kind}/\S+)", body)[1]


def _rows(nomination: Nomination) -> dict[str, Confirmation]:
    db.session.expire_all()
    return {c.kind: c for c in db.session.scalars(select(Confirmation).where(
        Confirmation.nomination_id == nomination.id).order_by(Confirmation.id))}


# -- point 1: a change of a confirmed fact voids the confirmation ----------------------

def test_new_name_passport_and_email_void_consent_and_endorsement_until_asked_again(
        client, nominator, cycle):
    """The review's case: a returned nomination gets another person's name, passport and
    e-mail; the panel said "consent given / endorsed" and resubmission passed."""
    nomination = _mine(nominator, cycle, state=NominationState.RETURNED)
    old_email, old_passport = nomination.email, nomination.passport_number
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "Everything is ready" in page

    client.post(f"/nominations/{nomination.id}/sections/identity", headers=HTMX,
                data={"identity-family_name": "Someone", "identity-given_names": "Else",
                      "identity-passport_number": "Z7654321",
                      "identity-date_of_birth": "1990-05-17", "identity-sex": "female",
                      "identity-nationality": "MY"})
    client.post(f"/nominations/{nomination.id}/sections/contact", headers=HTMX,
                data={"contact-email": "someone.else@example.org"})

    # The nominator cannot (re)submit, and the panel and the history say why.
    refused = client.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.RETURNED
    assert "consent must be asked for again" in refused.get_data(as_text=True)
    panel = client.get(f"/nominations/{nomination.id}/panel", headers=HTMX).get_data(
        as_text=True)
    assert panel.count("but no longer valid") == 2
    assert "Passport number changed afterwards" in panel
    assert "The candidate's consent must be asked for again" in panel
    assert "The endorsement must be asked for again" in panel
    assert "Everything is ready" not in panel
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    history = page[page.index('id="history-heading"'):]
    assert "Consent no longer valid: confirmed details changed" in history
    assert "Endorsement no longer valid: confirmed details changed" in history
    assert "Given names as in passport, Name in native script, Passport number" in history
    rows = _rows(nomination)
    assert rows["consent"].voided_at is not None and rows["endorsement"].voided_at is not None
    # The first change voided both (the later e-mail change finds them void already).
    assert rows["consent"].voided_fields == ["family_name", "given_names", "native_name",
                                             "passport_number"]
    assert rows["endorsement"].voided_fields == rows["consent"].voided_fields

    # The candidate is told, at the address they were asked at (the old one).
    [mail] = _mails("nomination_facts_changed")
    assert mail.to_addr == old_email
    assert "Passport number" in mail.body_text and "Candidate's e-mail" not in mail.body_text
    assert old_passport not in mail.body_text and "Z7654321" not in mail.body_text
    assert "Someone" not in mail.body_text
    assert nomination.reference in mail.body_text and "KL Hospital" in mail.body_text

    # Asked again and granted, it counts again (a new row; the voided one stays).
    client.post(f"/nominations/{nomination.id}/confirmations/consent")
    client.post(f"/nominations/{nomination.id}/confirmations/endorsement")
    head = db.session.get(Institution, nominator.institution_id).head_email
    consent, endorse = _link("someone.else@example.org", "consent"), _link(head, "endorsement")
    client.post("/logout")
    assert client.post(consent, data={"decision": "granted"}).status_code == 200
    assert client.post(endorse, data={"decision": "granted"}).status_code == 200
    login(client, nominator)
    client.post(f"/nominations/{nomination.id}/submit")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.RESUBMITTED
    assert db.session.scalar(select(Confirmation.id).where(
        Confirmation.nomination_id == nomination.id,
        Confirmation.voided_at.is_not(None)).limit(1)) is not None


def test_position_and_specialty_void_only_the_endorsement_other_facts_nothing(
        client, nominator, cycle):
    nomination = _mine(nominator, cycle)
    client.post(f"/nominations/{nomination.id}/sections/contact", headers=HTMX,
                data={"contact-email": nomination.email, "contact-phone": "+60 3 1234"})
    client.post(f"/nominations/{nomination.id}/sections/english", headers=HTMX,
                data={"english-english_level": "fluent",
                      "english-english_evidence": "IELTS 8.0"})
    panel = client.get(f"/nominations/{nomination.id}/panel", headers=HTMX).get_data(
        as_text=True)
    assert "no longer valid" not in panel and "Everything is ready" in panel
    assert not _mails("nomination_facts_changed")

    client.post(f"/nominations/{nomination.id}/sections/position", headers=HTMX,
                data={"position-position": "Head of department",
                      "position-specialty_id": str(cycle.specialties[1].id),
                      "position-experience_years": "4"})
    panel = client.get(f"/nominations/{nomination.id}/panel", headers=HTMX).get_data(
        as_text=True)
    assert "Specialty, Position changed afterwards" in panel
    assert "consent given on" in panel and panel.count("but no longer valid") == 1
    rows = _rows(nomination)
    assert rows["consent"].voided_at is None
    assert rows["endorsement"].voided_fields == ["specialty_id", "position"]
    [mail] = _mails("nomination_facts_changed")
    assert mail.to_addr == nomination.email and "Specialty" in mail.body_text


def test_a_link_whose_summary_no_longer_matches_is_refused(client, nominator, cycle):
    nomination = _mine(nominator, cycle, confirmed=False)
    client.post(f"/nominations/{nomination.id}/confirmations/consent")
    link = _link(nomination.email, "consent")
    # A confirmed fact changes by a way that voids nothing (as it would for a link sent
    # before this rule): the summary in the link no longer matches.
    db.session.get(Nomination, nomination.id).passport_number = "Q1112223"
    db.session.commit()
    client.post("/logout")
    shown = client.get(link)
    assert shown.status_code == 410
    text = shown.get_data(as_text=True)
    assert "changed after this link was sent (Passport number)" in text
    assert client.post(link, data={"decision": "granted"}).status_code == 410
    assert _rows(nomination)["consent"].decision is None


def test_a_waiting_link_is_voided_by_a_change_through_the_form(client, nominator, cycle):
    nomination = _mine(nominator, cycle, confirmed=False)
    client.post(f"/nominations/{nomination.id}/confirmations/endorsement")
    head = db.session.get(Institution, nominator.institution_id).head_email
    link = _link(head, "endorsement")
    client.post(f"/nominations/{nomination.id}/sections/identity", headers=HTMX,
                data={"identity-family_name": "Changed", "identity-given_names": "Mei Ling",
                      "identity-native_name": "陈美玲",
                      "identity-passport_number": nomination.passport_number,
                      "identity-date_of_birth": "1990-05-17", "identity-sex": "female",
                      "identity-nationality": "MY"})
    panel = client.get(f"/nominations/{nomination.id}/panel", headers=HTMX).get_data(
        as_text=True)
    assert "no longer works: Name as in passport (family name, or the only name) " \
           "changed afterwards" in panel
    client.post("/logout")
    answered = client.post(link, data={"decision": "granted"})
    assert answered.status_code == 410
    assert "changed after this link was sent" in answered.get_data(as_text=True)
    assert _rows(nomination)["endorsement"].decision is None


# -- point 2: where request and answer came from, for staff; cleared with retention -------

def test_staff_see_when_the_nominator_answered_their_own_link(app, client, factory,
                                                             nominator, cycle):
    own = _mine(nominator, cycle, confirmed=False)
    honest = _mine(nominator, cycle, confirmed=False)
    hospital = {"REMOTE_ADDR": "198.51.100.7"}
    for nomination in (own, honest):
        client.post(f"/nominations/{nomination.id}/confirmations/consent",
                    environ_base=hospital)
    # The nominator opens the candidate's link in their own browser.
    assert client.post(_link(own.email, "consent"), data={"decision": "granted"},
                       environ_base=hospital).status_code == 200
    # The candidate answers from their phone.
    phone = app.test_client()
    assert phone.post(_link(honest.email, "consent"), data={"decision": "granted"},
                      environ_base={"REMOTE_ADDR": "203.0.113.50"}).status_code == 200
    client.post("/logout")
    login(client, factory.staff())
    flagged = client.get(f"/staff/nominations/{own.id}").get_data(as_text=True)
    assert "same network address as the nominator" in flagged
    assert "same browser session as the nominator" in flagged
    clean = client.get(f"/staff/nominations/{honest.id}").get_data(as_text=True)
    assert "Endorsement and consent" in clean and "granted" in clean
    assert "same network address as the nominator" not in clean
    assert "same browser session as the nominator" not in clean
    rows = _rows(own)["consent"], _rows(honest)["consent"]
    assert (rows[0].same_address, rows[0].same_session) == (True, True)
    assert (rows[1].same_address, rows[1].same_session) == (False, False)
    assert len(rows[0].requested_session) == 64  # a keyed hash, not the cookie's value
    # Nominators never see the signal.
    client.post("/logout")
    login(client, nominator)
    assert "same network address" not in client.get(f"/nominations/{own.id}").get_data(
        as_text=True)


def test_origin_traces_are_cleared_with_the_nominations_retention(app_ctx, factory):
    today = utcnow().date()
    hospital = factory.institution()
    past = make_cycle(training_ends_on=today - timedelta(days=400), retention_days=365)
    recent = make_cycle(training_ends_on=today - timedelta(days=100), retention_days=365)
    old = make_nomination(past, hospital, state=NominationState.SUBMITTED, documents=())
    new = make_nomination(recent, hospital, state=NominationState.SUBMITTED, documents=())
    for row in db.session.scalars(select(Confirmation)):
        row.requested_ip = row.decided_ip = "198.51.100.7"
        row.requested_session = row.decided_session = "ab" * 32
    db.session.commit()

    result = app_ctx.test_cli_runner().invoke(args=["purge-sensitive"])

    assert result.exit_code == 0, result.output
    assert "cleared the network addresses and session hashes of 2 confirmation(s)" \
        in result.output
    for row in _rows(old).values():
        assert (row.requested_ip, row.requested_session, row.decided_ip,
                row.decided_session) == (None, None, None, None)
        assert row.decision == "granted"  # the answer itself stays
        assert not row.same_address and not row.same_session
    for row in _rows(new).values():
        assert row.same_address and row.same_session
    again = app_ctx.test_cli_runner().invoke(args=["purge-sensitive"])
    assert "of 0 confirmation(s)" in again.output


# -- point 3 (nominations' part): links per nomination are limited ---------------------------

@pytest.mark.parametrize("kind", ["consent", "endorsement"])
def test_links_per_nomination_are_limited(app, client, nominator, cycle, monkeypatch, kind):
    monkeypatch.setitem(app.config, "CONFIRM_REQUESTS_PER_DAY", 3)
    nomination = _mine(nominator, cycle, confirmed=False)
    other = _mine(nominator, cycle, confirmed=False)
    url = f"/nominations/{nomination.id}/confirmations/{kind}"
    for _ in range(3):
        assert client.post(url).status_code == 303
    template = f"nomination_{kind}_request"
    assert len(_mails(template)) == 3
    refused = client.post(url)
    assert refused.status_code == 303  # a plain form: the message, back on the page
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "sent 3 times for this nomination in the last 24 hours" in page
    assert len(_mails(template)) == 3
    # The other kind and the other nomination have their own count.
    other_kind = "endorsement" if kind == "consent" else "consent"
    client.post(f"/nominations/{nomination.id}/confirmations/{other_kind}")
    client.post(f"/nominations/{other.id}/confirmations/{kind}")
    assert len(_mails(template)) == 4 and len(_mails(f"nomination_{other_kind}_request")) == 1
    # A day later the nomination may ask again.
    db.session.execute(Confirmation.__table__.update().values(
        requested_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert client.post(url).status_code == 303
    assert len(_mails(template)) == 5


# -- point 3 for the nominations' own forms: names stay on one line --------------------

def test_candidate_names_typed_with_line_breaks_are_stored_on_one_line(client, nominator,
                                                                        cycle):
    """A name typed with line breaks and tabs reaches the page and every mail (consent,
    endorsement) as one line."""
    nomination = _mine(nominator, cycle, state=NominationState.DRAFT, confirmed=False)
    client.post(f"/nominations/{nomination.id}/sections/identity", headers=HTMX,
                data={"identity-family_name": "Tan\r\nWei",
                      "identity-given_names": "Mei\tLing\u2028Yan",
                      "identity-passport_number": "A12345678",
                      "identity-date_of_birth": "1990-05-17", "identity-sex": "female",
                      "identity-nationality": "MY"})
    db.session.expire_all()
    stored = db.session.get(Nomination, nomination.id)
    assert stored.family_name == "Tan Wei"
    assert stored.given_names == "Mei Ling Yan"
