"""A nomination that moves during review: returned (its reviewers are told, it leaves the
queue), resubmitted (reviews submitted before are marked "changed since your review" with
what reviewers may know changed), withdrawn (it leaves the queue for good)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.nominations import uploads, workflow
from portal.nominations.services import update_fields
from portal.notify.models import OutboxMessage
from portal.review import changes, policy
from portal.review.models import Assignment, AssignmentStatus
from tests.factories import Factory
from tests.nominations.factories import confirm_again, pdf_bytes, requirement, store_blob
from tests.review.factories import BLIND_ALL, make_review_cycle


def _mails(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == template).order_by(OutboxMessage.to_addr)))


def test_returned_then_resubmitted_during_a_blind_review(app_ctx: Flask,
                                                         factory: Factory) -> None:
    rc = make_review_cycle(factory, blind=BLIND_ALL, documents=True)
    nomination = rc.nominations[1]  # reviewer A: draft; reviewer B: submitted
    nominator = factory.nominator(rc.institutions[0])
    with app_ctx.test_request_context("/", method="POST"):  # the nominations' mails link
        workflow.return_for_changes(nomination, rc.staff, "Please update the CV.", [])
    returned = _mails("review_nomination_return")
    assert sorted(m.to_addr for m in returned) == sorted(
        u.email for u in (rc.reviewers[0], rc.reviewers[1]))  # not the one who declined
    assert nomination.id not in {n.id for _a, n in db.session.execute(
        policy.assignments_visible_to(rc.reviewers[1])).all()}

    update_fields(nomination, {"family_name": "Hidden-Surname", "position": "Head nurse",
                               "phone": "+60 3 1234"}, nominator)
    cycle = rc.cycle
    for code in ("cv", "cv_anonymised", "passport"):
        blob = store_blob(pdf_bytes(), "application/pdf", "Hidden-Surname CV.pdf")
        expires = cycle.training_ends_on + timedelta(days=400) if code == "passport" else None
        uploads.attach(nomination, requirement(cycle, code), blob, nominator,
                       expires_on=expires)
    confirm_again(nomination)  # the name and the position changed: asked again
    with app_ctx.test_request_context("/", method="POST"):
        workflow.submit(nomination, nominator)
    db.session.commit()

    submitted = db.session.get(Assignment, rc.assignment(1, 1).id)
    draft = db.session.get(Assignment, rc.assignment(1, 0).id)
    assert submitted is not None and draft is not None
    # What reviewers of a blind cycle may know changed: not the name, not the phone, not
    # the CV with the name (unless blind), not the passport (sensitive).
    assert submitted.changed_since_review == ["field:position", "document:cv_anonymised"]
    assert draft.changed_since_review == []
    assert [str(x) for x in changes.describe(submitted.changed_since_review,
                                             cycle.requirements)] == [
        "Position", "CV without name, photo or institution"]
    mails = _mails("review_nomination_resubmit")
    assert len(mails) == 2
    to_b = next(m for m in mails if m.to_addr == rc.reviewers[1].email)
    assert "changed since your review" in to_b.body_text and "Position" in to_b.body_text
    for mail in returned + mails:
        text = mail.subject + mail.body_text + (mail.body_html or "")
        assert f"Candidate {nomination.reference}" in mail.subject
        for hidden in ("Hidden-Surname", nomination.given_names, rc.institutions[0].name):
            assert hidden not in text
    assert nomination.id in {n.id for _a, n in db.session.execute(
        policy.assignments_visible_to(rc.reviewers[1])).all()}


def test_a_withdrawn_nomination_leaves_the_queue_for_good(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    nomination = rc.nominations[2]  # reviewers A and B submitted
    nominator = factory.nominator(rc.institutions[1])
    workflow.withdraw(nomination, nominator, "The candidate took another post.")
    db.session.commit()
    for reviewer in (0, 1):
        a = db.session.get(Assignment, rc.assignment(2, reviewer).id)
        assert a is not None and a.status == AssignmentStatus.REMOVED
    assert rc.review(2, 0).id  # reviews stay for staff
    mails = _mails("review_nomination_withdraw")
    assert sorted(m.to_addr for m in mails) == sorted(
        u.email for u in (rc.reviewers[0], rc.reviewers[1]))
    # Not blind: the candidate is named, the institution is not.
    assert nomination.family_name in mails[0].subject
    assert rc.institutions[1].name not in mails[0].body_text


def test_moves_that_do_not_concern_reviewers_send_nothing(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    workflow.mark_under_review(rc.nominations[0], rc.staff)
    db.session.commit()
    assert not db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template.startswith("review_"))).all()
