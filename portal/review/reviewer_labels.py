"""What reviewers read for the states of their work, the recommendations and the kinds of
conflict they may declare. Checked against the tables at import, so a state or an option
added without a label fails at start, not on a page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from portal.review.lifecycle import ReviewState
from portal.review.models import ConflictKind, Recommendation

REVIEW_STATE_LABELS: dict[str, LazyString] = {
    ReviewState.NEW: _l("Not started"),
    ReviewState.DRAFT: _l("Draft"),
    ReviewState.SUBMITTED: _l("Submitted"),
}

RECOMMENDATION_LABELS: dict[str, LazyString] = {
    Recommendation.STRONG_YES: _l("Strongly recommend"),
    Recommendation.YES: _l("Recommend"),
    Recommendation.BORDERLINE: _l("Borderline"),
    Recommendation.NO: _l("Do not recommend"),
}

CONFLICT_KIND_LABELS: dict[str, LazyString] = {
    ConflictKind.OWN_INSTITUTION: _l("My own institution"),
    ConflictKind.FORMER_COLLEAGUE: _l("A former colleague"),
    ConflictKind.PERSONAL: _l("A personal or family relation"),
    ConflictKind.COUNTRY: _l("My own country"),
    ConflictKind.OTHER: _l("Another reason"),
}

_missing = (set(ReviewState) - set(REVIEW_STATE_LABELS)) \
    | (set(Recommendation) - set(RECOMMENDATION_LABELS)) \
    | (set(ConflictKind) - set(CONFLICT_KIND_LABELS))
if _missing:  # pragma: no cover - a table change without its labels
    raise RuntimeError(f"review states or options without a label: {sorted(_missing)}")
