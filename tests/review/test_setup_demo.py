"""The demo's review set-up: blind for name, native name, institution and photo, four
criteria, an anonymised CV, the reviewers in the pool with specialties; idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.review import blind, rubric
from portal.review.models import PoolMember
from portal.review.setup_demo import demo_setup
from tests.factories import Factory
from tests.nominations.factories import make_cycle, requirement


def test_demo_setup_twice_makes_one_review_set_up(factory: Factory) -> None:
    cycle = make_cycle()
    reviewers = [factory.reviewer() for _ in range(3)]
    setup = demo_setup(cycle, reviewers)
    demo_setup(cycle, reviewers)
    db.session.commit()
    assert setup.is_open() and setup.blind_fields == ["name", "native_name", "institution",
                                                      "photo"]
    assert [c.code for c in rubric.criteria_of(cycle.id)] == [
        "clinical", "motivation", "english", "need"]
    assert db.session.scalar(select(func.count()).select_from(PoolMember)) == 3
    specialties = [m.specialties for m in db.session.scalars(
        select(PoolMember).order_by(PoolMember.id))]
    assert all(len(s) == 2 for s in specialties)
    assert not blind.requirement_visible(requirement(cycle, "cv"), setup)
    assert blind.requirement_visible(requirement(cycle, "cv_anonymised"), setup)
