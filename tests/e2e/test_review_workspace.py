"""A reviewer scores a dossier in a real browser: autosave, a reload mid-way, a dropped
connection, submission, then the others' review and the discussion; sign-out forgets what
the browser kept; a conflicted reviewer gets 404 on the same dossier. The workspace
stacks at 360 px and passes axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.nominations.models import NominationState
from portal.review.models import Review, ReviewStatus
from tests.e2e.conftest import assert_accessible, no_horizontal_scroll, sign_in, wide_elements
from tests.factories import TEST_PASSWORD, Factory
from tests.nominations.factories import make_cycle, make_nomination
from tests.review.factories import (
    add_to_pool,
    assign,
    full_scores,
    make_conflict,
    make_criteria,
    make_review,
    make_setup,
)

pytestmark = pytest.mark.e2e

REVIEWER = "e2e.workspace.reviewer@example.org"
CONFLICTED = "e2e.workspace.conflicted@example.org"
COMMENT = "Clear plan for a catheter lab at home."


@pytest.fixture(scope="module")
def dossier(e2e_app: Any) -> dict[str, Any]:
    """A cycle of its own under review: one dossier (with a PDF) assigned to the e2e
    reviewer, to another reviewer who has submitted, and to a conflicted one."""
    with e2e_app.app_context():
        factory = Factory()
        cycle = make_cycle()
        make_setup(cycle)
        criteria = make_criteria(cycle)
        institution = factory.institution(name="E2E Workspace Hospital", country="PH",
                                          city="Manila", timezone="Asia/Manila")
        nomination = make_nomination(cycle, institution, state=NominationState.SUBMITTED,
                                     family_name="Reyes")
        me = factory.reviewer(name="E2E Reviewer", email=REVIEWER)
        other = factory.reviewer(name="E2E Other Reviewer",
                                 email="e2e.workspace.other@example.org")
        conflicted = factory.reviewer(name="E2E Conflicted", email=CONFLICTED)
        for user in (me, other, conflicted):
            add_to_pool(cycle, user)
        assign(nomination, me)
        make_review(assign(nomination, other), status=ReviewStatus.SUBMITTED,
                    criteria=criteria, scores=full_scores(criteria, "mid"),
                    committee_comment="The other reviewer's view.")
        assign(nomination, conflicted)
        make_conflict(cycle, conflicted, institution=institution)
        db.session.commit()
        return {"id": nomination.id, "criteria": [(c.id, c.name) for c in criteria]}


def _stored(app: Any, nomination_id: int) -> Review | None:
    with app.app_context():
        review = db.session.scalar(select(Review).where(
            Review.nomination_id == nomination_id, Review.committee_comment != "The other "
            "reviewer's view."))
        if review is not None:
            db.session.expunge(review)
        return review


def test_a_reviewer_scores_with_autosave_and_submits(page: Any, phone: Any, browser: Any,
                                                     live_server: str, e2e_app: Any,
                                                     dossier: dict[str, Any]) -> None:
    n = dossier["id"]
    (clinical_id, clinical), (motivation_id, _m), (english_id, _e), _need = dossier["criteria"]
    sign_in(page, live_server, REVIEWER, TEST_PASSWORD)
    page.get_by_role("link", name="My reviews").first.click()
    expect(page.get_by_text("0 of 1 submitted")).to_be_visible()
    page.locator(f"a[href^='/review/{n}']").first.click()
    status = page.locator("#review-save-status")

    # A score saves by itself and survives a reload.
    page.locator(f"fieldset#field-score-{clinical_id}").get_by_label("4", exact=True).check()
    expect(status).to_contain_text("Saved at")
    page.reload()
    expect(page.locator(f"input[name='score-{clinical_id}'][value='4']")).to_be_checked()

    # The connection drops while typing: the change waits in the browser, then goes.
    page.context.set_offline(True)
    page.get_by_label("Comment to the committee").fill(COMMENT)
    expect(status).to_contain_text("No connection")
    stored = _stored(e2e_app, n)
    assert stored is not None and stored.committee_comment == ""
    page.context.set_offline(False)  # the browser's "online" event sends it at once
    expect(status).to_contain_text("Saved at")
    stored = _stored(e2e_app, n)
    assert stored is not None and stored.committee_comment == COMMENT

    # Submitting checks the rubric: the required criteria first.
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Score this criterion: it is required.").first).to_be_visible()
    page.locator(f"fieldset#field-score-{motivation_id}").get_by_label("5", exact=True).check()
    page.locator(f"fieldset#field-score-{english_id}").get_by_label("8", exact=True).check()
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Your review is submitted.")).to_be_visible()
    stored = _stored(e2e_app, n)
    assert stored is not None and stored.status == ReviewStatus.SUBMITTED

    # Now the other review and the discussion show; a post appears without a reload.
    expect(page.get_by_text("The other reviewer's view.")).to_be_visible()
    page.get_by_label("Your message").fill("I would invite her.")
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".thread-post").filter(has_text="I would invite her.")).to_be_visible()
    expect(page.locator(".thread-post").first).to_contain_text("You (Reviewer A)")
    assert_accessible(page)

    # Sign-out forgets every draft kept in this browser (shared hospital computers).
    page.evaluate("localStorage.setItem('portal-review:0:0', '{}');"
                  "localStorage.setItem('unrelated', '1')")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    kept = page.evaluate("Object.keys(localStorage)")
    assert "unrelated" in kept and not [k for k in kept if k.startswith("portal-review:")]

    # On a phone the dossier and the rubric stack, nothing wider than the screen.
    sign_in(phone, live_server, REVIEWER, TEST_PASSWORD)
    phone.goto(f"{live_server}/review/{n}")
    dossier_box = phone.locator(".review-dossier").bounding_box()
    rubric_box = phone.locator(".review-pane").bounding_box()
    assert dossier_box and rubric_box
    assert rubric_box["y"] >= dossier_box["y"] + dossier_box["height"]
    assert no_horizontal_scroll(phone), wide_elements(phone)

    # The conflicted reviewer cannot open the dossier by its URL.
    context = browser.new_context(locale="en-US")
    try:
        other_tab = context.new_page()
        sign_in(other_tab, live_server, CONFLICTED, TEST_PASSWORD)
        assert other_tab.goto(f"{live_server}/review/{n}").status == 404
        assert f"/review/{n}" not in other_tab.goto(f"{live_server}/review").text()
    finally:
        context.close()
