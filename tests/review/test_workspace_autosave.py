"""Scoring a dossier: autosave with revision numbers, submission rules, the review window.

Saves arriving out of order keep the later one; a submission needs every required
criterion and the committee comment; a submitted review stays editable (and complete)
until review closes, then nothing changes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.review import scoring
from portal.review.models import Review, ReviewStatus
from portal.review.scoring import ReviewError, ReviewInput, StaleSave
from tests.conftest import login
from tests.factories import Factory
from tests.review.factories import ReviewCycle, make_review_cycle


def _form(rc: ReviewCycle, revision: int, *, value: str = "max", comment: str = "Good",
          **extra: str) -> dict[str, Any]:
    form: dict[str, Any] = {"revision": str(revision), "committee_comment": comment,
                            "recommendation": "yes"}
    for c in rc.criteria:
        form[f"score-{c.id}"] = str(c.scale_max if value == "max" else c.scale_min)
    form.update(extra)
    return form


def _stored(rc: ReviewCycle, n: int, r: int = 0) -> Review | None:
    db.session.expire_all()
    return db.session.scalar(select(Review).where(
        Review.assignment_id == rc.assignment(n, r).id))


@pytest.fixture
def rc(factory: Factory) -> ReviewCycle:
    return make_review_cycle(factory)


def test_two_saves_out_of_order_keep_the_later_one(client: FlaskClient, rc: ReviewCycle
                                                   ) -> None:
    login(client, rc.reviewers[0])
    url = f"/review/{rc.nominations[0].id}/autosave"
    later = client.post(url, data=_form(rc, 2, value="max", comment="Later"),
                        headers={"Accept": "application/json"})
    assert later.status_code == 200 and later.json["revision"] == 2
    earlier = client.post(url, data=_form(rc, 1, value="min", comment="Earlier"),
                          headers={"Accept": "application/json"})
    assert earlier.status_code == 409
    assert earlier.json["code"] == "stale"
    # The refusal carries what is stored, so the page can show it.
    assert earlier.json["stored"]["committee_comment"] == "Later"
    review = _stored(rc, 0)
    assert review is not None and review.committee_comment == "Later"
    assert review.revision == 2 and review.score == 1.0
    assert review.status == ReviewStatus.DRAFT


def test_a_second_tab_that_missed_a_save_is_refused(rc: ReviewCycle) -> None:
    reviewer, assignment = rc.reviewers[0], rc.assignment(1, 0)  # a draft at revision 1
    scoring.save(reviewer, assignment, ReviewInput(scores={}, committee_comment="tab 1"), 2)
    with pytest.raises(StaleSave) as refused:
        scoring.save(reviewer, assignment, ReviewInput(scores={}, committee_comment="tab 2"),
                     2)
    assert refused.value.status == 409
    assert refused.value.context["stored"]["committee_comment"] == "tab 1"


def test_autosave_keeps_the_score_in_step_and_records_only_the_start(
        client: FlaskClient, rc: ReviewCycle) -> None:
    login(client, rc.reviewers[0])
    url = f"/review/{rc.nominations[0].id}/autosave"
    clinical = rc.criteria[0]  # 1-5, weight 2
    first = client.post(url, data={"revision": "1", f"score-{clinical.id}": "5"},
                        headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.json["score"] == 1.0
    second = client.post(url, data={"revision": "2", f"score-{clinical.id}": "3"},
                         headers={"Accept": "application/json"})
    assert second.json["score"] == 0.5
    actions = [e.action for e in db.session.scalars(select(AuditEvent))
               if e.action.startswith("review.")]
    assert actions == ["review.started"]


def test_submit_needs_every_required_criterion_and_the_committee_comment(
        client: FlaskClient, rc: ReviewCycle) -> None:
    login(client, rc.reviewers[0])
    url = f"/review/{rc.nominations[0].id}"
    clinical, motivation = rc.criteria[0], rc.criteria[1]
    form = _form(rc, 1, comment="  ", action="submit")
    form[f"score-{motivation.id}"] = ""
    response = client.post(url, data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Score this criterion: it is required." in page
    assert "Write a comment to the committee: it is required." in page
    # What was typed is kept as a draft.
    review = _stored(rc, 0)
    assert review is not None and review.status == ReviewStatus.DRAFT
    assert review.scores[str(clinical.id)] == clinical.scale_max

    # The optional criterion may stay blank.
    form = _form(rc, 2, action="submit")
    form[f"score-{rc.criteria[3].id}"] = ""
    response = client.post(url, data=form)
    assert response.status_code == 303
    review = _stored(rc, 0)
    assert review is not None and review.status == ReviewStatus.SUBMITTED
    assert review.submitted_at is not None


def test_scores_outside_the_scale_are_refused_next_to_the_field(
        client: FlaskClient, rc: ReviewCycle) -> None:
    login(client, rc.reviewers[0])
    english = rc.criteria[2]  # 0-10
    form = _form(rc, 1, action="save")
    form[f"score-{english.id}"] = "11"
    response = client.post(f"/review/{rc.nominations[0].id}", data=form)
    assert response.status_code == 422
    assert "Choose a score from 0 to 10." in response.get_data(as_text=True)
    assert _stored(rc, 0) is None
    answer = client.post(f"/review/{rc.nominations[0].id}/autosave", data=form,
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.json["errors"] == {f"score-{english.id}": "Choose a score from 0 to 10."}


def test_a_submitted_review_is_edited_in_place_and_must_stay_complete(rc: ReviewCycle) -> None:
    reviewer, assignment = rc.reviewers[0], rc.assignment(2, 0)  # submitted, revision 1
    complete = scoring.values_of(rc.review(2, 0))
    edited = ReviewInput(scores=dict(complete.scores), recommendation="no",
                         committee_comment="On second thought, weaker.")
    saved = scoring.save(reviewer, assignment, edited, 2)
    assert saved.review.status == ReviewStatus.SUBMITTED
    assert saved.review.recommendation == "no"
    with pytest.raises(ReviewError) as refused:
        scoring.save(reviewer, assignment,
                     ReviewInput(scores=dict(complete.scores), committee_comment=""), 3)
    assert "committee_comment" in refused.value.context["errors"]
    db.session.expire_all()
    assert _stored(rc, 2) is not None
    assert _stored(rc, 2).committee_comment == "On second thought, weaker."  # type: ignore[union-attr]


def test_after_review_closes_the_review_is_read_only(client: FlaskClient, rc: ReviewCycle
                                                      ) -> None:
    rc.setup.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(ReviewError) as refused:
        scoring.save(rc.reviewers[0], rc.assignment(2, 0),
                     scoring.values_of(rc.review(2, 0)), 2)
    assert refused.value.code == "closed"
    login(client, rc.reviewers[0])
    page = client.get(f"/review/{rc.nominations[2].id}").get_data(as_text=True)
    assert "reviews can no longer be changed" in page
    assert '<fieldset class="review-fields" disabled>' in page
    assert "Save changes" not in page
    answer = client.post(f"/review/{rc.nominations[2].id}/autosave", data=_form(rc, 5),
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422 and answer.json["code"] == "closed"
    assert _stored(rc, 2).revision == 1  # type: ignore[union-attr]


def test_before_review_opens_the_dossier_reads_but_nothing_saves(rc: ReviewCycle) -> None:
    rc.setup.opens_at = utcnow() + timedelta(days=1)
    db.session.commit()
    with pytest.raises(ReviewError) as refused:
        scoring.save(rc.reviewers[0], rc.assignment(0, 0), ReviewInput(scores={}), 1)
    assert refused.value.code == "closed"


def test_two_first_saves_at_once_make_one_review(rc: ReviewCycle,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The second first save finds the row the first one made (UNIQUE assignment_id) and
    goes on as an update under the revision rule."""
    reviewer, assignment = rc.reviewers[0], rc.assignment(1, 0)  # a draft at revision 1
    real = scoring.review_of
    calls: list[int] = []

    def not_yet(a: Any) -> Review | None:  # the first look sees no row yet
        calls.append(1)
        return None if len(calls) == 1 else real(a)

    monkeypatch.setattr(scoring, "review_of", not_yet)
    saved = scoring.save(reviewer, assignment, ReviewInput(scores={}, committee_comment="x"), 2)
    db.session.commit()
    assert saved.review.id == rc.review(1, 0).id
    rows = db.session.scalars(select(Review).where(Review.assignment_id == assignment.id)).all()
    assert len(rows) == 1 and rows[0].committee_comment == "x" and rows[0].revision == 2
    assert len(calls) == 2
