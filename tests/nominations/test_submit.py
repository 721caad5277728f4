"""Endorsement and consent through one-time links, submission (once, in time, complete),
the receipt, withdrawal, return for changes and resubmission, with visible history."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import workflow
from portal.nominations.models import (
    Confirmation,
    Nomination,
    NominationDocument,
    NominationEvent,
    NominationState,
    ReturnNote,
)
from portal.notify.models import OutboxMessage
from portal.storage import Blob
from tests.nominations.factories import make_nomination


def _mine(nominator, cycle, **kw):  # noqa: ANN001, ANN003, ANN202
    return make_nomination(cycle, db.session.get(Institution, nominator.institution_id), **kw)


def _link(to: str, kind: str) -> str:
    body = db.session.scalars(select(OutboxMessage.body_text).where(
        OutboxMessage.to_addr == to).order_by(OutboxMessage.id.desc())).first()
    return re.search(rf"http://portal\.test(/confirm/{kind}/\S+)", body)[1]


def test_endorsement_and_consent_links_work_once_then_submit(client, nominator, cycle):
    nomination = _mine(nominator, cycle, confirmed=False)
    institution = db.session.get(Institution, nominator.institution_id)
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "has not endorsed" in page and "has not given consent" in page
    assert client.post(f"/nominations/{nomination.id}/submit").status_code == 303
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.DRAFT

    client.post(f"/nominations/{nomination.id}/confirmations/endorsement")
    endorse = _link(institution.head_email, "endorsement")
    client.post("/logout")  # the head has no account
    shown = client.get(endorse)
    assert shown.status_code == 200 and nomination.family_name in shown.get_data(as_text=True)
    answered = client.post(endorse, data={"decision": "granted"},
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answered.status_code == 200
    assert client.post(endorse, data={"decision": "declined", "comment": "no"}).status_code == 410
    assert client.get(endorse).status_code == 410
    row = db.session.scalars(select(Confirmation).where(
        Confirmation.kind == "endorsement")).one()
    assert (row.decision, row.decided_ip) == ("granted", "203.0.113.9")
    assert row.decided_at is not None

    from tests.conftest import login

    login(client, nominator)
    client.post(f"/nominations/{nomination.id}/confirmations/consent")
    consent = _link(nomination.email, "consent")
    client.post("/logout")
    text = client.get(consent).get_data(as_text=True)
    assert "I consent to transfer." in text  # the cycle's consent text
    assert client.post(consent, data={"decision": "correction_requested"}).status_code == 422
    assert client.post(consent, data={"decision": "granted"}).status_code == 200
    assert client.post(consent, data={"decision": "granted"}).status_code == 410

    login(client, nominator)
    response = client.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    assert "Submitted. A receipt" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.SUBMITTED


def test_receipt_lists_every_file_with_size_and_sha256(client, nominator, cycle):
    nomination = _mine(nominator, cycle)
    client.post(f"/nominations/{nomination.id}/submit")
    receipt = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "nomination_receipt")).one()
    assert receipt.to_addr == nominator.email
    blobs = db.session.scalars(select(Blob).join(
        NominationDocument, NominationDocument.blob_id == Blob.id)).all()
    assert len(blobs) == len([r for r in cycle.requirements if r.required])
    for blob in blobs:
        assert blob.sha256 in receipt.body_text
        assert f"{blob.size:,} bytes" in receipt.body_text


def test_double_click_and_second_tab_submit_once(client, nominator, cycle):
    nomination = _mine(nominator, cycle)
    first = client.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    second = client.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    assert "Submitted." in first.get_data(as_text=True)
    assert "already been submitted" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count(NominationEvent.id)).where(
        NominationEvent.kind == "submit")) == 1  # the history names the lifecycle's move
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.template == "nomination_receipt")) == 1


def test_after_the_deadline_a_clear_refusal(client, nominator, cycle):
    nomination = _mine(nominator, cycle)
    cycle.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    assert "The deadline for" in response.get_data(as_text=True)
    assert "passed on" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.DRAFT
    assert client.post("/nominations/new", data={"cycle_id": cycle.id}).status_code == 303
    assert db.session.scalar(select(func.count(Nomination.id))) == 1


def test_incomplete_or_ineligible_is_refused_and_lower_priority_only_warns(
        client, nominator, cycle):
    cycle.min_experience_years = 5
    db.session.commit()
    nomination = _mine(nominator, cycle, passport_number="")  # 4 years: too few
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "At least 5 years of experience" in page
    assert "Passport number" in page
    client.post(f"/nominations/{nomination.id}/submit")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.DRAFT
    cycle = db.session.merge(cycle)
    cycle.min_experience_years = None
    nomination = db.session.get(Nomination, nomination.id)
    nomination.passport_number, nomination.prior_participation = "B7654321", True
    db.session.commit()
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "lower priority" in page
    client.post(f"/nominations/{nomination.id}/submit")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.SUBMITTED


def test_withdraw_needs_a_reason(client, nominator, cycle):
    nomination = _mine(nominator, cycle, state=NominationState.SUBMITTED)
    assert client.post(f"/nominations/{nomination.id}/withdraw",
                       data={"reason": ""}).status_code == 422
    assert client.post(f"/nominations/{nomination.id}/withdraw",
                       data={"reason": "Accepted a post abroad"}).status_code == 303
    db.session.expire_all()
    withdrawn = db.session.get(Nomination, nomination.id)
    assert withdrawn.state == NominationState.WITHDRAWN
    assert withdrawn.withdrawn_reason == "Accepted a post abroad"


def test_returned_with_notes_fixed_and_resubmitted_with_history(
        app, client, factory, nominator, cycle):
    nomination = _mine(nominator, cycle, state=NominationState.SUBMITTED)
    passport = next(r for r in cycle.requirements if r.code == "passport")
    staff = factory.staff()
    with app.test_request_context():
        workflow.return_for_changes(
            db.session.get(Nomination, nomination.id), staff, "Two things to fix.",
            [("experience_years", None, "Count only years in the specialty."),
             (None, passport.id, "The scan is unreadable.")])
        db.session.commit()
    mail = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "nomination_returned")).one()
    assert mail.to_addr == nominator.email and "Two things to fix." in mail.body_text
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "Count only years in the specialty." in page
    assert "The scan is unreadable." in page
    edit = client.get(f"/nominations/{nomination.id}/edit")
    assert edit.status_code == 200
    assert "Count only years in the specialty." in edit.get_data(as_text=True)
    assert client.post(f"/nominations/{nomination.id}/sections/position",
                       data={"position-experience_years": "3",
                             "position-position": "Medical officer",
                             "position-specialty_id": str(cycle.specialties[0].id)}
                       ).status_code == 303
    client.post(f"/nominations/{nomination.id}/submit")
    db.session.expire_all()
    again = db.session.get(Nomination, nomination.id)
    assert again.state == NominationState.RESUBMITTED
    assert again.experience_years == 3
    assert db.session.scalar(select(func.count(ReturnNote.id)).where(
        ReturnNote.resolved_at.is_(None))) == 0
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    history = page[page.index('id="history-heading"'):]
    assert history.index("Returned for changes") < history.index("Resubmitted")
    assert "Two things to fix." in history
    assert "Count only years" not in page  # resolved notes are gone from the checklist


def test_only_the_latest_link_counts_and_endorsement_can_be_optional(client, nominator, cycle):
    nomination = _mine(nominator, cycle, confirmed=False)
    institution = db.session.get(Institution, nominator.institution_id)
    client.post(f"/nominations/{nomination.id}/confirmations/endorsement")
    old = _link(institution.head_email, "endorsement")
    client.post(f"/nominations/{nomination.id}/confirmations/endorsement")
    new = _link(institution.head_email, "endorsement")
    assert old != new
    stale = client.get(old)
    assert stale.status_code == 410 and "newer link" in stale.get_data(as_text=True)
    assert client.post(new, data={"decision": "declined"}).status_code == 422  # say why
    assert client.post(new, data={"decision": "declined",
                                  "comment": "Not this year."}).status_code == 200
    notice = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "nomination_confirmation_answered")).one()
    assert "declined" in notice.body_text and "Not this year." in notice.body_text

    cycle.endorsement_required = False
    db.session.add(Confirmation(nomination_id=nomination.id, kind="consent",
                                email=nomination.email, decision="granted",
                                decided_at=utcnow()))
    db.session.commit()
    client.post(f"/nominations/{nomination.id}/submit")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.SUBMITTED
