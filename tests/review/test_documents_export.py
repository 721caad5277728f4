"""The reviewer's export of their own reviews: only theirs, blind-safe, formula-safe."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from portal.extensions import db
from tests.review.factories import BLIND_ALL, make_review_cycle

FORMULA = '=HYPERLINK("http://evil.example.org","Open")'


def test_a_reviewer_exports_their_own_reviews_blind_and_formula_safe(client, login_as,  # noqa: ANN001
                                                                     factory) -> None:
    rc = make_review_cycle(factory, blind=BLIND_ALL)
    mine = rc.review(2, 0)
    mine.committee_comment = FORMULA
    mine.applicant_comment = "Keep going."
    rc.review(2, 1).committee_comment = "Another reviewer's words."
    db.session.commit()
    nomination = rc.nominations[2]
    login_as(rc.reviewers[0])

    response = client.get("/review/my-reviews/export.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[7:11] == [c.name for c in rc.criteria]
    by_reference = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    # Reviewer 0 wrote a draft of nomination 1 and submitted nomination 2 (and nothing of
    # the dossiers that left the queue, or of the conflicted reviewer's).
    assert set(by_reference) == {rc.nominations[1].reference, nomination.reference}
    row = by_reference[nomination.reference]
    assert row["Candidate"] == f"Candidate {nomination.reference}"
    assert row["Status"] == "Submitted"
    assert row["Comment to the committee"] == "'" + FORMULA
    assert row["Comment to the applicant"] == "Keep going."
    assert row["Clinical experience"] == str(rc.criteria[0].scale_min
                                             + (rc.criteria[0].scale_max
                                                - rc.criteria[0].scale_min) // 2)
    assert by_reference[rc.nominations[1].reference]["Status"] == "Draft"
    for hidden in (nomination.family_name, nomination.given_names, nomination.native_name,
                   nomination.email, rc.institutions[1].name, "Another reviewer's words"):
        assert hidden not in text, hidden

    xlsx = client.get("/review/my-reviews/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    cells = [[c for c in r] for r in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == header
    assert {r[1] for r in cells[1:]} == set(by_reference)
    assert "'" + FORMULA in {r[11] for r in cells[1:]}

    assert client.get("/review/my-reviews/export.pdf").status_code == 404

    rc.setup.blind_fields = []  # not blind: the candidate's name is no secret
    db.session.commit()
    text = client.get("/review/my-reviews/export.csv").data.decode("utf-8-sig")
    assert nomination.candidate_name in text

    login_as(rc.staff)
    assert client.get("/review/my-reviews/export.csv").status_code == 403
