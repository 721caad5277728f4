"""Lifecycles of the review area: an assignment, and a review.

Assignment:   active --decline (reviewer)--> declined
              active --remove (staff; the portal when a conflict is found)--> removed
              declined | removed --reassign (staff)--> active
Review:       new --save (reviewer's first autosave)--> draft --submit (reviewer)--> submitted
              submitted --save (reviewer, until review closes)--> submitted

A submitted review stays submitted when its reviewer edits it before review closes (each
edit is checked as a submission is); after the close it is read-only. The state sets the
pages and services use are derived below.
"""

from __future__ import annotations

import enum

from portal.lifecycle import REVIEWER, STAFF, SYSTEM, Lifecycle, move
from portal.review.models import AssignmentStatus, ReviewStatus

A = AssignmentStatus

ASSIGNMENT = Lifecycle("assignment", list(AssignmentStatus), [
    move("decline", {A.ACTIVE}, A.DECLINED, REVIEWER),
    move("remove", {A.ACTIVE}, A.REMOVED, STAFF, SYSTEM),
    move("reassign", {A.DECLINED, A.REMOVED}, A.ACTIVE, STAFF),
])


class ReviewState(enum.StrEnum):
    """ReviewStatus plus the state of an assignment with no review row yet."""

    NEW = "new"
    DRAFT = ReviewStatus.DRAFT.value
    SUBMITTED = ReviewStatus.SUBMITTED.value


R = ReviewState

REVIEW = Lifecycle("review", list(ReviewState), [
    move("save", {R.NEW, R.DRAFT}, R.DRAFT, REVIEWER),
    move("submit", {R.NEW, R.DRAFT}, R.SUBMITTED, REVIEWER),
    move("save", {R.SUBMITTED}, R.SUBMITTED, REVIEWER),
])

# Assignments that put a dossier in a reviewer's queue and count against their load.
LIVE_ASSIGNMENTS = frozenset({A.ACTIVE})
# Assignments staff may add back.
ENDED_ASSIGNMENTS = ASSIGNMENT.sources("reassign")
EDITABLE_REVIEWS = REVIEW.sources("save")

