"""The reviewer's pages in a blind cycle show none of the hidden facts, and every page
runs the same number of SQL statements however long the queue is."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.nominations.models import NominationDocument
from portal.storage.models import Blob
from tests.conftest import count_queries, login
from tests.factories import Factory
from tests.nominations.factories import make_nomination
from tests.review.factories import (
    BLIND_ALL,
    add_to_pool,
    assign,
    full_scores,
    make_review,
    make_review_cycle,
)


def test_a_blind_dossier_shows_no_hidden_fact(client: FlaskClient, factory: Factory) -> None:
    rc = make_review_cycle(factory, blind=BLIND_ALL, documents=True)
    nomination = rc.nominations[0]
    # Uploaded file names carry the candidate's name, as they often do.
    for doc in db.session.scalars(select(NominationDocument).where(
            NominationDocument.nomination_id == nomination.id)):
        blob = db.session.get(Blob, doc.blob_id)
        assert blob is not None
        blob.original_name = f"{nomination.family_name} upload {doc.requirement_id}.pdf"
    db.session.commit()
    login(client, rc.reviewers[0])
    hidden = [nomination.family_name, nomination.given_names, nomination.native_name,
              nomination.email, nomination.passport_number, "1990-05-17",
              rc.institutions[0].name, "upload", "scan of"]
    for url in ("/review", f"/review/{nomination.id}", "/dashboard", "/review/mine"):
        page = client.get(url).get_data(as_text=True)
        for value in hidden:
            assert value not in page, (url, value)
    page = client.get(f"/review/{nomination.id}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and f"Candidate {nomination.reference}" in title.group(1)
    # Documents by their requirement's name: the anonymised CV and the application form;
    # not the full CV (unless blind), nor the passport or the health certificate.
    assert "CV without name, photo or institution.pdf" in page
    assert "Application form.pdf" in page
    assert "Curriculum vitae" not in page and "Passport" not in page and "Health" not in page


def _page_queries(client: FlaskClient, url: str) -> int:
    client.get(url)  # warm caches (translations, templates)
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_queue_and_workspace_queries_do_not_grow_with_the_queue(client: FlaskClient,
                                                                factory: Factory) -> None:
    rc = make_review_cycle(factory)
    me = rc.reviewers[0]  # has one review of each state; nomination 2's is submitted
    login(client, me)
    first = rc.nominations[2]
    urls = ["/review", f"/review/{first.id}", "/dashboard", "/review/mine"]
    before = {u: _page_queries(client, u) for u in urls}
    # Ten more dossiers, each with a submitted review of this reviewer and of another.
    other = factory.reviewer()
    add_to_pool(rc.cycle, other)
    for _ in range(10):
        n = make_nomination(rc.cycle, rc.institutions[0], state="under_review", documents=(),
                            confirmed=False)
        for reviewer in (me, other):
            make_review(assign(n, reviewer), status="submitted", criteria=rc.criteria,
                        scores=full_scores(rc.criteria))
    after = {u: _page_queries(client, u) for u in urls}
    assert after == before
