"""The rubric: criteria with scales, weights and guidance; the weighted score; the lock
after the first submitted review, also against a submission racing a change; copies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.cycles.models import Cycle
from portal.extensions import db
from portal.review import rubric
from portal.review.models import Assignment, Criterion, Review, ReviewSetup, ReviewStatus
from tests.factories import Factory
from tests.nominations.factories import make_cycle, make_nomination
from tests.review.factories import (
    add_to_pool,
    assign,
    full_scores,
    make_criteria,
    make_review,
    make_setup,
)

CRITERION = {"name": "Clinical experience", "description": "Years and breadth",
             "guidance": "1: None\n5: Leads the service", "scale_min": "1", "scale_max": "5",
             "weight": "2", "required": "y"}


def _world(factory: Factory) -> tuple[Cycle, Assignment, list[Criterion]]:
    cycle = make_cycle()
    make_setup(cycle)
    criteria = make_criteria(cycle)
    reviewer = factory.reviewer()
    add_to_pool(cycle, reviewer)
    nomination = make_nomination(cycle, factory.institution(), state="under_review",
                                 documents=(), confirmed=False)
    return cycle, assign(nomination, reviewer), criteria


def test_staff_build_a_rubric(client: FlaskClient, factory: Factory,
                              login_as: Callable[..., object]) -> None:
    cycle = make_cycle()
    login_as(factory.staff())
    assert client.post(f"/staff/review/{cycle.id}/rubric/criteria",
                       data=CRITERION).status_code == 303
    assert client.post(f"/staff/review/{cycle.id}/rubric/criteria",
                       data=dict(CRITERION, name="English", scale_min="0", scale_max="10",
                                 weight="1", guidance="", required="")).status_code == 303
    first, english = rubric.criteria_of(cycle.id)
    assert (first.code, first.guidance, first.weight) == (
        "clinical_experience", {"1": "None", "5": "Leads the service"}, 2.0)
    assert (english.scale_min, english.scale_max, english.required) == (0, 10, False)
    page = client.get(f"/staff/review/{cycle.id}/rubric").text
    assert "Leads the service" in page and "Strongly recommend" in page

    response = client.post(f"/staff/review/{cycle.id}/rubric/criteria",
                           data=dict(CRITERION, guidance="5: fine\n9: outside"))
    assert response.status_code == 422
    assert "Guidance is given for points outside the scale: 9." in response.text
    response = client.post(f"/staff/review/{cycle.id}/rubric/criteria",
                           data=dict(CRITERION, scale_min="5", scale_max="5"))
    assert response.status_code == 422 and "The scale must run upwards" in response.text
    assert len(rubric.criteria_of(cycle.id)) == 2

    client.post(f"/staff/review/{cycle.id}/rubric/criteria/{english.id}/delete")
    assert [c.name for c in rubric.criteria_of(cycle.id)] == ["Clinical experience"]


def test_the_score_is_the_weighted_mean_over_the_criteria_scored(factory: Factory) -> None:
    _cycle, assignment, criteria = _world(factory)
    clinical, motivation, english, need = criteria  # 1-5 w2, 1-5 w1, 0-10 w1, 1-5 w1
    review = make_review(assignment, scores={str(clinical.id): 5, str(english.id): 5})
    # (2 * 1.0 + 1 * 0.5) / (2 + 1): blank criteria do not count as zero.
    assert rubric.score_of(review) == pytest.approx(2.5 / 3)
    review.scores = {}
    assert rubric.score_of(review) is None
    review.scores = full_scores(criteria, "min")
    assert rubric.score_of(review, criteria) == 0.0
    del motivation, need


def test_after_the_first_submission_only_wording_changes(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    cycle, assignment, criteria = _world(factory)
    make_review(assignment, status=ReviewStatus.SUBMITTED, scores=full_scores(criteria))
    login_as(factory.staff())
    first = criteria[0]
    url = f"/staff/review/{cycle.id}/rubric/criteria/{first.id}"
    same = {"name": first.name, "description": "", "guidance": "", "scale_min": "1",
            "scale_max": "5", "weight": "2", "required": "y", "position": "0"}

    response = client.post(url, data=dict(same, weight="3"))
    assert response.status_code == 422
    assert "criteria, scales, weights and required flags are locked" in response.text
    response = client.post(url, data=dict(same, scale_max="10"))
    assert response.status_code == 422
    response = client.post(f"/staff/review/{cycle.id}/rubric/criteria", data=CRITERION)
    assert response.status_code == 422 and "locked" in response.text
    response = client.post(f"{url}/delete")
    assert response.status_code == 303
    follow = client.get(response.headers["Location"]).text
    assert "locked" in follow

    assert client.post(url, data=dict(same, name="Clinical experience in the specialty",
                                      guidance="1: Little")).status_code == 303
    db.session.expire_all()
    criterion = db.session.get(Criterion, first.id)
    assert criterion is not None
    assert (criterion.name, criterion.guidance, criterion.weight, criterion.scale_max) == (
        "Clinical experience in the specialty", {"1": "Little"}, 2.0, 5)
    assert len(rubric.criteria_of(cycle.id)) == 4


def _submit_holding_the_lock(app: Flask, cycle_id: int, assignment_id: int,
                             locked: threading.Event) -> None:
    """A reviewer's first submission as the workspace makes it: under the rubric lock,
    committed half a second after taking it."""
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert cycle is not None
        rubric.lock_rubric(cycle)
        a = db.session.get(Assignment, assignment_id)
        assert a is not None
        db.session.add(Review(assignment_id=a.id, cycle_id=a.cycle_id,
                              nomination_id=a.nomination_id, reviewer_id=a.reviewer_id,
                              status=ReviewStatus.SUBMITTED, scores={}))
        db.session.flush()
        locked.set()
        time.sleep(0.5)
        db.session.commit()
        db.session.remove()


def test_a_weight_change_racing_the_first_submission_is_refused(
        app_ctx: Flask, factory: Factory) -> None:
    cycle, assignment, criteria = _world(factory)
    cycle_id, assignment_id, criterion_id = cycle.id, assignment.id, criteria[0].id
    db.session.commit()  # nothing of this test holds a lock while the reviewer submits
    locked = threading.Event()
    reviewer = threading.Thread(target=_submit_holding_the_lock,
                                args=(app_ctx, cycle_id, assignment_id, locked))
    reviewer.start()
    try:
        assert locked.wait(10)
        cycle = db.session.get(Cycle, cycle_id)
        criterion = db.session.get(Criterion, criterion_id)
        assert cycle is not None and criterion is not None
        values = {"name": criterion.name, "scale_min": 1, "scale_max": 5, "weight": 9.0,
                  "required": True}
        with pytest.raises(rubric.RubricError, match="locked"):
            rubric.update_criterion(cycle, criterion, values, None)  # waits for the lock
    finally:
        reviewer.join()
        db.session.rollback()
    assert db.session.scalar(select(Criterion.weight).where(Criterion.id == criterion_id)) == 2.0


def test_copy_a_rubric_and_its_settings_from_an_earlier_cycle(
        client: FlaskClient, factory: Factory, login_as: Callable[..., object]) -> None:
    earlier = make_cycle()
    make_setup(earlier, reviews_wanted=2, default_load=9, blind=["name", "photo"],
               confidentiality_text="Old terms")
    make_criteria(earlier)
    cycle = make_cycle()
    make_criteria(cycle, [{"code": "old", "name": "Old", "scale_min": 1, "scale_max": 3}])
    login_as(factory.staff())
    page = client.get(f"/staff/review/{cycle.id}/rubric").text
    assert earlier.name in page
    response = client.post(f"/staff/review/{cycle.id}/rubric/copy",
                           data={"source": str(earlier.id), "settings": "y"})
    assert response.status_code == 303
    copied = rubric.criteria_of(cycle.id)
    assert [c.code for c in copied] == [c.code for c in rubric.criteria_of(earlier.id)]
    target = db.session.scalar(select(ReviewSetup).where(ReviewSetup.cycle_id == cycle.id))
    assert target is not None
    assert (target.reviews_wanted, target.default_load, target.blind_fields,
            target.confidentiality_text, target.opens_at) == (
        2, 9, ["name", "photo"], "Old terms", None)


def test_copy_is_refused_once_the_rubric_is_locked(factory: Factory) -> None:
    cycle, assignment, criteria = _world(factory)
    make_review(assignment, status=ReviewStatus.SUBMITTED, scores=full_scores(criteria))
    earlier = make_cycle()
    make_criteria(earlier, [{"code": "x", "name": "X"}])
    with pytest.raises(rubric.RubricError, match="locked"):
        rubric.copy_rubric(earlier, cycle, None)
    db.session.rollback()
    assert len(rubric.criteria_of(cycle.id)) == 4


def test_drafts_follow_a_rubric_changed_before_any_submission(factory: Factory) -> None:
    cycle, assignment, criteria = _world(factory)
    clinical, _motivation, english, _need = criteria
    draft = make_review(assignment, scores={str(clinical.id): 5, str(english.id): 8})
    rubric.update_criterion(cycle, english, {"name": english.name, "scale_min": 1,
                                             "scale_max": 5, "weight": 1.0,
                                             "required": True}, None)
    assert draft.scores == {str(clinical.id): 5}  # 8 no longer fits the scale
    assert draft.score == 1.0
    rubric.delete_criterion(cycle, clinical, None)
    assert draft.scores == {} and draft.score is None
