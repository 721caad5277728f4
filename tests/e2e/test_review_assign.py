"""Staff run the automatic assignment in a real browser: preview (htmx), apply, and see
the loads; then the nomination's page offers no conflicted reviewer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e

ADMIN = "admin@example.org"


def prepare(app: Flask) -> dict[str, Any]:
    """A cycle of its own (the e2e database is shared): 4 submitted nominations of two
    specialties, 3 reviewers in the pool, 2 reviews wanted; one reviewer conflicted with
    the first nomination's institution."""
    from portal.extensions import db
    from portal.nominations.models import NominationState
    from tests.factories import Factory
    from tests.nominations.factories import make_cycle, make_nomination
    from tests.review.factories import add_to_pool, make_conflict, make_setup

    with app.app_context():
        factory = Factory()
        cycle = make_cycle(name="FY2199")
        make_setup(cycle, reviews_wanted=2, default_load=4)
        institutions = [factory.institution(name="Assign E2E Hospital A"),
                        factory.institution(name="Assign E2E Hospital B", country="VN")]
        specialties = ["cardiology", "radiology"]
        nominations = [make_nomination(cycle, institutions[i % 2], specialty=specialties[i % 2],
                                       state=NominationState.SUBMITTED, documents=(),
                                       confirmed=False)
                       for i in range(4)]
        reviewers = [factory.reviewer(name=f"Assign E2E Reviewer {c}",
                                      email=f"assign-e2e-{c.lower()}@example.org")
                     for c in "ABC"]
        for i, person in enumerate(reviewers):
            add_to_pool(cycle, person, specialties=[specialties[i % 2]])
        make_conflict(cycle, reviewers[2], institution=institutions[0])
        db.session.commit()
        return {"cycle": cycle.id, "nomination": nominations[0].id,
                "conflicted": reviewers[2].name}


def test_staff_preview_and_apply_the_automatic_assignment(page: Any, live_server: str,
                                                          e2e_app: Flask) -> None:
    made = prepare(e2e_app)
    sign_in(page, live_server, ADMIN, reuse=True)
    page.goto(f"{live_server}/staff/review/{made['cycle']}/assignment")
    assert page.get_by_role("heading", level=1).inner_text().startswith(
        "Assignment of reviewers")
    loads = page.locator("td.load-cell")
    assert loads.all_inner_texts() == ["0", "0", "0"]

    page.get_by_role("button", name="Preview the automatic assignment").click()
    preview = page.locator("#preview article.assign-preview")
    preview.wait_for()
    assert "Every nomination (4) gets its 2 reviews." in preview.inner_text()
    assert "The review graph is connected" in preview.inner_text()
    after = preview.locator("td.after").all_inner_texts()
    # The conflicted cardiologist cannot take institution A's two cardiology dossiers, so
    # the radiologist does (and their own two): loads 2, 4, 2 within the limit of 4.
    assert sorted(map(int, after)) == [2, 2, 4]
    assert loads.all_inner_texts() == ["0", "0", "0"]  # nothing changed yet
    assert_accessible(page)

    preview.get_by_role("button", name="Apply this assignment").click()
    page.wait_for_url(re.compile(rf"/staff/review/{made['cycle']}/assignment$"))
    assert "Assignment applied: 8 reviews assigned" in page.locator("#flashes").inner_text()
    assert sorted(map(int, page.locator("td.load-cell").all_inner_texts())) == [2, 2, 4]

    # The nomination's page lists its reviewers and never offers the conflicted one.
    page.goto(f"{live_server}/staff/review/nominations/{made['nomination']}/assignment")
    assert "2 of 2 reviewers" in page.locator("main").inner_text()
    assert made["conflicted"] not in page.locator("main").inner_text()
    assert_accessible(page)
