"""Forms of the reviewer's pages. The rubric form is built from the cycle's criteria, so
it is parsed here into plain values (scoring.ReviewInput) for the service; the small
forms (decline, conflict, a discussion post) are Flask-WTF forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import Form
from portal.listing import parse_int
from portal.review.models import ConflictKind, Criterion
from portal.review.reviewer_labels import CONFLICT_KIND_LABELS
from portal.review.reviewer_services import REASON_MAX, REASON_MIN
from portal.review.scoring import MAX_REVISION, ReviewInput


def score_field(criterion: Criterion) -> str:
    return f"score-{criterion.id}"


def review_input(form: Mapping[str, str], criteria: Sequence[Criterion]) -> ReviewInput:
    """The rubric form's values. A score that is not a whole number counts as given but
    out of scale (the service refuses it with the criterion's range); blank: not scored."""
    scores: dict[str, int | None] = {}
    for c in criteria:
        raw = (form.get(score_field(c)) or "").strip()
        if not raw:
            scores[str(c.id)] = None
            continue
        value = parse_int(raw, default=None, low=-1000, high=1000)
        scores[str(c.id)] = value if value is not None else c.scale_max + 1
    return ReviewInput(scores=scores,
                       recommendation=(form.get("recommendation") or "").strip(),
                       committee_comment=form.get("committee_comment") or "",
                       applicant_comment=form.get("applicant_comment") or "")


def revision(form: Mapping[str, str]) -> int:
    """The revision number a save carries (0: none, refused by the service)."""
    return parse_int(form.get("revision"), default=0, low=1, high=MAX_REVISION) or 0


class DeclineForm(Form):
    reason = TextAreaField(_l("Why do you decline this assignment?"),
                           validators=[DataRequired(), Length(min=REASON_MIN, max=REASON_MAX)])


class DossierConflictForm(Form):
    kind = SelectField(_l("Kind of conflict"),
                       choices=[(k.value, CONFLICT_KIND_LABELS[k]) for k in ConflictKind],
                       validators=[DataRequired()])
    note = TextAreaField(_l("Note for program staff (optional)"),
                         validators=[Length(max=REASON_MAX)])


class PostForm(Form):
    body = TextAreaField(_l("Your message"), validators=[DataRequired()])
