"""The shared review factories build the world their docstring promises, and the one
access rule (portal.review.policy) reads it as intended."""

from __future__ import annotations

from portal.extensions import db
from portal.review import policy
from tests.factories import Factory
from tests.review.factories import make_review_cycle


def test_the_review_world_has_its_shape(factory: Factory) -> None:
    rc = make_review_cycle(factory)
    visible = {n.id for _a, n in db.session.execute(
        policy.assignments_visible_to(rc.reviewers[0])).all()}
    assert visible == {rc.nominations[i].id for i in (0, 1, 2)}  # returned, withdrawn: no
    assert not db.session.execute(policy.assignments_visible_to(rc.conflicted)).all()
    assert not db.session.execute(policy.assignments_visible_to(rc.outsider)).all()
    assert rc.review(2, 0).submitted and not rc.review(1, 0).submitted
    assert rc.review(1, 1).score == 1.0
    assert 0 < (rc.review(2, 0).score or 0) < 1
