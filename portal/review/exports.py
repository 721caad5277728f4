"""A reviewer's own reviews as CSV or XLSX: blind-safe and safe to open in a spreadsheet.

The rows come from portal.review.policy.own_reviews (every review the reviewer wrote,
also after the decisions are published); the candidate is named by
portal.review.blind.candidate_label ("Candidate N-..." in a blind cycle), and nothing
else of the candidate is written: no hidden fact can reach the file. Cells are made
formula-safe by portal.exports. Nothing of other reviewers is in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from portal import exports
from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.db import utcnow
from portal.extensions import db
from portal.nominations.models import Nomination
from portal.review import blind, policy
from portal.review.models import Criterion, Review, ReviewSetup, ReviewStatus
from portal.review.reviewer_labels import RECOMMENDATION_LABELS

FORMATS = ("csv", "xlsx")

STATUS_LABELS: dict[str, LazyString] = {
    ReviewStatus.DRAFT: _l("Draft"),
    ReviewStatus.SUBMITTED: _l("Submitted"),
}


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    mimetype: str
    rows: int


def own_review_rows(user: User, cycle_id: int | None = None,
                    ) -> tuple[list[str], list[list[object]]]:
    """(header, rows) of the reviewer's own reviews, newest cycle first; one column per
    rubric criterion (matched across cycles by the criterion's code), in two queries."""
    query = (policy.own_reviews(user)
             .add_columns(Nomination, Cycle, ReviewSetup)
             .join(Nomination, Nomination.id == Review.nomination_id)
             .join(Cycle, Cycle.id == Review.cycle_id)
             .outerjoin(ReviewSetup, ReviewSetup.cycle_id == Review.cycle_id)
             .order_by(Cycle.opens_at.desc(), Cycle.id.desc(), Review.submitted_at,
                       Review.id))
    if cycle_id is not None:
        query = query.where(Review.cycle_id == cycle_id)
    found = db.session.execute(query).all()
    cycle_ids = list(dict.fromkeys(cycle.id for _r, _n, cycle, _s in found))
    criteria: dict[int, list[Criterion]] = {c: [] for c in cycle_ids}
    if cycle_ids:
        for criterion in db.session.scalars(
                select(Criterion).where(Criterion.cycle_id.in_(cycle_ids))
                .order_by(Criterion.position, Criterion.id)):
            criteria[criterion.cycle_id].append(criterion)
    codes: dict[str, str] = {}  # code -> column title (the newest cycle's wording)
    for cycle in cycle_ids:
        for criterion in criteria[cycle]:
            codes.setdefault(criterion.code, criterion.name)
    header = [_("Cycle"), _("Reference"), _("Candidate"), _("Status"),
              _("Submitted (UTC)"), _("Score (0-1)"), _("Recommendation"),
              *codes.values(), _("Comment to the committee"), _("Comment to the applicant")]
    rows: list[list[object]] = []
    for review, nomination, cycle, setup in found:
        by_code = {c.code: review.scores.get(str(c.id)) for c in criteria[cycle.id]}
        label = RECOMMENDATION_LABELS.get(review.recommendation)
        rows.append([
            cycle.name, nomination.reference, blind.candidate_label(nomination, setup),
            str(STATUS_LABELS.get(review.status, review.status)), review.submitted_at,
            None if review.score is None else round(review.score, 3),
            str(label) if label is not None else "",
            *(by_code.get(code) for code in codes),
            review.committee_comment, review.applicant_comment,
        ])
    return header, rows


def export_own_reviews(user: User, fmt: str, cycle_id: int | None = None) -> Export:
    """The reviewer's own reviews as CSV or XLSX, logged."""
    header, rows = own_review_rows(user, cycle_id)
    record("review.own_reviews_exported", actor=user, object_type="user", object_id=user.id,
           details={"format": fmt, "rows": len(rows), "cycle_id": cycle_id})
    name = f"my-reviews-{utcnow():%Y%m%d}.{fmt}"
    if fmt == "csv":
        return Export(exports.to_csv(header, rows), name, exports.CSV_MIMETYPE, len(rows))
    return Export(exports.to_xlsx(header, rows, _("My reviews")), name,
                  exports.XLSX_MIMETYPE, len(rows))
