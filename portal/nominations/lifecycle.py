"""The nomination's lifecycle: its states and the one table of moves between them.

    draft ──submit──> submitted ──start_review──> under_review ──accept──> accepted
      │                 │  ▲                         │  │       ──reserve─> reserve
      │                 │  └──────── return ─────────┘  │       ──reject──> rejected
      │                 └──return──> returned ──resubmit──> resubmitted ─start_review─┘
      └── withdraw (from every state but rejected and withdrawn) ──> withdrawn

Who may move: the nominating institution (a nominator of the owning institution) submits,
resubmits and withdraws; staff return, start the review and record the outcome. The
nomination's own lifecycle ends at accepted, reserve, rejected or withdrawn; offers and
placements have their own tables (Selection II). Withdrawing an accepted nomination is
allowed (it will be the one way to decline an offer).

Every set of states used elsewhere (editable, counted against limits, returnable...) is
derived below from the table; services call `NOMINATION.check()` before every move.
"""

from __future__ import annotations

import enum

from portal.lifecycle import INSTITUTION, STAFF, Lifecycle, move


class NominationState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # staff asked for changes
    RESUBMITTED = "resubmitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    RESERVE = "reserve"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


S = NominationState

NOMINATION = Lifecycle("nomination", list(NominationState), [
    move("submit", {S.DRAFT}, S.SUBMITTED, INSTITUTION),
    move("resubmit", {S.RETURNED}, S.RESUBMITTED, INSTITUTION),
    move("return", {S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW}, S.RETURNED, STAFF),
    move("start_review", {S.SUBMITTED, S.RESUBMITTED}, S.UNDER_REVIEW, STAFF),
    move("accept", {S.UNDER_REVIEW}, S.ACCEPTED, STAFF),
    move("reserve", {S.UNDER_REVIEW}, S.RESERVE, STAFF),
    move("reject", {S.UNDER_REVIEW}, S.REJECTED, STAFF),
    move("withdraw", {S.DRAFT, S.SUBMITTED, S.RETURNED, S.RESUBMITTED, S.UNDER_REVIEW,
                      S.ACCEPTED, S.RESERVE}, S.WITHDRAWN, INSTITUTION),
])

# The institution edits what it may still (re)submit.
EDITABLE_STATES = NOMINATION.sources("submit") | NOMINATION.sources("resubmit")
# A submission holds its place against the cycle's limits from the first submit until it
# is withdrawn (a returned nomination keeps it while it is being fixed).
COUNTED_STATES = (frozenset({S.SUBMITTED}) | NOMINATION.reachable_from(S.SUBMITTED)) \
    - NOMINATION.targets("withdraw")
RETURNABLE_STATES = NOMINATION.sources("return")
REVIEWABLE_STATES = NOMINATION.sources("start_review")
WITHDRAWABLE_STATES = NOMINATION.sources("withdraw")
OUTCOME_STATES = NOMINATION.targets("accept") | NOMINATION.targets("reserve") \
    | NOMINATION.targets("reject")
FINAL_STATES = NOMINATION.terminal()
